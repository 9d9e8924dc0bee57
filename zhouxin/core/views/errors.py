from django.shortcuts import render


def permission_denied(request, exception=None):
    return render(request, "core/error.html", {"status": 403, "title": "403"}, status=403)


def page_not_found(request, exception=None):
    return render(request, "core/error.html", {"status": 404, "title": "404"}, status=404)
