"""Tamper evidence: the hash chain and signed checkpoints.

Each record's ``hash = sha256(prev_hash || stored bytes)`` where the stored
bytes are the canonical JSON of every stored field but the two hashes (see
:func:`chain_hash`). Changing any field of any record, or removing or
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
    """Recompute a stored record's hash from its fields."""
    return chain_hash(event.prev_hash, event.position, event.stream_id, event.version, event.event_id,
                      event.type, event.schema_version, event.occurred_at, event.recorded_at,
                      canonical(event.data), canonical(event.metadata))


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
