from django.urls import reverse

from zhouxin.testing.outsiders import Case


def cases(personas):
    return [
        # The workbench needs a signed-in user: an anonymous visitor is sent to log in.
        Case("core:home", None, reverse("core:home"), frozenset({302})),
    ]
