"""Shared test fixtures: the personas, verified clients, and the browser set-up."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

os.environ.setdefault("ZHOUXIN_TESTING", "1")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config, items):
    if CHROMIUM:
        return
    skip = pytest.mark.skip(reason="Chromium is not installed (apt-get install chromium); CI installs it")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_classifier(settings, tmp_path_factory):
    """Category models live under VAR_DIR/models: tests never read or write the developer's
    var/ (or another test run's), and every test starts with cold caches, since a rolled-back
    catalogue must not be remembered by the next test."""
    from zhouxin.dispatch import classify

    settings.VAR_DIR = tmp_path_factory.mktemp("var")
    classify.reset_cache()
    yield
    classify.reset_cache()


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """The working-day calendar caches years in-process; a test's rolled-back calendar
    edits must not leak into the next test."""
    from zhouxin.core import policy, workdays

    workdays.invalidate()
    policy.invalidate()
    yield
    workdays.invalidate()
    policy.invalidate()


@pytest.fixture(autouse=True)
def _fresh_intake_lookups():
    """Intake's areas and categories by code are cached per process, and deferred intake
    holds blocks of numbers: a rolled-back area must not be found by the next test, nor a
    number drawn from a rolled-back counter be handed out again."""
    from zhouxin.dispatch import lookup, numbering

    lookup.forget()
    numbering.forget_blocks()
    yield
    lookup.forget()
    numbering.forget_blocks()


@pytest.fixture(autouse=True)
def _fresh_lexicon_cache():
    """The spam lexicon's automaton is cached per process; a test's rolled-back lexicon
    must not screen the next test's text."""
    from zhouxin.moderation import lexicon

    lexicon.reset_cache()
    yield
    lexicon.reset_cache()


@pytest.fixture(autouse=True)
def _rate_windows_start_with_the_test(monkeypatch):
    """Rate limits count hits in fixed windows of the clock (a minute, ten minutes, an hour, a
    day).  A test that makes N hits and expects the next one refused would spread them over two
    windows if it ran across a window's end, and see no refusal.  The limiter's clock therefore
    starts each test one second into a UTC day, which every window divides, and runs on at the
    real pace; tests that set the time themselves (core/tests/test_ratelimit.py) still can."""
    import datetime as dt
    import time
    from types import SimpleNamespace

    from zhouxin.core import ratelimit

    started = time.monotonic()
    origin = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=1, microsecond=0)
    clock = SimpleNamespace(now=lambda: origin + dt.timedelta(seconds=time.monotonic() - started))
    monkeypatch.setattr(ratelimit, "timezone", clock)


@pytest.fixture(autouse=True)
def _default_language():
    """A test that switched the interface to English (a language cookie through the test client
    activates it for the thread) must not leave the next test in English."""
    from django.conf import settings
    from django.utils import translation

    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def personas(db):
    from zhouxin.testing.personas import build_personas

    return build_personas()


@pytest.fixture
def client_for(personas, client):
    """client_for("community_staff") → a test client signed in with password and TOTP verified."""
    from django.test import Client

    from zhouxin.testing.clients import verified_client

    def make(name: str) -> Client:
        return verified_client(personas, name)

    return make


@pytest.fixture(scope="session")  # pytest-playwright's own fixture is session-scoped
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a browser downloaded by Playwright."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def orm_beside_playwright():
    """Playwright's sync API keeps an event loop in the main thread from its first use until the
    end of the session, and Django refuses ORM calls made while a loop runs in the thread.  The
    ORM calls of browser tests (and of every later test, the database flushes included) are
    ordinary synchronous calls, so browser test modules lift the guard with
    `pytest.mark.usefixtures("orm_beside_playwright")` from their first test to the session's end."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Our users' browsers ask for Chinese; the interface answers in zh-Hans."""
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture
def dispatch_world(personas):
    """Categories, routing rules and departments for dispatch tests (zhouxin/testing/dispatch.py)."""
    from zhouxin.testing.dispatch import build_dispatch_world

    return build_dispatch_world(personas)


def _database_url_of_this_test() -> str:
    """A DATABASE_URL for the database this test is using (SQLite file or PostgreSQL test_…)."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    if connection.vendor == "postgresql":
        user = quote(db.get("USER") or "", safe="")
        password = quote(db.get("PASSWORD") or "", safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = db.get("HOST") or "localhost"
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return f"postgres://{auth}{host}{port}/{quote(db['NAME'], safe='')}"
    raise RuntimeError(f"no worker set-up for {connection.vendor}")


@pytest.fixture
def task_worker(transactional_db):
    """`manage.py db_worker` in its own process, on the test database, for the length of the test
    (browser tests whose pages wait for a task: imports, reports)."""
    from django.conf import settings

    env = {**os.environ, "DATABASE_URL": _database_url_of_this_test(), "ZHOUXIN_TESTING": "1", "DB_CONN_MAX_AGE": "0"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--queue-name", "*", "--interval", "0.2",
         "--no-startup-delay", "--no-reload", "-v", "0"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    yield process
    process.terminate()
    try:
        output, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    if process.returncode not in (0, -15):
        print(output.decode(errors="replace"))  # shown by pytest when the test fails
