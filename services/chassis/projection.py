"""Read models: folds of the log that keep the position they have reached.

A :class:`Projector` applies each stored event, once and in position order,
to its folds (see ``services/*/forms.py``). It reads from the store itself,
so a message the broker lost or delivered twice changes nothing: messages
only say "there is something new"; duplicates and gaps are impossible by
construction. Stored data is turned into values by the compiled loaders of
``contracts.fastload`` (the same values ``registry.load`` gives, without
marshmallow on the read path).

The fold protocol: ``name``, ``handles`` (event types) and ``apply(record,
values)``; for persistence also ``version`` (an int: raise it whenever the
fold's code changes what its state holds) and, optionally, ``snapshot() ->
state`` and ``restore(state)``. Without those two the fold's instance
attributes are its state (plain dicts, lists, tuples, dates: picklable). A
fold that keeps parts of its state packed until used (``Buckets``) may have
``read_back() -> bool``: read one more part back, False when none is left.

Persistence (``readmodels``, a :class:`~services.chassis.readmodels.ReadModelStore`):
a named projector writes a snapshot of every fold's state, each with the
position it reached, in one atomic write, every ``snapshot_events`` events
or ``snapshot_seconds`` seconds (:meth:`Projector.maybe_snapshot`) and when
its service stops; when it starts (:meth:`Projector.restore`) it takes each
fold's state from the newest snapshot whose fold fingerprint (the fold's
``version`` and the schema versions of the events it handles) matches the
code, replays from scratch the folds that do not match, and catches up from
there. A rebuild from scratch stays what ``replay`` does, and what tests
compare a resumed projector against.
"""
from __future__ import annotations

import logging
import pickle
import threading
import time
from typing import Callable, Iterable, NamedTuple

from contracts.base import Registry
from contracts.fastload import FastLoader
from services.chassis.codec import SEALING, sealed, sealer
from services.chassis.collector import collector_paused
from services.eventstore import EventStore

log = logging.getLogger(__name__)

SNAPSHOT_EVENTS = 20_000
SNAPSHOT_SECONDS = 300.0
PAUSE_EVERY = 500  # records between two pauses of a long catch-up: a request waits a few ms per hub turn


def _direct(fn, *args):
    return fn(*args)


def fold_fingerprint(fold, registry: Registry) -> str | None:
    """What a fold's persisted state depends on: its ``version`` and the
    current schema version of every event type it handles. None for a fold
    without a ``version``: it is never persisted, always rebuilt."""
    version = getattr(fold, "version", None)
    if version is None:
        return None
    schemas = ",".join(f"{event_type}.v{registry.current_version(event_type)}" for event_type in sorted(fold.handles))
    return f"{version}|{schemas}"


def fold_state(fold):
    return fold.snapshot() if hasattr(fold, "snapshot") else dict(vars(fold))


def restore_fold(fold, state) -> None:
    if hasattr(fold, "restore"):
        fold.restore(state)
    else:
        vars(fold).update(state)


class Restored(NamedTuple):
    """What :meth:`Projector.restore` did: the folds resumed from the
    snapshot, the folds rebuilt from scratch (and why), the position reached."""

    resumed: tuple[str, ...]
    rebuilt: dict[str, str]
    position: int


