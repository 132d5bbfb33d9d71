"""The read-model store port: snapshots of a projector's folds, each with
the position it reached, kept beside the log so that a restart resumes
instead of replaying the year.

Every backend (``sqlite.py``, ``mongo.py``) passes the one contract suite in
``tests/contract/readmodel_contract.py``. A snapshot is written in one atomic
step: after a crash at any point the store holds either the new snapshot
whole or the previous one whole, never a mix. Only the newest snapshot of a
projector is kept. States are opaque bytes (the projector pickles them);
each carries a digest that is checked when it is read.
"""
from __future__ import annotations

import abc
import hashlib
from typing import Mapping, NamedTuple


class FoldState(NamedTuple):
    """One fold's persisted state: its fingerprint (code version and the
    schema versions of what it reads), the position it reached, its bytes."""

    version: str
    position: int
    state: bytes


class FoldHeader(NamedTuple):
    """What a snapshot says of one fold without its bytes (:meth:`ReadModelStore.headers`):
    its fingerprint, its position and the digest its bytes must have."""

    version: str
    position: int
    digest: str


class Snapshot(NamedTuple):
    """A projector's newest snapshot. ``position`` is the highest position
    of its folds and ``event_hash`` the log's hash there: by the hash chain
    it names the whole prefix of the log the snapshot was built from."""

    projector: str
    position: int
    event_hash: str
    taken_at: str
    folds: dict[str, FoldState]


def digest(state: bytes) -> str:
    return hashlib.blake2b(state, digest_size=20).hexdigest()


class ReadModelStore(abc.ABC):
    """The port. ``blocking`` is true for a backend whose calls block the
    whole eventlet hub (SQLite): a service runs them in ``eventlet.tpool``."""

    blocking = True

    @abc.abstractmethod
    def save(self, projector: str, position: int, event_hash: str, folds: Mapping[str, FoldState]) -> None:
        """Replace ``projector``'s snapshot with this one, atomically."""

    @abc.abstractmethod
    def load(self, projector: str) -> Snapshot | None:
        """The newest complete snapshot of ``projector``, or None. A fold
        whose bytes fail their digest is left out (it will be rebuilt)."""

    @abc.abstractmethod
    def headers(self, projector: str) -> Snapshot | None:
        """The newest snapshot of ``projector`` with a :class:`FoldHeader`
        for each fold instead of its state, or None: a start reads only
        these, and each fold's bytes when that fold is first needed."""

    @abc.abstractmethod
    def load_state(self, projector: str, fold: str, expected_digest: str) -> bytes | None:
        """One fold's bytes in the newest snapshot, if they have
        ``expected_digest`` (None if damaged, or replaced since the headers
        were read: the fold is then rebuilt, never mixed)."""

    @abc.abstractmethod
    def drop(self, projector: str) -> None:
        """Forget ``projector``'s snapshot (the next start rebuilds)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections; reopening keeps everything."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
