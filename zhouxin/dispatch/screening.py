"""The screening hook of intake: every registered screen looks at a request's text.

A screen is a callable `screen(text: str) -> ScreenResult`.  Intake runs every
registered screen on the title, the description and the images' file names; the first that says `hold`
puts the request on hold (status HELD, with the screen's reason) for a street
dispatcher to release or invalidate.  Issue 5 (integrity) registers the real
spam screening from its AppConfig.ready():

    from zhouxin.dispatch import screening
    screening.register(spam_screen)

A screen that raises is logged and skipped: a broken screen must never stop a
resident's request from being received.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger("zhouxin.dispatch.screening")


@dataclass(frozen=True)
class ScreenResult:
    hold: bool
    reason: str = ""


Screen = Callable[[str], ScreenResult]

PASS = ScreenResult(hold=False, reason="")

_screens: list[Screen] = []
_lock = threading.Lock()


def register(screen: Screen) -> Screen:
    """Add a screen (idempotent: registering the same callable twice keeps one).  Usable as a decorator."""
    with _lock:
        if screen not in _screens:
            _screens.append(screen)
    return screen


def unregister(screen: Screen) -> None:
    with _lock:
        if screen in _screens:
            _screens.remove(screen)


def screens() -> tuple[Screen, ...]:
    with _lock:
        return tuple(_screens)


def screen_text(text: str) -> ScreenResult:
    """Run every registered screen; the first hold wins.  Nothing registered → pass."""
    for screen in screens():
        try:
            result = screen(text)
        except Exception:
            logger.exception("screen %r failed; intake goes on without it", screen)
            continue
        if result is not None and result.hold:
            return ScreenResult(hold=True, reason=str(result.reason or "")[:200])
    return PASS
