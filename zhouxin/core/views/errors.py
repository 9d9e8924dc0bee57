from django.shortcuts import render


def permission_denied(request, exception=None):
    return render(request, "core/error.html", {"status": 403, "title": "403"}, status=403)


def page_not_found(request, exception=None):
    return render(request, "core/error.html", {"status": 404, "title": "404"}, status=404)


def csrf_failure(request, reason=""):
    """A form sent without (or with a stale) CSRF token: our page, under our CSP, in Chinese;
    Django's own page has an inline <style> and talks about DEBUG."""
    return render(request, "core/error.html", {"status": 403, "title": "403", "csrf": True}, status=403)
