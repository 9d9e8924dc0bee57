"""Public sections: what each domain shows on a community's public page (DESIGN §2, "registries,
not fan-in").

The portal's community page knows no domain.  A domain registers a section in its
AppConfig.ready():

    from zhouxin.core import public_sections
    public_sections.register("dispatch.requests", title=gettext_lazy("接诉即办"),
                             template="dispatch/_public_section.html",
                             context=community_figures, order=10)

`context(area)` gets the community (an orgs Area) and returns the template's context,
or None when the domain has nothing to show for it (the section is then left out).
Everything a section shows is public: aggregates and published items only, never a
person's name, phone or a request's text.  A section that fails is logged and left out,
so one domain's bug cannot take the community page down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

logger = logging.getLogger("zhouxin.public_sections")


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    template: str
    context: Callable[[object], dict | None]
    order: int = 100


@dataclass(frozen=True)
class Rendered:
    name: str
    title: str
    html: SafeString


_SECTIONS: dict[str, Section] = {}


def register(name: str, *, title, template: str, context: Callable[[object], dict | None], order: int = 100) -> None:
    """Add (or, on re-registration in autoreload and tests, replace) a section."""
    _SECTIONS[name] = Section(name=name, title=title, template=template, context=context, order=order)


def unregister(name: str) -> None:
    _SECTIONS.pop(name, None)


def sections() -> list[Section]:
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.name))


def render_for(area, *, request=None) -> list[Rendered]:
    """Every registered section that has something to show for `area`, in order."""
    shown: list[Rendered] = []
    for section in sections():
        try:
            context = section.context(area)
            if context is None:
                continue
            html = render_to_string(section.template, {**context, "area": area, "section": section}, request=request)
        except Exception:
            logger.exception("public section %s failed for area %s", section.name, getattr(area, "code", area))
            continue
        shown.append(Rendered(name=section.name, title=str(section.title), html=html))
    return shown
