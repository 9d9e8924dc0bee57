"""Workbench panels: what each domain shows on the staff home page.

core imports no domain app (CONVENTIONS 2), so a domain registers its panel in
its AppConfig.ready(): a template and a function that builds the panel's context
for a request (or returns None when the panel has nothing for this user).  The
home page renders the panels the user's grants allow, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .permissions import can


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    context: Callable[..., dict | None]  # (request) -> context for the template, or None to hide
    permission: str | None = None  # None: every signed-in user
    order: int = 100


_PANELS: dict[str, Panel] = {}


def register(panel: Panel) -> None:
    _PANELS[panel.key] = panel  # re-registering (autoreload, tests) replaces


def panels_for(request) -> list[dict]:
    shown = []
    for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.key)):
        if panel.permission is not None and not can(request.user, panel.permission):
            continue
        context = panel.context(request)
        if context is not None:
            shown.append({"key": panel.key, "template": panel.template, "context": context})
    return shown