class Projector:
    """Folds over the log with their position. ``name`` and ``readmodels``
    make it persistent (see the module). ``offload(fn, *args)`` runs the
    long parts of a snapshot or a restore (pickling, a SQLite read or write)
    away from the caller's thread: ``eventlet.tpool.execute`` in a nameko
    service. ``pause()`` is called every ``PAUSE_EVERY`` records of a long
    catch-up (``eventlet.sleep`` in a service: its heartbeats and other
    requests go on while a year is replayed)."""

    def __init__(self, store: EventStore, registry: Registry, folds: Iterable, until: int | None = None, *,
                 name: str | None = None, readmodels=None, snapshot_events: int = SNAPSHOT_EVENTS,
                 snapshot_seconds: float = SNAPSHOT_SECONDS, offload: Callable = _direct,
                 loader: FastLoader | None = None, pause: Callable[[], object] | None = None):
        self.store, self.registry = store, registry
        self._pause = pause
        self.folds = list(folds)
        self.until = until  # as-of replay: stop at this position
        self.position = 0
        self.name, self.readmodels = name, readmodels
        self.snapshot_events, self.snapshot_seconds = snapshot_events, snapshot_seconds
        self._offload = offload
        self.loader = loader or FastLoader(registry, SEALING)
        self._lock = threading.Lock()
        self._pending: dict[int, object] = {}  # fold index -> its FoldState (or FoldHeader), not yet unpickled
        self._behind: dict[int, int] = {}      # fold index -> its position, while behind the others
        self._activation_locks: dict[int, threading.Lock] = {}
        self._live()
        self.snapshot_position = 0
        self._snapshot_at = time.monotonic()
        self._reached = 0
        self.changed = False  # the folds hold something their newest snapshot does not

    def _live(self) -> None:
        """Route each event type to the folds in memory (not those still pending)."""
        self._by_type: dict[str, list] = {}
        for index, fold in enumerate(self.folds):
            if index not in self._pending:
                for event_type in fold.handles:
                    self._by_type.setdefault(event_type, []).append(fold)
        self._dispatch: dict[str, tuple] = {}

    # -- applying the log --------------------------------------------------------------
    def _route(self, event_type: str, folds: list) -> tuple:
        """(current schema version, data -> values, the folds' apply): values
        with their encrypted personal leaves as Sealed, as the codec gives them."""
        compiled = self.loader.compiled(event_type)
        load = compiled.load_sealed  # None: the loader did not seal (see contracts.fastload)
        if load is None:
            load, seal_values = compiled.load, sealer(self.registry, event_type)
            if seal_values is not None:
                load = lambda data, load=load: seal_values(load(data))  # noqa: E731
        return compiled.version, load, tuple(fold.apply for fold in folds)

    def catch_up(self) -> int:
        """Apply everything after our position; returns the new position."""
        with self._lock:
            return self._catch_up()

    def _catch_up(self) -> int:
        with collector_paused():
            if self._behind:
                self._catch_up_lagging()
            try:
                self._apply(self.position, self.until, self._by_type, self._dispatch)
            finally:
                self.changed |= self._reached != self.position
                self.position = self._reached
        return self.position

    def _apply(self, after: int, until: int | None, by_type: dict, dispatch: dict) -> None:
        """Apply records after ``after`` (to ``until``) to the folds of
        ``by_type``; ``self._reached`` is the last position applied, also
        when a fold raises."""
        position = after
        load_slowly = self.loader.load
        pause, countdown = self._pause, PAUSE_EVERY
        try:
            for record in self.store.read_for_folds(after=after, until=until):
                if pause is not None:
                    countdown -= 1
                    if not countdown:
                        countdown = PAUSE_EVERY
                        pause()
                route = dispatch.get(record.type)
                if route is None:
                    folds = by_type.get(record.type)
                    if folds is None:
                        position = record.position
                        continue
                    route = dispatch[record.type] = self._route(record.type, folds)
                version, load, applies = route
                try:
                    if record.schema_version == version:
                        values = load(record.data)
                    else:  # an old version: upcast, then the same compiled loader
                        values = load(self.registry.upcast(record.type, record.schema_version, record.data)[1])
                except Exception:
                    values = sealed(self.registry, record.type,
                                    load_slowly(record.type, record.schema_version, record.data))
                for apply in applies:
                    apply(record, values)
                position = record.position
        finally:
            self._reached = position

    def _catch_up_lagging(self) -> None:
        """Bring folds restored at older positions (or rebuilt from 0) up to
        the others, each from its own position, the furthest behind first."""
        while self._behind:
            start = min(self._behind.values())
            group = [index for index, position in self._behind.items() if position == start]
            until = min([position for position in self._behind.values() if position > start] + [self.position])
            by_type: dict[str, list] = {}
            for index in group:
                for event_type in self.folds[index].handles:
                    by_type.setdefault(event_type, []).append(self.folds[index])
            try:
                self._apply(start, until, by_type, {})
            finally:
                for index in group:
                    self._behind[index] = self._reached
            for index in group:
                if self._behind[index] >= self.position:
                    del self._behind[index]

    def fold(self, cls):
        """The fold of class ``cls``, in memory and at the projector's position."""
        index, fold = next((index, fold) for index, fold in enumerate(self.folds) if isinstance(fold, cls))
        if index in self._pending:
            self._activate(index)
        return fold

    # -- persistence ---------------------------------------------------------------------
    def restore(self, lazily: bool = False, catch_up: bool = True) -> Restored:
        """Resume from the newest usable snapshot (see the module): each
        fold whose fingerprint matches takes its saved state, the others
        rebuild from scratch; then everything catches up. ``lazily`` reads
        only the folds' headers now, and each fold's saved state when the
        fold is first asked for (:meth:`fold`) or :meth:`restore_pending`
        reads it: a service answers sooner.
        ``catch_up=False`` leaves the catch-up (a rebuild from scratch
        included) to the next :meth:`catch_up`, e.g. a background greenlet's."""
        rebuilt: dict[str, str] = {}
        resumed: list[str] = []
        with self._lock:  # a catch-up asked for meanwhile (a request) waits for the snapshot
            snapshot = None
            if self.readmodels is not None and self.name is not None and self.until is None:
                # lazily: only the folds' headers now, each fold's bytes when it is activated
                snapshot = self._stored(self.readmodels.headers if lazily else self.readmodels.load, self.name)
            if snapshot is not None and not self._belongs_to_log(snapshot):
                rebuilt["*"] = f"the snapshot at {snapshot.position} is not of this log"
                snapshot = None
            for index, fold in enumerate(self.folds):
                saved = snapshot.folds.get(fold.name) if snapshot is not None else None
                fingerprint = fold_fingerprint(fold, self.registry)
                if saved is None:
                    rebuilt.setdefault(fold.name, "no snapshot")
                elif fingerprint is None:
                    rebuilt[fold.name] = "the fold has no version"
                elif saved.version != fingerprint:
                    rebuilt[fold.name] = f"the fold changed ({saved.version} -> {fingerprint})"
                else:
                    resumed.append(fold.name)
                    self._pending[index] = saved
                    continue
                self._behind[index] = 0
            self.position = max([saved.position for saved in self._pending.values()], default=0)
            self._behind = {index: position for index, position in self._behind.items() if position < self.position}
            self.snapshot_position = self.position
            self.changed = any(name != "*" for name in rebuilt)
            self._live()
            if catch_up:
                self._catch_up()
        if not lazily:
            for index in list(self._pending):
                self._activate(index)
        self._snapshot_at = time.monotonic()
        log.info("projector %s restored at %d: %d folds from the snapshot, %d rebuilt", self.name, self.position,
                 len(resumed), len(rebuilt))
        return Restored(tuple(resumed), rebuilt, self.position)

    @property
    def pending_folds(self) -> int:
        """How many restored folds are still to be read back (see :meth:`restore`)."""
        return len(self._pending)

    def restore_pending(self) -> bool:
        """Read one more saved fold state into memory, then one more part of
        a fold that keeps parts packed (its ``read_back()``); False when none is left."""
        pending = next(iter(self._pending), None)
        if pending is not None:
            self._activate(pending)
            if self._pending:
                return True
        return any(fold.read_back() for fold in self.folds if hasattr(fold, "read_back"))

    def _activate(self, index: int) -> None:
        """Unpickle a pending fold's state (outside the projector's lock: the
        other folds go on serving), then catch it up from its own position."""
        with self._activation_locks.setdefault(index, threading.Lock()):
            saved = self._pending.get(index)
            if saved is None:
                return  # another caller activated it meanwhile
            fold = self.folds[index]
            try:
                data = self._saved_bytes(fold, saved)
                if data is None:
                    raise LookupError("its bytes are gone or damaged")
                with collector_paused():
                    state = self._offload(pickle.loads, data)
            except Exception as exc:  # a state that cannot be read is rebuilt, never trusted
                log.warning("projector %s: the state of %s is unreadable (%s): rebuilding it", self.name,
                            fold.name, type(exc).__name__)
                state = None
            with self._lock:
                position = 0  # unreadable: the fold, untouched since it was made, rebuilds
                if state is not None:
                    try:
                        restore_fold(fold, state)
                        position = saved.position
                    except Exception:
                        log.warning("projector %s: %s refused its saved state: rebuilding it", self.name, fold.name)
                        type(fold).__init__(fold)  # a fold with its own restore() makes itself anew without arguments
                if position == 0:
                    self.changed = True
                del self._pending[index]
                if position < self.position:
                    self._behind[index] = position
                self._live()
                self._catch_up()

    def _saved_bytes(self, fold, saved) -> bytes | None:
        """A pending fold's pickled state: in hand (a ``FoldState``), or read
        now by the digest its header gave (a ``FoldHeader``, restored lazily)."""
        if hasattr(saved, "state"):
            return saved.state
        return self._stored(self.readmodels.load_state, self.name, fold.name, saved.digest)

    def _stored(self, fn, *args):
        """A call of the read-model store: offloaded when it blocks the hub (SQLite)."""
        if getattr(self.readmodels, "blocking", True):
            return self._offload(fn, *args)
        return fn(*args)

    def _belongs_to_log(self, snapshot) -> bool:
        if snapshot.position == 0:
            return True
        records = list(self.store.read_all(after=snapshot.position - 1, until=snapshot.position))
        return bool(records) and records[0].hash == snapshot.event_hash

    def snapshot(self) -> bool:
        """Write a snapshot of every persistable fold now, in one atomic
        write. Folds are pickled one at a time, each under the projector's
        lock (a catch-up waits at most for one fold), each with the position
        it had; a fold still pending keeps the state it was saved with."""
        if self.readmodels is None or self.name is None or self.until is not None:
            return False
        from services.chassis.readmodels import FoldState
        states: dict[str, FoldState] = {}
        for index, fold in enumerate(self.folds):
            fingerprint = fold_fingerprint(fold, self.registry)
            if fingerprint is None:
                continue
            with self._lock:
                if index in self._behind:
                    return False  # not caught up yet: nothing consistent to keep
                saved = self._pending.get(index)
                if saved is not None:  # kept as it was saved (its bytes read back if only its header is here)
                    data = self._saved_bytes(fold, saved)
                    if data is None:
                        return False  # gone meanwhile: it will be rebuilt when activated
                    states[fold.name] = FoldState(saved.version, saved.position, data)
                    continue
                position = self.position
                with collector_paused():
                    state = self._offload(pickle.dumps, fold_state(fold), pickle.HIGHEST_PROTOCOL)
            states[fold.name] = FoldState(fingerprint, position, state)
        if not states:
            return False
        top = max(state.position for state in states.values())
        records = list(self.store.read_all(after=top - 1, until=top)) if top else []
        event_hash = records[0].hash if records else ""
        self._stored(self.readmodels.save, self.name, top, event_hash, states)
        self.snapshot_position = top
        self._snapshot_at = time.monotonic()
        self.changed = False
        log.info("projector %s: snapshot at %d (%d folds, %d bytes)", self.name, top, len(states),
                 sum(len(state.state) for state in states.values()))
        return True

    def snapshot_due(self) -> bool:
        if self.readmodels is None or self.name is None or not self.changed:
            return False
        return (self.position - self.snapshot_position >= self.snapshot_events
                or time.monotonic() - self._snapshot_at >= self.snapshot_seconds)

    def maybe_snapshot(self) -> bool:
        """A snapshot when ``snapshot_events`` events or ``snapshot_seconds``
        passed since the last one (and the position moved)."""
        return self.snapshot() if self.snapshot_due() else False


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
