"""Every view refuses personas outside its scope (CONVENTIONS 10)."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

import zhouxin
from zhouxin.testing.outsiders import PUBLIC, Case

ZHOUXIN_NAMESPACES = {"core", "orgs", "dispatch", "api", "portal", "open311", "moderation", "publishing", "conferences",
                      "cobuild", "cobuild_public", "volunteers", "volunteers_public",
                      "workforce", "funds", "funds_public", "centers",
                      "centers_public", "oversight", "analytics"}


def _names(resolver: URLResolver, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            names |= _names(pattern, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{prefix}{pattern.name}")
    return names


def zhouxin_url_names() -> set[str]:
    return {n for n in _names(get_resolver()) if n.split(":")[0] in ZHOUXIN_NAMESPACES or n in PUBLIC}


def case_modules():
    root = Path(zhouxin.__file__).parent
    for app_dir in sorted(root.iterdir()):
        tests = app_dir / "tests"
        if not tests.is_dir():
            continue
        for info in pkgutil.iter_modules([str(tests)]):
            if info.name.startswith("outsiders_"):
                yield importlib.import_module(f"zhouxin.{app_dir.name}.tests.{info.name}")


def all_cases(personas) -> list[Case]:
    cases: list[Case] = []
    for module in case_modules():
        cases.extend(module.cases(personas))
    return cases


def test_every_view_has_an_outsider_case(personas):
    covered = {case.url_name for case in all_cases(personas)} | set(PUBLIC)
    missing = sorted(zhouxin_url_names() - covered)
    assert not missing, f"views without an outsider test: {missing}"


def test_outsiders_are_refused(personas):
    from django.test import Client

    from zhouxin.testing.clients import verified_client

    failures = []
    for case in all_cases(personas):
        client = verified_client(personas, case.persona) if case.persona else Client()
        response = getattr(client, case.method)(case.url, data=case.data or {})
        body = response.content.decode(errors="replace") if hasattr(response, "content") else ""
        leaked = [text for text in case.must_not_contain if text in body]
        if response.status_code not in case.expected or leaked:
            failures.append(f"{case.url_name} as {case.persona} {case.method.upper()} {case.url}: "
                            f"{response.status_code} (expected {sorted(case.expected)}) leaked={leaked}")
    assert not failures, "\n".join(failures)
