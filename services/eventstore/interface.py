"""The event store port: one append-only log of domain events.

Every backend (``sqlite.py``, ``mongo.py``) implements :class:`EventStore` and
passes the one contract suite in ``tests/contract/``. Nothing here imports a
driver; backends translate driver errors into the errors below.

Vocabulary
- *stream*: the events of one thing (a found item, one desk's duty day), each
  with a stream *version* counting from 1 without gaps.
- *position*: the place of an event in the whole log, counting from 1 without
  gaps, in the order appends committed. A reader that has seen position P never
  later finds a new event at a position <= P.
- Times are UTC ISO-8601 strings of fixed width (see :func:`format_time`), so
  they compare as text and hash the same on every backend.
"""
from __future__ import annotations

import abc
import datetime as dt
import os
import re
import time
from typing import Iterator, NamedTuple, Protocol, Sequence

import orjson

from services.eventstore.errors import DamagedRecord, InvalidEvent

GENESIS_HASH = "0" * 64

_json_loads = orjson.loads

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_time(moment: dt.datetime) -> str:
    """A timezone-aware datetime as the store's fixed-width UTC text."""
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(dt.timezone.utc).strftime(TIME_FORMAT)


_TIME_SHAPE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
_from_iso = dt.datetime.fromisoformat


def parse_time(text: str) -> dt.datetime:
    """The store's time text as a datetime; ValueError for anything else.
    The regex pins the one shape; ``fromisoformat`` (which reads the ``Z``
    from Python 3.11) checks the ranges. Paid for every event of every
    append, so no ``strptime`` (about 15 times slower)."""
    if not isinstance(text, str) or not _TIME_SHAPE.fullmatch(text):
        raise ValueError(f"not a store time: {text!r}")
    return _from_iso(text)


def utc_now() -> str:
    now = dt.datetime.now(dt.timezone.utc)  # format_time's text, without strftime's cost
    return (f"{now.year:04d}-{now.month:02d}-{now.day:02d}T{now.hour:02d}:{now.minute:02d}:"
            f"{now.second:02d}.{now.microsecond:06d}Z")


