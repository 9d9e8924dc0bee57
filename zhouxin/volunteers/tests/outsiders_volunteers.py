"""Outsider cases of volunteers (staff pages): staff of another street or district must not
find another community's registrations, activities, sign-ups, wishes or feedback (404), roles
without the volunteers permissions are refused (403), anonymous visitors sent to sign in."""

from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
REFUSED = frozenset({403, 404})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})


def cases(personas) -> list[Case]:
    result: list[Case] = []
    return result
