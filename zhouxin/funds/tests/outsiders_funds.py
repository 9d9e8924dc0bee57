"""Outsider cases of the funds pages: staff of another street or community must not find another
community's funds, plans, vouchers or ledger (404), roles without the funds permissions are
refused (403), anonymous visitors are sent to sign in.  Each part of the domain adds its cases."""

from zhouxin.testing.outsiders import Case  # noqa: F401

ANON = frozenset({302})
REFUSED = frozenset({403, 404})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})


def cases(personas) -> list:
    return []
