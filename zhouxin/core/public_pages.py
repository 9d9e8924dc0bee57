"""Public pages: which portal pages each domain publishes, so the integrity monitor watches them
(DESIGN §2, "registries, not fan-in"; publishing.monitor.portal_pages).

The monitor knows the portal's streets and communities itself; a domain that publishes pages
of its own under /portal/ (a co-building project, a funds disclosure) registers them in its
AppConfig.ready():

    from zhouxin.core import public_pages
    public_pages.register("cobuild.projects", published_project_pages)

`pages()` takes no argument and returns {path: label} of every page the domain shows to the
public right now (the label is what the page is about, used by the monitor's reports and its
search-referer probe).  A page that leaves the list leaves the monitor at its next run.

Unlike public sections, a provider that fails is not left out: the monitor would then stop
watching its pages without anyone noticing, so the error reaches the monitor's run.
"""

from __future__ import annotations

from collections.abc import Callable

_PROVIDERS: dict[str, Callable[[], dict[str, str]]] = {}


def register(name: str, pages: Callable[[], dict[str, str]]) -> None:
    """Add (or, on re-registration in autoreload and tests, replace) a provider of public pages."""
    _PROVIDERS[name] = pages


def unregister(name: str) -> None:
    _PROVIDERS.pop(name, None)


def providers() -> list[str]:
    return sorted(_PROVIDERS)


def collect() -> dict[str, str]:
    """Every registered provider's pages, merged (providers in name order; the first label wins)."""
    found: dict[str, str] = {}
    for name in sorted(_PROVIDERS):
        for path, label in _PROVIDERS[name]().items():
            found.setdefault(str(path), str(label))
    return found
