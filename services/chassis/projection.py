"""Read models: folds of the log that keep the position they have reached.

A :class:`Projector` applies each stored event, once and in position order,
to its folds (see ``services/*/forms.py``). It reads from the store itself,
so a message the broker lost or delivered twice changes nothing: messages
only say "there is something new"; duplicates and gaps are impossible by
construction. The folds live in memory and are rebuilt from the log when a
process starts (a desk's log replays at hundreds of thousands of events per
second: see bench/RESULTS.md).
"""
from __future__ import annotations

import threading
from typing import Iterable

from contracts.base import Registry
from services.chassis.codec import sealed
from services.eventstore import EventStore


class Projector:
    def __init__(self, store: EventStore, registry: Registry, folds: Iterable, until: int | None = None):
        self.store, self.registry = store, registry
        self.folds = list(folds)
        self.until = until  # as-of replay: stop at this position
        self.position = 0
        self._by_type: dict[str, list] = {}
        for fold in self.folds:
            for event_type in fold.handles:
                self._by_type.setdefault(event_type, []).append(fold)
        self._lock = threading.Lock()

    def catch_up(self) -> int:
        """Apply everything after our position; returns the new position."""
        with self._lock:
            for record in self.store.read_all(after=self.position, until=self.until):
                folds = self._by_type.get(record.type)
                if folds:
                    values = sealed(self.registry, record.type,
                                    self.registry.load(record.type, record.schema_version, record.data))
                    for fold in folds:
                        fold.apply(record, values)
                self.position = record.position
            return self.position

    def fold(self, cls):
        return next(fold for fold in self.folds if isinstance(fold, cls))


def replay(store: EventStore, registry: Registry, fold_classes: Iterable[type], *,
           as_of_position: int | None = None, as_of_time: str | None = None) -> Projector:
    """Fresh folds rebuilt from the log, as of a position or recorded time:
    the same code the live read side runs."""
    until = as_of_position
    if as_of_time is not None:
        until = store.position_at(as_of_time)
    projector = Projector(store, registry, [cls() for cls in fold_classes], until=until)
    projector.catch_up()
    return projector
