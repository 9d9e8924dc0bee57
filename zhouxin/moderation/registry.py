"""Registries of moderation: what the queue lists, and who hears a decision.

Queue sources.  The moderation queue (views.queue) lists everything held, from every
source registered here: the generic ModerationItem rows (sources.ItemSource) and the
requests dispatch's intake put on hold (sources.DispatchSource, status HELD).  A source
answers, for a reviewer, which of its held things they may see (scoped to the areas of
their review grants), how one is shown, and how it is released or rejected — through the
owning domain's own services, never by writing its tables.

Decision reactors.  A domain that held content with services.hold_item(kind=…) registers
`on_decision(kind, reactor)` in its AppConfig.ready(); the reactor is called as
`reactor(item, decision)` (decision "released" or "rejected") inside the reviewer's
transaction, so publishing on release commits together with the decision or not at all.
Side effects (messages, notifications) belong in `transaction.on_commit`.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

RELEASED, REJECTED = "released", "rejected"


@dataclass(frozen=True)
class HeldEntry:
    source: str
    key: str
    title: str
    text: str
    reasons: tuple[str, ...]
    area: str
    held_at: datetime | None
    link: str = ""  # the owning domain's own page for the object, if any
    kind_label: str = ""


class QueueSource(abc.ABC):
    """What a source of held content tells the queue (see the module docstring)."""

    key = ""
    label = ""
    release_label = ""
    reject_label = ""
    # ModerationItem kinds (services.hold_item(kind=…)) this source lists itself, with its own
    # label and links; the generic sources.ItemSource leaves them out, so nothing is listed twice.
    item_kinds: tuple[str, ...] = ()

    @abc.abstractmethod
    def held(self, user):  # a queryset of the held objects the reviewer may see, newest first
        ...

    @abc.abstractmethod
    def entry(self, obj) -> HeldEntry:
        ...

    @abc.abstractmethod
    def get(self, user, key: str):  # the held object, or None when not held or not the reviewer's
        ...

    @abc.abstractmethod
    def release(self, *, actor, obj, note: str) -> None:
        ...

    @abc.abstractmethod
    def reject(self, *, actor, obj, reason: str) -> None:
        ...


_lock = threading.Lock()
_sources: dict[str, QueueSource] = {}
_reactors: dict[str, list[Callable]] = {}


def register_source(source: QueueSource) -> QueueSource:
    with _lock:
        _sources[source.key] = source
    return source


def sources() -> list[QueueSource]:
    with _lock:
        return list(_sources.values())


def claimed_kinds() -> set[str]:
    """The item kinds that a dedicated source lists (QueueSource.item_kinds)."""
    with _lock:
        return {kind for found in _sources.values() for kind in found.item_kinds}


def source(key: str) -> QueueSource | None:
    with _lock:
        return _sources.get(key)


def on_decision(kind: str, reactor: Callable) -> Callable:
    """Call `reactor(item, decision)` when an item of `kind` is released or rejected."""
    with _lock:
        found = _reactors.setdefault(kind, [])
        if reactor not in found:
            found.append(reactor)
    return reactor


def remove_reactor(kind: str, reactor: Callable) -> None:
    with _lock:
        if reactor in _reactors.get(kind, []):
            _reactors[kind].remove(reactor)


def reactors(kind: str) -> tuple[Callable, ...]:
    with _lock:
        return tuple(_reactors.get(kind, ()))
