"""Withheld pages answer a neutral "页面核查中" page (503), never their content.

A page the integrity monitor found changed (PublishedPage.withheld) is withheld for every
visitor — browsers and crawlers alike — until the security admin has reviewed and
re-approved it.  Only the monitor's own in-process renders (integrity.PROBE) still see the
content.  One indexed query per public GET; staff pages are not looked at.
"""

from django.shortcuts import render

from .integrity import PROBE, PROBE_KEY
from .models import PublishedPage

PUBLIC_PREFIX = "/portal/"
RETRY_AFTER_SECONDS = 600


def is_probe(request) -> bool:
    return request.META.get(PROBE_KEY) is PROBE


def withheld_response(request):
    response = render(request, "publishing/withheld.html", status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


class WithheldPageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (request.method in ("GET", "HEAD") and request.path.startswith(PUBLIC_PREFIX) and not is_probe(request)
                and PublishedPage.objects.filter(path=request.path, withheld=True).exists()):
            return withheld_response(request)
        return self.get_response(request)
