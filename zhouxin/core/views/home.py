from django.shortcuts import render

from ..decorators import staff_view
from ..workbench import panels_for


@staff_view()
def home(request):
    """The workbench: the user's grants, then the panels the domains register."""
    grants = request.user.grants.filter(active=True).select_related("area", "organisation").order_by("area__code")
    return render(request, "core/home.html", {"grants": grants, "panels": panels_for(request)})
