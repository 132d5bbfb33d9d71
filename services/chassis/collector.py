"""The cyclic garbage collector and the read models' millions of objects.

A full collection walks every object the process tracks: on the simulated
year, the forms service's folds make a full collection last 0.5-0.9 s, a
stall of every request. Unpickling or rebuilding them with the collector on
triggers such collections over and over (unpickling every found-item form
took 1.8 s with it, 0.3 s without). Folds make no reference cycles, so the
collector is paused while they are made (:class:`collector_paused`) and, once
a service's read models are all in memory, :func:`freeze` moves them out of
its reach for good (they are still freed as usual when nothing refers to
them).
"""
from __future__ import annotations

import gc


class collector_paused:
    """The cyclic garbage collector off while a catch-up or an unpickling
    makes millions of objects (folds make no cycles): each full collection
    would walk the whole, growing heap. Re-entrant; restores what it found."""

    depth = 0

    def __enter__(self):
        if collector_paused.depth == 0:
            self.was_enabled = gc.isenabled()
            gc.disable()
        collector_paused.depth += 1

    def __exit__(self, *exc_info):
        collector_paused.depth -= 1
        if collector_paused.depth == 0 and getattr(self, "was_enabled", False):
            gc.enable()


_freezing = False


def freeze_in_this_process() -> None:
    """Let :func:`freeze` act: a service's own process (``services.chassis.run``)
    calls it; a test that runs containers inside its process leaves its heap alone."""
    global _freezing
    _freezing = True


def freeze() -> bool:
    """Leave every object made so far out of later collections (``gc.freeze``;
    no collection first: it would be the very stall this avoids, and what
    garbage a start leaves in cycles is small and made once). True if it did."""
    if _freezing:
        gc.freeze()
    return _freezing
