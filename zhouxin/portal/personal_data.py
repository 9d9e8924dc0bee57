"""What other domains hold about a resident account, for the resident's export (PIPL art. 45)
and deletion (art. 47): a registry, so the portal knows no domain (DESIGN §2, "registries,
not fan-in").

A domain registers in its AppConfig.ready():

    from zhouxin.portal import personal_data
    personal_data.register("volunteering", export=volunteering_export, erase=volunteering_erase)

`export(account)` returns JSON-ready data (the resident's own, nothing of other people);
`erase(account)` removes or anonymises it, inside the deletion's transaction, before the
account itself is deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Holder:
    name: str
    export: Callable
    erase: Callable


_HOLDERS: dict[str, Holder] = {}


def register(name: str, *, export: Callable, erase: Callable) -> None:
    _HOLDERS[name] = Holder(name=name, export=export, erase=erase)


def holders() -> list[Holder]:
    return [_HOLDERS[name] for name in sorted(_HOLDERS)]
