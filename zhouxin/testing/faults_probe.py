"""Request every URL of the project and print what came back, one JSON line per request.

Run in a child process by zhouxin/core/tests/test_faults.py with DATABASE_URL pointing at a
database that is not there (`postgres://postgres@127.0.0.1:1/nowhere`: nothing listens on
port 1), so the whole stack (settings, middleware, URL resolver, views) meets a stopped
database exactly as the web server would:

    DATABASE_URL=postgres://postgres@127.0.0.1:1/nowhere python -m zhouxin.testing.faults_probe

Every URL pattern of the resolver is requested with plausible path parameters (Open311
in .json and .xml), GET and POST, anonymous and with a session cookie (the session can
only be looked up in the database), plus an unknown URL.  Exceptions are not re-raised
(Client(raise_request_exception=False)): what is printed is what a browser would get.
"""

from __future__ import annotations

import json
import os
import sys

SAMPLES = ("1", "11", "json")  # tried in turn until the pattern accepts the value


def _patterns(resolver, ns=""):
    from django.urls import URLPattern, URLResolver

    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern, f"{ns}{pattern.namespace}:" if pattern.namespace else ns)
        elif isinstance(pattern, URLPattern):
            yield pattern, f"{ns}{pattern.name}" if pattern.name else None


def _params(pattern) -> list[str]:
    converters = getattr(pattern.pattern, "converters", None)
    if converters:
        return list(converters)
    return list(pattern.pattern.regex.groupindex)


def urls() -> list[tuple[str, str]]:
    """(url name, concrete URL) for every named pattern; unnamed ones are reported as errors."""
    from django.urls import NoReverseMatch, get_resolver, reverse

    found = []
    for pattern, name in _patterns(get_resolver()):
        if name is None:
            found.append(("<unnamed>", str(pattern.pattern)))
            continue
        params = _params(pattern)
        variants = [{}]
        for param in params:
            values = ["json", "xml"] if param == "fmt" else list(SAMPLES)
            variants = [{**v, param: value} for v in variants for value in values]
        seen_fmt = set()
        for kwargs in variants:
            key = kwargs.get("fmt")
            if key in seen_fmt:
                continue
            try:
                url = reverse(name, kwargs=kwargs)
            except NoReverseMatch:
                continue
            found.append((name, url))
            seen_fmt.add(key)
            if "fmt" not in kwargs:
                break
        else:
            if not seen_fmt:
                found.append((name, "<no plausible parameters>"))
    found.append(("<unknown>", "/no-such-page/"))
    found.append(("<unknown>", "/api/v1/no-such-endpoint/"))
    return found


RESTART_URLS = ("/", "/accounts/login/", "/portal/", "/open311/v2/services.json", "/open311/v2/discovery.xml",
                "/api/v1/areas/")


def restart() -> int:
    """Serve RESTART_URLS, run ZX_PG_STOP, serve them again (first with the connection opened
    before the stop still in place, then as the next request would), run ZX_PG_START, serve
    them once more; one JSON line per phase: {"phase", "answers": {url: [status, type, traceback?]}}."""
    import shlex
    import subprocess

    from django.test import Client

    def serve(phase: str, *, health_checks: bool = True) -> None:
        from django.db import connection

        if connection.connection is not None:  # off: the stale connection fails inside the request
            connection.health_check_enabled = health_checks
        answers = {}
        for url in RESTART_URLS:
            response = Client(raise_request_exception=False).get(url)
            answers[url] = [response.status_code, response.get("Content-Type", ""),
                            "Traceback" in response.content.decode("utf-8", "replace")]
        print(json.dumps({"phase": phase, "answers": answers}, ensure_ascii=False), flush=True)

    serve("running")
    subprocess.run(shlex.split(os.environ["ZX_PG_STOP"]), check=True, capture_output=True)
    serve("stopped, stale connection", health_checks=False)
    serve("stopped")
    subprocess.run(shlex.split(os.environ["ZX_PG_START"]), check=True, capture_output=True)
    serve("restarted")
    return 0


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhouxin.settings")
    import django

    django.setup()
    from django.test import Client

    if "--restart" in sys.argv:
        return restart()
    for name, url in urls():
        if url.startswith("<"):
            print(json.dumps({"name": name, "url": url, "error": "cannot build a URL"}, ensure_ascii=False))
            continue
        for session in (False, True):
            client = Client(raise_request_exception=False)
            if session:
                client.cookies["sessionid"] = "s" * 32
                client.cookies["csrftoken"] = "c" * 32
            for method in ("get", "post"):
                headers = {"HTTP_X_CSRFTOKEN": "c" * 32} if session else {}
                try:
                    response = getattr(client, method)(url, **headers)
                except Exception as exc:  # the probe must report, not stop
                    print(json.dumps({"name": name, "url": url, "method": method, "session": session,
                                      "raised": repr(exc)}, ensure_ascii=False))
                    continue
                body = b"".join(response.streaming_content) if response.streaming else response.content
                print(json.dumps({
                    "name": name, "url": url, "method": method, "session": session,
                    "status": response.status_code, "content_type": response.get("Content-Type", ""),
                    "retry_after": response.get("Retry-After"), "body": body.decode("utf-8", "replace"),
                }, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
