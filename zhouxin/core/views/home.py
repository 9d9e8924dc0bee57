from django.shortcuts import render

from ..decorators import staff_view


@staff_view()
def home(request):
    grants = request.user.grants.filter(active=True).select_related("area", "organisation").order_by("area__code")
    return render(request, "core/home.html", {"grants": grants})
