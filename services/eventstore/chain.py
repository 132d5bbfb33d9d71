"""Tamper evidence, part one: the hash chain.

Each record's ``hash = sha256(prev_hash || stored bytes)`` (see
:func:`chain_hash`): the header fields as JSON, then data and metadata exactly
as the database holds them (the append stores the canonical JSON it hashed).
Verification hashes the stored bytes (:class:`RawRecord`), never a re-encoding
of parsed values, so any change of any stored byte of any record, or removing
or reordering records, breaks the chain at that position. A forger who
rewrites a record *and* every later hash, or removes the newest records, keeps
a valid chain: the witness (``witness.py``) and its signed tree heads catch
that. docs/tamper-evidence.md has the whole design.
"""
from __future__ import annotations

import hashlib
from typing import Iterable, NamedTuple

import orjson

from services.eventstore.errors import InvalidEvent
from services.eventstore.interface import GENESIS_HASH, EventStore, RawRecord, StoredEvent

_SEP = b"\x1e"  # cannot occur inside canonical JSON (control characters are escaped)


_dumps = orjson.dumps
_SORTED = orjson.OPT_SORT_KEYS


def canonical(value) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, UTF-8."""
    return _dumps(value, option=_SORTED)


def canonical_payloads(events) -> list[tuple[bytes, bytes]]:
    """Each event's data and metadata as canonical JSON, before anything is
    written: a value JSON cannot hold is an InvalidEvent naming the event."""
    try:
        return [(_dumps(event.data, option=_SORTED), _dumps(event.metadata, option=_SORTED))
                for event in events]
    except TypeError:  # orjson.JSONEncodeError is a TypeError: find the culprit to name it
        pass
    for index, event in enumerate(events):
        for name in ("data", "metadata"):
            try:
                canonical(getattr(event, name))
            except TypeError as exc:
                raise InvalidEvent(f"events[{index}].{name}", f"must be JSON: {exc}") from exc
    raise InvalidEvent("events", "must be JSON")  # orjson failed, yet no single value does


def chain_hash(prev_hash: str, position, stream_id, version, event_id, event_type, schema_version,
               occurred_at, recorded_at, data_json: bytes, metadata_json: bytes,
               _sha256=hashlib.sha256) -> str:
    """A record's hash: ``sha256(prev_hash || stored bytes)``, where the stored
    bytes are the canonical JSON of the header fields, then data, then
    metadata, joined by ``_SEP``: every stored field but the two hashes. What
    an append stores and a verification recomputes; it runs for every event of
    every append, hence the one ``join``."""
    header = _dumps([position, stream_id, version, event_id, event_type, schema_version, occurred_at, recorded_at])
    return _sha256(b"".join((prev_hash.encode("ascii"), header, _SEP, data_json, _SEP, metadata_json))).hexdigest()


def record_hash(event: StoredEvent) -> str:
    """The hash the store writes for a decoded record: its data and metadata
    re-encoded canonically, which is what an append stores. Verification
    never uses this (it hashes the stored bytes, :func:`raw_hash`)."""
    return chain_hash(event.prev_hash, event.position, event.stream_id, event.version, event.event_id,
                      event.type, event.schema_version, event.occurred_at, event.recorded_at,
                      canonical(event.data), canonical(event.metadata))


def raw_hash(record: RawRecord) -> str:
    """A stored record's hash recomputed from the bytes as stored. Raises
    (TypeError, ValueError, AttributeError, ...) when a field holds a value
    the store never writes; :func:`check_record` turns that into a problem."""
    return chain_hash(record.prev_hash, record.position, record.stream_id, record.version, record.event_id,
                      record.type, record.schema_version, record.occurred_at, record.recorded_at,
                      record.data, record.metadata)


def _diagnose(record: RawRecord) -> str:
    """Why a record's stored bytes do not give its hash (the failure path only)."""
    for name in ("data", "metadata"):
        text = getattr(record, name)
        if not isinstance(text, bytes):
            return f"{name} is not stored as JSON text"
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            return f"{name} is not valid JSON"
        if not isinstance(value, dict):
            return f"{name} is not a JSON object"
        try:
            if canonical(value) != text:
                return f"{name} is not the exact text the store wrote (whitespace, key order or number form changed)"
        except TypeError:
            pass
    return "hash does not match the record's stored bytes"


def check_record(record: RawRecord, expected_position: int, prev_hash: str) -> str | None:
    """What is wrong with the next record of the log, or None. The position
    must follow on, ``prev_hash`` must be the previous record's hash and the
    stored ``hash`` must be the hash of the bytes as stored."""
    if record.position != expected_position:
        return f"position {expected_position} is missing (next record is {record.position})"
    if record.prev_hash != prev_hash:
        return "prev_hash does not match the previous record's hash"
    try:
        recomputed = raw_hash(record)
    except Exception:  # noqa: BLE001  (any malformed stored field is damage at this position)
        recomputed = None
    if recomputed is None or recomputed != record.hash:
        return _diagnose(record)
    return None


class Verification(NamedTuple):
    ok: bool
    checked: int
    head_position: int
    head_hash: str
    first_bad_position: int | None = None
    problem: str | None = None


def verify_records(records: Iterable[RawRecord]) -> Verification:
    """Walk the chain from position 1 and name the first bad position."""
    expected_position, prev_hash, checked = 1, GENESIS_HASH, 0
    for record in records:
        problem = check_record(record, expected_position, prev_hash)
        if problem is not None:
            bad = expected_position if problem.startswith("position ") else record.position
            return Verification(False, checked, expected_position - 1, prev_hash, bad, problem)
        prev_hash, expected_position, checked = record.hash, expected_position + 1, checked + 1
    return Verification(True, checked, expected_position - 1, prev_hash)


def verify_store(store: EventStore) -> Verification:
    """The chain of the whole log, from the bytes as stored. It cannot see a
    rewrite that recomputes every later hash, nor the removal of the newest
    records: the witness (``services.eventstore.witness``) catches those."""
    return verify_records(store.read_raw())
