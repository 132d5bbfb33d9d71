"""Tamper evidence: the hash chain and signed checkpoints.

Each record's ``hash = sha256(prev_hash || stored bytes)`` where the stored
bytes are the canonical JSON of every stored field but the two hashes (see
:func:`record_bytes`). Changing any field of any record, or removing or
reordering records, breaks the chain at the first bad position. Removing the
newest records leaves a shorter but valid chain: a signed checkpoint of
(position, hash) taken earlier catches that.
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Iterable, NamedTuple

import orjson

from services.eventstore.errors import InvalidEvent
from services.eventstore.interface import GENESIS_HASH, EventStore, StoredEvent, utc_now

_SEP = b"\x1e"  # cannot occur inside canonical JSON (control characters are escaped)


def canonical(value) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, UTF-8."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def canonical_payloads(events) -> list[tuple[bytes, bytes]]:
    """Each event's data and metadata as canonical JSON, before anything is
    written: a value JSON cannot hold is an InvalidEvent naming the event."""
    encoded = []
    for index, event in enumerate(events):
        pair = []
        for name in ("data", "metadata"):
            try:
                pair.append(canonical(getattr(event, name)))
            except TypeError as exc:  # orjson.JSONEncodeError is a TypeError
                raise InvalidEvent(f"events[{index}].{name}", f"must be JSON: {exc}") from exc
        encoded.append(tuple(pair))
    return encoded


def record_bytes(position, stream_id, version, event_id, event_type, schema_version,
                 occurred_at, recorded_at, data_json: bytes, metadata_json: bytes) -> bytes:
    header = orjson.dumps(
        [position, stream_id, version, event_id, event_type, schema_version, occurred_at, recorded_at]
    )
    return header + _SEP + data_json + _SEP + metadata_json


def link(prev_hash: str, stored: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + stored).hexdigest()


def record_hash(event: StoredEvent) -> str:
    """Recompute a stored record's hash from its fields."""
    stored = record_bytes(
        event.position, event.stream_id, event.version, event.event_id, event.type,
        event.schema_version, event.occurred_at, event.recorded_at,
        canonical(event.data), canonical(event.metadata),
    )
    return link(event.prev_hash, stored)


class Verification(NamedTuple):
    ok: bool
    checked: int
    head_position: int
    head_hash: str
    first_bad_position: int | None = None
    problem: str | None = None


def verify_records(records: Iterable[StoredEvent]) -> Verification:
    """Walk the chain from position 1 and name the first bad position."""
    expected_position, prev_hash, checked = 1, GENESIS_HASH, 0
    for event in records:
        if event.position != expected_position:
            return Verification(False, checked, expected_position - 1, prev_hash, expected_position,
                                f"position {expected_position} is missing (next record is {event.position})")
        if event.prev_hash != prev_hash:
            return Verification(False, checked, expected_position - 1, prev_hash, event.position,
                                "prev_hash does not match the previous record's hash")
        if record_hash(event) != event.hash:
            return Verification(False, checked, expected_position - 1, prev_hash, event.position,
                                "hash does not match the record's stored fields")
        prev_hash, expected_position, checked = event.hash, expected_position + 1, checked + 1
    return Verification(True, checked, expected_position - 1, prev_hash)


def verify_store(store: EventStore) -> Verification:
    return verify_records(store.read_all())


def _signature(key: bytes, position: int, hash_: str) -> str:
    return hmac.new(key, f"vsc-checkpoint:{position}:{hash_}".encode("ascii"), hashlib.sha256).hexdigest()


def sign_checkpoint(store: EventStore, key: bytes) -> dict:
    """A signed (position, hash) of the current head, to be exported and kept
    away from the database (HMAC-SHA256 with the audit key)."""
    head = store.head()
    return {
        "position": head.position,
        "hash": head.hash,
        "signed_at": utc_now(),
        "algorithm": "HMAC-SHA256",
        "signature": _signature(key, head.position, head.hash),
    }


def verify_checkpoint(store: EventStore, checkpoint: dict, key: bytes) -> Verification:
    """Verify the chain and that it still contains the checkpointed record."""
    position, hash_ = checkpoint["position"], checkpoint["hash"]
    if not hmac.compare_digest(_signature(key, position, hash_), checkpoint.get("signature", "")):
        head = store.head()
        return Verification(False, 0, head.position, head.hash, None,
                            "the checkpoint's signature is not valid for this key")
    result = verify_store(store)
    if not result.ok:
        return result
    if result.head_position < position:
        return result._replace(ok=False, first_bad_position=result.head_position + 1,
                               problem=f"records after position {result.head_position} were removed "
                                       f"(checkpoint signed at position {position})")
    if position > 0:
        at = next(iter(store.read_all(after=position - 1, until=position)))
        if at.hash != hash_:
            return result._replace(ok=False, first_bad_position=position,
                                   problem="the record at the checkpoint's position has another hash")
    return result