def new_event_id(_now_ns=time.time_ns, _random=os.urandom) -> str:
    """A UUID version 7 (RFC 9562): unix milliseconds first, then random bits.
    Ids made later sort later, so the unique index on event ids grows at its
    right edge instead of touching a random page for every event."""
    random_bits = int.from_bytes(_random(10), "big") & _UUID7_RANDOM_MASK | _UUID7_VERSION_AND_VARIANT
    h = ((_now_ns() // 1_000_000) << 80 | random_bits).to_bytes(16, "big").hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"  # str(uuid.UUID(...)) at a tenth of the cost


# the low 80 bits of a UUIDv7: version 7 in bits 76-79, variant 0b10 in bits 62-63, random elsewhere
_UUID7_RANDOM_MASK = 0x0FFF_3FFF_FFFF_FFFF_FFFF
_UUID7_VERSION_AND_VARIANT = 0x7000_8000_0000_0000_0000


METADATA_KEYS = ("actor", "desk", "cosigner", "correlation_id", "causation_id", "command_id")


class _NewEventFields(NamedTuple):
    type: str
    data: dict
    occurred_at: str
    schema_version: int = 1
    metadata: dict | None = None  # NewEvent makes it {} when not given
    event_id: str | None = None   # NewEvent makes a new_event_id() when not given


class NewEvent(_NewEventFields):
    """An event to append. ``occurred_at`` is business time and comes with the
    command; ``recorded_at`` is set by the store when the append commits.

    Immutable, like every record here. A NamedTuple with its own ``__new__``
    rather than a frozen dataclass: one is made for every event of every
    append, and a frozen dataclass's ``__init__`` costs twice as much."""

    __slots__ = ()

    def __new__(cls, type: str, data: dict, occurred_at: str, schema_version: int = 1,
                metadata: dict | None = None, event_id: str | None = None):
        return tuple.__new__(cls, (type, data, occurred_at, schema_version,
                                   {} if metadata is None else metadata,
                                   new_event_id() if event_id is None else event_id))


class StoredEvent(NamedTuple):
    """One record of the log, exactly as stored (old schema versions are not
    upcast here: see ``contracts.registry``)."""

    position: int
    stream_id: str
    version: int
    event_id: str
    type: str
    schema_version: int
    data: dict
    metadata: dict
    occurred_at: str
    recorded_at: str
    prev_hash: str
    hash: str


class RawRecord(NamedTuple):
    """One record as the database holds it, for verification: ``data`` and
    ``metadata`` are the stored JSON text as bytes, never parsed, so a hash
    over them covers exactly what is stored. A field altered outside the
    store may hold anything here (another type, invalid JSON); only the
    verifier judges it."""

    position: int
    stream_id: object
    version: object
    event_id: object
    type: object
    schema_version: object
    data: bytes
    metadata: bytes
    occurred_at: object
    recorded_at: object
    prev_hash: object
    hash: object


class AppendResult(NamedTuple):
    """What an append made. ``duplicate`` is true when the command id had been
    seen before: then ``events`` are the ones the first append stored."""

    stream_id: str
    events: tuple[StoredEvent, ...]
    version: int
    duplicate: bool = False

    @property
    def last_position(self) -> int:
        return self.events[-1].position if self.events else 0


class FoldRecord(NamedTuple):
    """A record as a read model folds it: everything but the metadata and the
    hashes, which no fold reads (a replay then skips parsing and carrying them)."""

    position: int
    stream_id: str
    version: int
    event_id: str
    type: str
    schema_version: int
    data: dict
    occurred_at: str
    recorded_at: str


class Head(NamedTuple):
    position: int
    hash: str
    recorded_at: str | None


class Lease(NamedTuple):
    """Who holds a lease and until when (unix seconds, the holder's clock)."""

    name: str
    owner: str
    expires_at: float


class EventValidator(Protocol):
    """Checks an event against its contract before anything is written.
    ``contracts.registry`` is the one used in every service."""

    def validate(self, event_type: str, schema_version: int, data: dict) -> None:
        """Raise :class:`InvalidEvent` naming what is wrong."""


class EventStore(abc.ABC):
    """The port. Every method is safe to call from several threads and, for
    the on-disk backends, several processes."""

    def __init__(self, validator: EventValidator | None = None):
        self._validator = validator

    # -- writing -----------------------------------------------------------
    @abc.abstractmethod
    def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int,
        command_id: str | None = None,
    ) -> AppendResult:
        """Append ``events`` to ``stream_id`` atomically, all or nothing.

        ``expected_version`` is the stream's version the caller decided on
        (0 for a new stream); any other current version raises
        :class:`ConcurrencyError` and appends nothing. A ``command_id`` seen
        before on this stream returns the first append's result and appends
        nothing; seen before on another stream it raises
        :class:`CommandIdConflict`. Events failing the validator raise
        :class:`InvalidEvent`.
        """

    # -- reading -----------------------------------------------------------
    @abc.abstractmethod
    def read_stream(self, stream_id: str, after_version: int = 0) -> list[StoredEvent]:
        """The stream's events in version order (:class:`DamagedRecord` as in
        :meth:`read_all`)."""

    @abc.abstractmethod
    def read_all(
        self, after: int = 0, until: int | None = None, limit: int | None = None
    ) -> Iterator[StoredEvent]:
        """Events with ``after < position <= until`` in position order, at most
        ``limit`` of them; streamed in pages, so a full replay is cheap. A
        record whose stored JSON cannot be parsed raises
        :class:`DamagedRecord` naming its position."""

    def read_for_folds(self, after: int = 0, until: int | None = None) -> Iterator[FoldRecord]:
        """``read_all`` without metadata and hashes, for read models: the
        same records, order and damage checks on ``data``; a backend makes it
        cheaper than ``read_all``."""
        for record in self.read_all(after=after, until=until):
            yield FoldRecord(record.position, record.stream_id, record.version, record.event_id, record.type,
                             record.schema_version, record.data, record.occurred_at, record.recorded_at)

    @abc.abstractmethod
    def read_raw(self, after: int = 0, until: int | None = None) -> Iterator[RawRecord]:
        """Records with ``after < position <= until`` as stored (see
        :class:`RawRecord`), in position order, for verification and export.
        Never parses data or metadata, so damage there never raises."""

    @abc.abstractmethod
    def head(self) -> Head:
        """The newest record's position and hash (0 and the genesis hash when
        the log is empty)."""

    @abc.abstractmethod
    def stream_version(self, stream_id: str) -> int:
        """The stream's current version, 0 when it has no events."""

    @abc.abstractmethod
    def command_result(self, command_id: str) -> AppendResult | None:
        """The result of the append that carried ``command_id``, if any."""

    @abc.abstractmethod
    def position_at(self, recorded_at: str) -> int:
        """The last position recorded at or before ``recorded_at`` (0 if
        none): reading ``read_all(until=position_at(t))`` is the log as of t."""

    # -- consumers' bookkeeping, kept in the store's own database ----------
    @abc.abstractmethod
    def get_checkpoint(self, name: str) -> int:
        """The position a consumer (the relay, a projection) has handled."""

    @abc.abstractmethod
    def save_checkpoint(self, name: str, position: int) -> None:
        """Record progress; a checkpoint never moves backwards."""

    @abc.abstractmethod
    def acquire_lease(self, name: str, owner: str, ttl_seconds: float) -> bool:
        """Take or renew the lease ``name`` for ``owner`` until ttl from now.
        False while someone else holds an unexpired lease."""

    @abc.abstractmethod
    def release_lease(self, name: str, owner: str) -> None:
        """Give the lease up if ``owner`` holds it."""

    @abc.abstractmethod
    def lease(self, name: str) -> Lease | None:
        """The lease ``name`` as last taken or renewed, None once released (or
        never taken). It may have expired: compare ``expires_at`` with now."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections. Closing and reopening keeps everything."""

    # -- shared by backends --------------------------------------------------
    def _check_new_events(self, stream_id: str, events: Sequence[NewEvent], expected_version: int) -> None:
        def _storable_id(text: str) -> bool:
            # a lone surrogate cannot be encoded (sqlite3, BSON); NUL ends a C string
            try:
                return "\x00" not in text and bool(text.encode("utf-8"))
            except UnicodeEncodeError:
                return False

        if not isinstance(stream_id, str) or not stream_id or len(stream_id) > 200:
            raise InvalidEvent("stream_id", "must be a non-empty string of at most 200 characters")
        if not _storable_id(stream_id):
            raise InvalidEvent("stream_id", "must be UTF-8 text without NUL (no lone surrogate)")
        if not isinstance(expected_version, int) or expected_version < 0:
            raise InvalidEvent("expected_version", "must be an integer >= 0")
        if not events:
            raise InvalidEvent("events", "an append needs at least one event")
        event_ids = set()
        for index, event in enumerate(events):
            if not isinstance(event, NewEvent):
                raise InvalidEvent(f"events[{index}]", "must be a NewEvent")
            if not isinstance(event.event_id, str) or not event.event_id:
                raise InvalidEvent(f"events[{index}].event_id", "must be a non-empty string")
            if not _storable_id(event.event_id):
                raise InvalidEvent(f"events[{index}].event_id", "must be UTF-8 text without NUL (no lone surrogate)")
            if event.event_id in event_ids:
                raise InvalidEvent(f"events[{index}].event_id", "repeats an event id of this append")
            event_ids.add(event.event_id)
            try:
                parse_time(event.occurred_at)
            except (TypeError, ValueError):
                raise InvalidEvent(f"events[{index}].occurred_at", f"must be UTC time like 2026-05-01T08:30:00.000000Z, got {event.occurred_at!r}")
            if self._validator is not None:
                self._validator.validate(event.type, event.schema_version, event.data)

    @staticmethod
    def _damaged(raw_records) -> DamagedRecord:
        """The error for the first of ``raw_records`` (position, data text,
        metadata text) whose JSON does not parse; called only once parsing a
        page failed, so the hot read path pays nothing for it."""
        for position, data, metadata in raw_records:
            for name, text in (("data", data), ("metadata", metadata)):
                try:
                    _json_loads(text)
                except (TypeError, ValueError) as exc:
                    return DamagedRecord(position, f"{name} is not valid JSON ({exc})")
        return DamagedRecord(raw_records[0][0] if raw_records else 0, "a record of this page cannot be read")

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
