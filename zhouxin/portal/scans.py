"""A scanned check-in code remembered across the sign-in step.

A resident who scans a code before signing in is sent through the portal's sign-in; the page
remembers when the code was scanned (in the session, under a key of the scanned token's hash,
the newest few only), so the check-in counts at the moment of the scan, not of the sign-in.
Used by the volunteers' activity codes and the centres' event codes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time

KEPT = 5


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def remember(request, session_key: str, token: str) -> None:
    scans = dict(request.session.get(session_key) or {})
    scans[_key(token)] = time.time()
    request.session[session_key] = dict(sorted(scans.items(), key=lambda kv: kv[1])[-KEPT:])


def scanned_at(request, session_key: str, token: str) -> dt.datetime | None:
    seen = (request.session.get(session_key) or {}).get(_key(token))
    if not isinstance(seen, int | float):
        return None
    return dt.datetime.fromtimestamp(seen, tz=dt.UTC)
