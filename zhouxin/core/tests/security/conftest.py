"""One crawl of the whole site, shared by the header, XSS and personal-data tests.

It runs once per test session inside a transaction that is rolled back at once, so the
tests that use it only read its pages and no other test sees its rows."""

from __future__ import annotations

import pytest
from django.db import transaction


@pytest.fixture(scope="session")
def crawled(django_db_setup, django_db_blocker, tmp_path_factory):
    from .crawl import crawl_everything

    with django_db_blocker.unblock(), transaction.atomic():
        result = crawl_everything(tmp_path_factory.mktemp("security-var"))
        transaction.set_rollback(True)
    return result
