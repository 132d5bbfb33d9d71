"""Command handling shared by every write-side service: load the stream,
decide, append with the expected version. No nameko here, so it is tested
and reused without a container."""
from __future__ import annotations

import datetime as dt

from services.chassis.codec import EventCodec
from services.chassis.decider import Decider, fold
from services.eventstore import AppendResult, CommandIdConflict, ConcurrencyError, EventStore

CONFLICT_RETRIES = 3


def load_state(store: EventStore, codec: EventCodec, decider: Decider, stream_id: str):
    """The stream's current state and version."""
    records = store.read_stream(stream_id)
    state = fold(decider, (codec.decode(record) for record in records))
    return state, (records[-1].version if records else 0)


def execute(store: EventStore, codec: EventCodec, decider: Decider, stream_id: str, command, *,
            occurred_at: dt.datetime, metadata: dict, command_id: str | None = None) -> AppendResult:
    """Decide ``command`` against the stream's state and append the events.

    A command id seen before on this stream returns the first result without
    deciding again (the state may have moved on since); seen on another
    stream it is refused (:class:`CommandIdConflict`). The id is looked up
    *after* the stream is read, on every attempt: had the first attempt of
    this command committed before the read, the lookup finds it; had it not,
    the append finds it (the store checks the id under its write lock or
    unique index). So a retry racing its original gets the first result, never
    a refusal decided on a state that already holds the original's events.
    When another writer appended to the stream between our read and our
    append, read and decide again on the new state: a rule such as "an item
    is claimed at most once" then rejects the loser with a clear reason
    instead of a bare version conflict.
    """
    metadata = dict(metadata, command_id=command_id)
    for attempt in range(CONFLICT_RETRIES):
        state, version = load_state(store, codec, decider, stream_id)
        if command_id is not None:
            earlier = store.command_result(command_id)
            if earlier is not None:
                if earlier.stream_id != stream_id:
                    raise CommandIdConflict(command_id, stream_id, earlier.stream_id)
                return earlier
        events = decider.decide(command, state)
        if not events:
            return AppendResult(stream_id, (), version)
        new_events = [codec.encode(event, occurred_at, metadata) for event in events]
        try:
            return store.append(stream_id, new_events, expected_version=version, command_id=command_id)
        except ConcurrencyError:
            if attempt == CONFLICT_RETRIES - 1:
                raise
    raise AssertionError("unreachable")
