"""The one contract every event store backend passes.

A backend's test module subclasses :class:`StoreContract` (as ``Test…``) and
provides the ``store`` fixture (a fresh, empty store) and the hooks
``reopen``, ``tamper`` and ``delete``. Backend-only tests live in sibling
classes of the backend's module.
"""
from __future__ import annotations

import sys
import time

import pytest
from marshmallow import fields

from contracts import registry as contracts_registry
from contracts.base import EventSchema, Registry
from services.eventstore.chain import canonical, chain_hash, record_hash, verify_store
from services.eventstore.errors import (
    CommandIdConflict, ConcurrencyError, DamagedRecord, InvalidEvent, StoreUnavailable,
)
from services.eventstore.interface import GENESIS_HASH, EventStore, NewEvent, RawRecord, StoredEvent, utc_now
from services.eventstore.witness import AuditPaths, Witness, audit, generate_keys, load_private_key, read_witness

OCCURRED = "2026-05-01T08:30:00.000000Z"

# A registry of its own, so these tests do not depend on the domain's events.
test_registry = Registry()


@test_registry.event
class ItemTurnedIn(EventSchema):
    event_type = "ItemTurnedIn"
    schema_version = 1
    source = "tests"
    item = fields.String(required=True)


def item(name: str = "umbrella", **kwargs) -> NewEvent:
    return NewEvent("ItemTurnedIn", {"item": name}, OCCURRED, **kwargs)


def items(count: int, prefix: str = "item") -> list[NewEvent]:
    return [item(f"{prefix}-{n}") for n in range(count)]


def clerk_signed_in(**overrides) -> NewEvent:
    data = {"desk": "main-gate", "shift_date": "2026-05-01", "clerk_id": "c-7",
            "clerk_name": "Li Wei", "signed_in_at": "2026-05-01T08:30:00+08:00"}
    data.update(overrides)
    return NewEvent("ClerkSignedIn", {k: v for k, v in data.items() if v is not None}, OCCURRED)


def positions(events) -> list[int]:
    return [event.position for event in events]


def ids(events) -> list[str]:
    return [event.event_id for event in events]


def snapshot(store: EventStore) -> tuple:
    """Everything an append could change."""
    return store.head(), list(store.read_all())


TAMPERED = {
    "stream_id": "forged-stream",
    "version": 99,
    "event_id": "forged-event-id",
    "type": "ItemStolen",
    "schema_version": 7,
    "data": {"item": "gold watch"},
    "metadata": {"actor": "mallory"},
    "occurred_at": "2000-01-01T00:00:00.000000Z",
    "recorded_at": "2000-01-01T00:00:00.000000Z",
    "prev_hash": "f" * 64,
    "hash": "e" * 64,
}


class StoreContract:
    """Guarantees of :class:`EventStore`, for every backend."""

    #: enough events to cross the backend's read_all page several times
    paging_events = 4500
    #: fields a backend stores once per append rather than per record
    per_append_fields: tuple[str, ...] = ()

    @pytest.fixture
    def store(self) -> EventStore:
        """A fresh, empty store without a validator; closed after the test."""
        raise NotImplementedError

    def reopen(self, store: EventStore, validator=None) -> EventStore:
        """Close ``store`` and open the same database again."""
        raise NotImplementedError

    def tamper(self, store: EventStore, position: int, field: str, value) -> None:
        """Overwrite one stored field of the record at ``position``, bypassing the store."""
        raise NotImplementedError

    def delete(self, store: EventStore, position: int) -> None:
        """Remove the record at ``position``, bypassing the store."""
        raise NotImplementedError

    # -- appending and reading ------------------------------------------------
    def test_given_an_empty_store_then_the_head_is_genesis_and_reads_are_empty(self, store):
        assert store.head() == (0, GENESIS_HASH, None)
        assert list(store.read_all()) == []
        assert store.read_stream("item-1") == []
        assert store.stream_version("item-1") == 0
        assert store.position_at(utc_now()) == 0
        assert store.command_result("cmd-unknown") is None

    def test_when_appending_to_a_new_stream_then_events_get_positions_and_versions_from_one(self, store):
        events = items(3)
        result = store.append("item-1", events, 0)
        assert result.stream_id == "item-1"
        assert result.version == 3
        assert result.duplicate is False
        assert result.last_position == 3
        assert positions(result.events) == [1, 2, 3]
        assert [event.version for event in result.events] == [1, 2, 3]
        assert ids(result.events) == ids(events)
        assert len({event.recorded_at for event in result.events}) == 1
        assert store.read_stream("item-1") == list(result.events)
        assert list(store.read_all()) == list(result.events)
        assert store.stream_version("item-1") == 3
        assert store.head() == (3, result.events[-1].hash, result.events[-1].recorded_at)

    def test_when_reading_then_every_field_comes_back_as_it_was_appended(self, store):
        data = {"item": "雨伞", "count": 2, "weight": 0.75, "found": True, "note": None,
                "tags": ["black", "long"], "where": {"desk": "main-gate", "shelf": [1, 2]}}
        metadata = {"actor": "clerk-7", "desk": "main-gate", "correlation_id": "corr-1"}
        event = NewEvent("ItemTurnedIn", data, "2026-05-01T08:30:00.123456Z", schema_version=3,
                         metadata=metadata, event_id="event-1")
        appended = store.append("item-1", [event], 0).events[0]
        (stored,) = store.read_all()
        assert stored == appended
        assert isinstance(stored, StoredEvent)
        assert (stored.stream_id, stored.version, stored.event_id, stored.type, stored.schema_version) == (
            "item-1", 1, "event-1", "ItemTurnedIn", 3)
        assert stored.data == data
        assert stored.metadata == metadata
        assert stored.occurred_at == "2026-05-01T08:30:00.123456Z"
        assert stored.prev_hash == GENESIS_HASH
        assert stored.hash == record_hash(stored)

    def test_given_several_streams_when_appending_in_turns_then_positions_follow_commit_order(self, store):
        store.append("a", items(2, "a"), 0)
        store.append("b", items(1, "b"), 0)
        store.append("a", items(3, "a2"), 2)
        store.append("c", items(1, "c"), 0)
        log = list(store.read_all())
        assert positions(log) == list(range(1, 8))
        assert [(e.stream_id, e.version) for e in log] == [
            ("a", 1), ("a", 2), ("b", 1), ("a", 3), ("a", 4), ("a", 5), ("c", 1)]
        assert [e.version for e in store.read_stream("a")] == [1, 2, 3, 4, 5]
        assert positions(store.read_stream("a")) == [1, 2, 4, 5, 6]
        assert store.stream_version("a") == 5
        assert store.stream_version("b") == 1

    def test_read_stream_after_a_version_returns_only_the_later_events(self, store):
        store.append("a", items(2), 0)
        store.append("b", items(1), 0)
        store.append("a", items(3), 2)
        assert [e.version for e in store.read_stream("a", after_version=1)] == [2, 3, 4, 5]
        assert [e.version for e in store.read_stream("a", after_version=3)] == [4, 5]
        assert store.read_stream("a", after_version=5) == []

    def test_read_all_honours_after_until_and_limit_inside_an_append(self, store):
        store.append("a", items(3), 0)   # 1-3
        store.append("b", items(4), 0)   # 4-7
        store.append("a", items(2), 3)   # 8-9
        assert positions(store.read_all(after=2)) == [3, 4, 5, 6, 7, 8, 9]
        assert positions(store.read_all(after=5, until=8)) == [6, 7, 8]
        assert positions(store.read_all(after=1, limit=3)) == [2, 3, 4]
        assert positions(store.read_all(until=2)) == [1, 2]
        assert positions(store.read_all(after=4, until=5, limit=10)) == [5]
        assert positions(store.read_all(after=9)) == []
        assert positions(store.read_all(after=3, until=3)) == []
        assert positions(store.read_all(limit=0)) == []

    def test_the_fold_read_is_read_all_without_metadata_and_hashes(self, store):
        store.append("a", items(3), 0)
        store.append("b", items(300, "big"), 0)   # crosses a page
        store.append("a", items(2), 3)
        def light(record):
            return (record.position, record.stream_id, record.version, record.event_id, record.type,
                    record.schema_version, record.data, record.occurred_at, record.recorded_at)
        assert [tuple(r) for r in store.read_for_folds()] == [light(r) for r in store.read_all()]
        assert positions(store.read_for_folds(after=2, until=304)) == list(range(3, 305))
        assert positions(store.read_for_folds(after=305)) == []
        assert not hasattr(next(iter(store.read_for_folds())), "metadata")

    def test_given_a_long_log_when_reading_all_then_page_boundaries_are_crossed_without_loss(self, store):
        batch = 5
        appended = []
        for n in range(self.paging_events // batch):
            stream = f"stream-{n % 7}"
            result = store.append(stream, items(batch, f"p{n}"), store.stream_version(stream))
            appended.extend(ids(result.events))
        total = len(appended)
        log = list(store.read_all())
        assert positions(log) == list(range(1, total + 1))
        assert ids(log) == appended
        for after in (1, total // 3 - 1, total // 2 + 2, total - 3):
            assert positions(store.read_all(after=after)) == list(range(after + 1, total + 1))
        assert positions(store.read_all(after=7, until=total - 11)) == list(range(8, total - 10))
        assert positions(store.read_all(after=3, limit=total - 10)) == list(range(4, total - 6))
        assert store.head().position == total
        assert verify_store(store).ok

    def test_given_appends_before_and_after_a_moment_when_reading_as_of_it_then_only_earlier_records(self, store):
        first = store.append("a", items(2), 0)
        moment = first.events[-1].recorded_at
        while utc_now() <= moment:  # the next append must be recorded after the moment
            time.sleep(0.001)
        later = store.append("b", items(2), 0)
        assert later.events[0].recorded_at > moment
        assert store.position_at(moment) == 2
        assert positions(store.read_all(until=store.position_at(moment))) == [1, 2]
        assert store.position_at("2000-01-01T00:00:00.000000Z") == 0
        assert store.position_at(later.events[0].recorded_at) == 4
        assert store.position_at("2999-01-01T00:00:00.000000Z") == 4

    def test_recorded_at_never_goes_backwards_along_the_log(self, store):
        for n in range(20):
            store.append(f"s{n % 3}", items(1 + n % 3), store.stream_version(f"s{n % 3}"))
        recorded = [event.recorded_at for event in store.read_all()]
        assert recorded == sorted(recorded)
        assert len(recorded) == sum(1 + n % 3 for n in range(20))

    def test_given_a_clock_behind_the_newest_record_when_appending_then_recorded_at_does_not_go_back(
            self, store, monkeypatch):
        first = store.append("a", items(1), 0)
        # another process's clock is behind: backends take the time from
        # their module's utc_now
        backend = sys.modules[type(store).__module__]
        monkeypatch.setattr(backend, "utc_now", lambda: "2000-01-01T00:00:00.000000Z")
        later = store.append("a", items(2), 1)
        assert [e.recorded_at for e in later.events] == [first.events[0].recorded_at] * 2
        assert store.position_at(first.events[0].recorded_at) == 3
        assert store.position_at("2000-01-01T00:00:00.000000Z") == 0

    # -- optimistic concurrency -------------------------------------------------
    @pytest.mark.parametrize("expected", [0, 1, 3, 10])
    def test_when_the_expected_version_is_wrong_then_concurrency_error_and_nothing_appended(self, store, expected):
        store.append("a", items(2), 0)
        store.append("b", items(1), 0)
        before = snapshot(store)
        with pytest.raises(ConcurrencyError) as raised:
            store.append("a", items(2, "late"), expected)
        assert (raised.value.stream_id, raised.value.expected_version, raised.value.actual_version) == (
            "a", expected, 2)
        assert snapshot(store) == before
        assert store.stream_version("a") == 2

    def test_when_appending_to_a_new_stream_with_a_version_then_concurrency_error(self, store):
        with pytest.raises(ConcurrencyError):
            store.append("new", items(1), 1)
        assert snapshot(store) == ((0, GENESIS_HASH, None), [])

    def test_given_two_writers_decided_on_the_same_version_then_only_the_first_append_lands(self, store):
        store.append("a", items(1), 0)
        decided_on = store.stream_version("a")
        winner = store.append("a", [item("first")], decided_on)
        with pytest.raises(ConcurrencyError):
            store.append("a", [item("second")], decided_on)
        assert [e.data["item"] for e in store.read_stream("a", after_version=1)] == ["first"]
        assert store.head().position == winner.last_position == 2

    # -- all or nothing -------------------------------------------------------------
    def test_when_the_second_event_fails_validation_then_no_event_of_the_append_is_stored(self, store):
        store = self.reopen(store, validator=test_registry)
        store.append("a", [item("seed")], 0)
        before = snapshot(store)
        batch = [item("ok"), NewEvent("ItemTurnedIn", {"item": 42}, OCCURRED), item("also ok")]
        with pytest.raises(InvalidEvent) as raised:
            store.append("a", batch, 1)
        assert raised.value.field == "data.item"
        assert snapshot(store) == before
        assert positions(store.append("a", [item("next")], 1).events) == [2]

    def test_when_the_third_event_reuses_a_stored_event_id_then_no_event_of_the_append_is_stored(self, store):
        taken = store.append("a", [item("seed")], 0).events[0].event_id
        before = snapshot(store)
        batch = [item("one"), item("two"), item("three", event_id=taken)]
        with pytest.raises(InvalidEvent) as raised:
            store.append("b", batch, 0)
        assert raised.value.field == "events[2].event_id"
        assert snapshot(store) == before
        assert store.stream_version("b") == 0
        assert positions(store.append("b", batch[:2], 0).events) == [2, 3]

    def test_given_an_append_of_600_events_then_every_one_is_stored_in_order_and_chained(self, store):
        # more events than one INSERT statement of the SQLite backend carries
        store.append("a", [item("seed")], 0)
        result = store.append("big", items(600, "big"), 0)
        assert [event.version for event in result.events] == list(range(1, 601))
        assert list(store.read_all(after=1)) == list(result.events)
        assert store.read_stream("big") == list(result.events)
        assert verify_store(store).ok

    def test_when_the_last_of_600_events_reuses_a_stored_event_id_then_none_of_them_is_stored(self, store):
        taken = store.append("a", [item("seed")], 0).events[0].event_id
        before = snapshot(store)
        batch = items(599, "big") + [item("last", event_id=taken)]
        with pytest.raises(InvalidEvent) as raised:
            store.append("big", batch, 0)
        assert raised.value.field == "events[599].event_id"
        assert snapshot(store) == before

    def test_when_an_append_repeats_an_event_id_then_it_is_refused_and_nothing_stored(self, store):
        twice = item("twice")
        with pytest.raises(InvalidEvent) as raised:
            store.append("a", [twice, item("other"), twice], 0)
        assert raised.value.field == "events[2].event_id"
        assert snapshot(store) == ((0, GENESIS_HASH, None), [])

    @pytest.mark.parametrize("where, field", [("data", "events[1].data"), ("metadata", "events[1].metadata")])
    def test_when_an_event_holds_a_value_json_cannot_then_invalid_event_names_it_and_nothing_stored(
            self, store, where, field):
        before = snapshot(store)
        second = (NewEvent("ItemTurnedIn", {"item": {"a", "set"}}, OCCURRED) if where == "data"
                  else item("bad", metadata={"actor": object()}))
        with pytest.raises(InvalidEvent) as raised:
            store.append("a", [item("fine"), second], 0)
        assert raised.value.field == field
        assert snapshot(store) == before

    # -- idempotent commands ----------------------------------------------------------
    @pytest.mark.parametrize("retry", ["same events", "other events", "stale version"])
    def test_given_a_command_was_appended_when_it_comes_again_then_the_first_result_and_nothing_appended(
            self, store, retry):
        events = items(2)
        first = store.append("a", events, 0, command_id="cmd-1")
        store.append("b", items(1, "b"), 0)
        before = snapshot(store)
        again = {
            "same events": lambda: store.append("a", events, 0, command_id="cmd-1"),
            "other events": lambda: store.append("a", items(3, "x"), 0, command_id="cmd-1"),
            "stale version": lambda: store.append("a", items(1, "z"), 7, command_id="cmd-1"),
        }[retry]()
        assert again.duplicate is True
        assert again.events == first.events
        assert (again.stream_id, again.version) == ("a", 2)
        assert positions(again.events) == [1, 2]
        assert ids(again.events) == ids(events)
        assert snapshot(store) == before

    @pytest.mark.parametrize("expected", [0, 1])
    def test_given_a_command_id_used_on_one_stream_when_another_stream_reuses_it_then_conflict_and_nothing_appended(
            self, store, expected):
        store.append("a", items(2), 0, command_id="cmd-1")
        store.append("c", items(1, "c"), 0)
        before = snapshot(store)
        with pytest.raises(CommandIdConflict) as raised:
            store.append("c", items(1, "y"), expected, command_id="cmd-1")
        assert (raised.value.command_id, raised.value.stream_id, raised.value.first_stream_id) == ("cmd-1", "c", "a")
        assert snapshot(store) == before
        assert store.append("c", items(1, "y"), 1, command_id="cmd-2").events[0].position == 4

    def test_given_the_stream_moved_on_when_a_command_is_retried_then_it_returns_the_first_result(self, store):
        first = store.append("a", items(1), 0, command_id="cmd-1")
        store.append("a", items(2, "more"), 1, command_id="cmd-2")
        again = store.append("a", items(1, "retry"), 0, command_id="cmd-1")
        assert again.duplicate and again.events == first.events and again.version == 1
        assert store.head().position == 3

    def test_command_result_returns_the_first_result_of_a_known_command_only(self, store):
        first = store.append("a", items(2), 0, command_id="cmd-1")
        store.append("a", items(1), 2)
        result = store.command_result("cmd-1")
        assert result == first._replace(duplicate=True)
        assert store.command_result("cmd-2") is None

    # -- bad input ----------------------------------------------------------------------
    @pytest.mark.parametrize("case, field", [
        ("unknown type", "type"),
        ("missing desk", "data.desk"),
        ("bad shift date", "data.shift_date"),
        ("unknown data field", "data.colour"),
        ("old schema version", "schema_version"),
        ("bad occurred_at", "events[0].occurred_at"),
        ("naive occurred_at on the second event", "events[1].occurred_at"),
        ("no events", "events"),
        ("not a NewEvent", "events[1]"),
        ("empty event id", "events[0].event_id"),
        ("negative expected version", "expected_version"),
        ("expected version as text", "expected_version"),
        ("empty stream id", "stream_id"),
    ])
    def test_when_an_event_breaks_its_contract_then_invalid_event_names_the_field_and_nothing_appended(
            self, store, case, field):
        store = self.reopen(store, validator=contracts_registry)
        store.append("desk-main-gate", [clerk_signed_in()], 0)
        before = snapshot(store)
        ok = clerk_signed_in(clerk_id="c-8")
        stream, events, expected = {
            "unknown type": ("s", [NewEvent("ClerkDanced", {}, OCCURRED)], 0),
            "missing desk": ("s", [clerk_signed_in(desk=None)], 0),
            "bad shift date": ("s", [clerk_signed_in(shift_date="yesterday")], 0),
            "unknown data field": ("s", [clerk_signed_in(colour="red")], 0),
            "old schema version": ("s", [NewEvent("ClerkSignedIn", ok.data, OCCURRED, schema_version=0)], 0),
            "bad occurred_at": ("s", [NewEvent("ClerkSignedIn", ok.data, "2026-05-01 08:30")], 0),
            "naive occurred_at on the second event": (
                "s", [ok, NewEvent("ClerkSignedIn", ok.data, "2026-05-01T08:30:00")], 0),
            "no events": ("s", [], 0),
            "not a NewEvent": ("s", [ok, {"type": "ClerkSignedIn"}], 0),
            "empty event id": ("s", [NewEvent("ClerkSignedIn", ok.data, OCCURRED, event_id="")], 0),
            "negative expected version": ("s", [ok], -1),
            "expected version as text": ("s", [ok], "0"),
            "empty stream id": ("", [ok], 0),
        }[case]
        with pytest.raises(InvalidEvent) as raised:
            store.append(stream, events, expected)
        assert raised.value.field == field
        assert snapshot(store) == before

    # -- tamper evidence -----------------------------------------------------------------
    def _three_appends(self, store) -> None:
        store.append("a", items(2, "a"), 0)   # 1-2
        store.append("b", items(3, "b"), 0)   # 3-5
        store.append("a", items(1, "c"), 2)   # 6

    def test_given_an_untouched_log_then_every_record_links_to_the_previous_and_verify_passes(self, store):
        self._three_appends(store)
        log = list(store.read_all())
        assert log[0].prev_hash == GENESIS_HASH
        assert all(later.prev_hash == earlier.hash for earlier, later in zip(log, log[1:]))
        assert all(record_hash(event) == event.hash for event in log)
        result = verify_store(store)
        assert (result.ok, result.checked, result.head_position, result.head_hash) == (
            True, 6, 6, store.head().hash)

    def test_read_raw_gives_the_stored_json_text_the_hash_covers(self, store):
        self._three_appends(store)
        raw, log = list(store.read_raw()), list(store.read_all())
        assert all(isinstance(record, RawRecord) for record in raw)
        assert [r.position for r in raw] == positions(log) == [1, 2, 3, 4, 5, 6]
        for record, event in zip(raw, log):
            assert (record.data, record.metadata) == (canonical(event.data), canonical(event.metadata))
            assert (record.stream_id, record.version, record.hash, record.recorded_at) == (
                event.stream_id, event.version, event.hash, event.recorded_at)
        assert [r.position for r in store.read_raw(after=2, until=4)] == [3, 4]
        assert [r.position for r in store.read_raw(after=4)] == [5, 6]

    @pytest.mark.parametrize("field", list(TAMPERED))
    @pytest.mark.parametrize("position", [1, 3, 4, 6])
    def test_when_any_stored_field_is_tampered_then_verify_names_that_position(self, store, field, position):
        self._three_appends(store)
        self.tamper(store, position, field, TAMPERED[field])
        assert getattr(list(store.read_all())[position - 1], field) == TAMPERED[field]
        result = verify_store(store)
        # a field stored once per append is shared by the append's records: the
        # append that held position 4 starts at 3
        expected = 3 if position == 4 and field in self.per_append_fields else position
        assert result.ok is False
        assert result.first_bad_position == expected
        assert result.checked == expected - 1

    @pytest.mark.parametrize("field", ["data", "metadata"])
    def test_when_whitespace_is_inserted_into_stored_json_then_verify_names_that_position(self, store, field):
        self._three_appends(store)
        (original,) = store.read_raw(after=3, until=4)
        spaced = getattr(original, field).decode().replace(":", ": ").replace("{", "{ ")
        self.tamper(store, 4, field, spaced)
        # the same values once parsed: a verifier that re-encoded them would pass
        assert list(store.read_all()) == list(store.read_all())
        assert canonical(getattr(list(store.read_all())[3], field)) == getattr(original, field)
        result = verify_store(store)
        assert (result.ok, result.first_bad_position, result.checked) == (False, 4, 3)
        assert "exact text" in result.problem

    @pytest.mark.parametrize("field", ["data", "metadata"])
    def test_when_stored_json_is_not_valid_then_verify_names_it_and_reads_raise_damaged_record(self, store, field):
        self._three_appends(store)
        self.tamper(store, 4, field, '{"item": "b-1"')
        result = verify_store(store)
        assert (result.ok, result.first_bad_position) == (False, 4)
        assert result.problem == f"{field} is not valid JSON"
        with pytest.raises(DamagedRecord) as raised:
            list(store.read_all())
        assert raised.value.position == 4
        with pytest.raises(DamagedRecord):
            store.read_stream("b")
        if field == "data":  # a fold read parses data only
            with pytest.raises(DamagedRecord) as raised:
                list(store.read_for_folds())
            assert raised.value.position == 4
        else:
            assert positions(store.read_for_folds()) == [1, 2, 3, 4, 5, 6]
        assert positions(store.read_all(until=3)) == [1, 2, 3]
        assert positions(store.read_raw()) == [1, 2, 3, 4, 5, 6]

    @pytest.mark.parametrize("position", [2, 4])
    def test_when_a_middle_record_is_deleted_then_verify_names_the_gap(self, store, position):
        self._three_appends(store)
        self.delete(store, position)
        result = verify_store(store)
        assert result.ok is False
        assert result.first_bad_position == position
        assert f"position {position} is missing" in result.problem

    # -- the witness --------------------------------------------------------------------
    @pytest.fixture
    def witness_dir(self, tmp_path):
        paths = AuditPaths(str(tmp_path / "audit"), str(tmp_path / "audit" / "witness.key"),
                           str(tmp_path / "audit" / "witness.pub"))
        generate_keys(paths)
        return paths

    def _witness(self, store, paths, **options) -> Witness:
        options.setdefault("sign_every", 100)
        options.setdefault("sign_seconds", 3600)
        witness = Witness(store, paths.directory, load_private_key(paths.key_file), **options)
        self._witnesses = getattr(self, "_witnesses", []) + [witness]
        return witness

    @staticmethod
    def _audit(store, paths, checkpoint=None):
        key = load_private_key(paths.key_file).public_key()
        return audit(store, *read_witness(paths.directory), key, checkpoint)

    @staticmethod
    def _fill(store, count: int) -> None:
        for n in range(count // 5):
            stream = f"s{n % 9}"
            store.append(stream, items(5, f"n{n}"), store.stream_version(stream))

    def forge(self, store, position: int, field: str, value) -> None:
        """What a forger with write access to the database does: rewrite the
        record at ``position`` and recompute every hash from there on."""
        self.tamper(store, position, field, value)
        records = list(store.read_raw(after=position - 1))
        prev_hash = records[0].prev_hash
        for record in records:
            new_hash = chain_hash(prev_hash, record.position, record.stream_id, record.version, record.event_id,
                                  record.type, record.schema_version, record.occurred_at, record.recorded_at,
                                  record.data, record.metadata)
            if record.prev_hash != prev_hash:
                self.tamper(store, record.position, "prev_hash", prev_hash)
            self.tamper(store, record.position, "hash", new_hash)
            prev_hash = new_hash

    def test_given_a_witnessed_log_when_a_forger_rewrites_record_152_and_every_later_hash_then_verify_names_152(
            self, store, witness_dir):
        self._fill(store, 400)
        witness = self._witness(store, witness_dir)
        while witness.witness_once():
            witness.sign_if_due()
        assert (witness.size, witness.signed) == (400, 400)
        assert self._audit(store, witness_dir).ok
        self.forge(store, 152, "data", {"item": "gold watch"})
        assert verify_store(store).ok  # the chain alone cannot tell
        result = self._audit(store, witness_dir)
        assert (result.ok, result.first_bad_position, result.checked) == (False, 152, 151)
        assert "witness" in result.problem

    def test_records_after_the_newest_signed_head_are_covered_once_witnessed(self, store, witness_dir):
        self._fill(store, 300)
        witness = self._witness(store, witness_dir)
        witness.witness_once()
        witness.sign_if_due()
        self._fill(store, 20)
        witness.witness_once()
        assert witness.sign_if_due() is None  # 20 < sign_every and the interval has not passed
        clean = self._audit(store, witness_dir)
        assert (clean.ok, clean.witnessed, clean.signed, clean.unwitnessed) == (True, 320, 300, 0)
        self.forge(store, 310, "data", {"item": "gold watch"})
        result = self._audit(store, witness_dir)
        assert (result.ok, result.first_bad_position) == (False, 310)

    def test_records_the_witness_has_not_seen_yet_are_chain_checked_and_reported(self, store, witness_dir):
        self._fill(store, 10)
        witness = self._witness(store, witness_dir)
        witness.witness_once()
        witness.sign_if_due(force=True)
        self._fill(store, 5)
        result = self._audit(store, witness_dir)
        assert (result.ok, result.checked, result.witnessed, result.unwitnessed) == (True, 15, 10, 5)
        assert "not witnessed yet" in result.warning

    @pytest.mark.parametrize("removed", [1, 3])
    def test_when_the_newest_records_are_removed_then_verify_against_the_witness_names_the_first(
            self, store, witness_dir, removed):
        self._three_appends(store)
        witness = self._witness(store, witness_dir)
        witness.witness_once()
        witness.sign_if_due(force=True)
        for position in range(6, 6 - removed, -1):
            self.delete(store, position)
        assert verify_store(store).ok  # a shorter chain is still a chain
        result = self._audit(store, witness_dir)
        assert (result.ok, result.first_bad_position) == (False, 7 - removed)
        assert "removed" in result.problem

    def test_the_witness_never_witnesses_a_damaged_record_and_goes_on_once_it_is_mended(self, store, witness_dir):
        self._three_appends(store)
        (original,) = store.read_raw(after=3, until=4)
        self.tamper(store, 4, "data", '{"item":"b-1 forged"}')
        witness = self._witness(store, witness_dir)
        assert witness.witness_once() == 3
        assert (witness.size, witness.damaged_at) == (3, 4)
        assert witness.witness_once() == 0
        self.tamper(store, 4, "data", original.data.decode())
        assert witness.witness_once() == 3
        assert (witness.size, witness.damaged_at) == (6, None)

    def test_the_witness_resumes_where_it_stopped_and_its_heads_stay_consistent(self, store, witness_dir):
        self._fill(store, 20)
        first = self._witness(store, witness_dir, sign_every=7)
        first.witness_once()
        first.sign_if_due()
        first.close()
        self._fill(store, 10)
        second = self._witness(store, witness_dir, sign_every=7)
        assert (second.size, second.signed) == (20, 20)
        second.witness_once()
        second.sign_if_due()
        heads, entries = read_witness(witness_dir.directory)
        assert [h["size"] for h in heads] == [20, 30]
        assert [p for p, _ in entries] == list(range(1, 31))
        assert self._audit(store, witness_dir).ok

    # -- closing and reopening -------------------------------------------------------------
    def test_given_a_closed_store_when_reopened_then_everything_is_kept_and_the_chain_continues(self, store):
        first = store.append("a", items(2), 0, command_id="cmd-1")
        store.append("b", items(1), 0)
        store.save_checkpoint("relay", 2)
        head, log = snapshot(store)
        old = store
        store = self.reopen(store)
        with pytest.raises(StoreUnavailable):
            old.head()
        assert snapshot(store) == (head, log)
        assert store.get_checkpoint("relay") == 2
        again = store.append("a", items(1, "retry"), 0, command_id="cmd-1")
        assert again.duplicate and again.events == first.events
        later = store.append("a", items(1, "later"), 2)
        assert later.events[0].position == 4
        assert later.events[0].prev_hash == head.hash
        assert verify_store(store).checked == 4 and verify_store(store).ok

    # -- consumers' bookkeeping --------------------------------------------------------------
    def test_checkpoints_start_at_zero_and_never_move_backwards(self, store):
        assert store.get_checkpoint("relay") == 0
        store.save_checkpoint("relay", 5)
        store.save_checkpoint("relay", 3)
        assert store.get_checkpoint("relay") == 5
        store.save_checkpoint("relay", 8)
        assert store.get_checkpoint("relay") == 8
        store.save_checkpoint("forms", 1)
        assert (store.get_checkpoint("forms"), store.get_checkpoint("relay")) == (1, 8)

    def test_given_a_lease_held_when_another_owner_asks_then_it_is_refused(self, store):
        assert store.acquire_lease("relay", "owner-a", 60) is True
        assert store.acquire_lease("relay", "owner-b", 60) is False
        assert store.acquire_lease("other", "owner-b", 60) is True

    def test_given_a_lease_held_when_the_holder_asks_again_then_it_is_renewed(self, store):
        assert store.acquire_lease("relay", "owner-a", 0.05) is True
        assert store.acquire_lease("relay", "owner-a", 60) is True
        time.sleep(0.1)  # past the first ttl, within the renewed one
        assert store.acquire_lease("relay", "owner-b", 60) is False

    def test_given_a_lease_expired_when_another_owner_asks_then_it_takes_it(self, store):
        assert store.acquire_lease("relay", "owner-a", 0.05) is True
        time.sleep(0.1)
        assert store.acquire_lease("relay", "owner-b", 60) is True
        assert store.acquire_lease("relay", "owner-a", 60) is False

    def test_given_a_lease_released_then_another_owner_takes_it_but_only_the_holder_can_release(self, store):
        assert store.acquire_lease("relay", "owner-a", 60) is True
        store.release_lease("relay", "owner-b")
        assert store.acquire_lease("relay", "owner-c", 60) is False
        store.release_lease("relay", "owner-a")
        assert store.acquire_lease("relay", "owner-b", 60) is True

    def test_a_lease_shows_its_holder_and_expiry_until_released(self, store):
        assert store.lease("relay") is None
        before = time.time()
        assert store.acquire_lease("relay", "owner-a", 30) is True
        held = store.lease("relay")
        assert (held.name, held.owner) == ("relay", "owner-a")
        assert before + 30 <= held.expires_at <= time.time() + 30
        assert store.acquire_lease("relay", "owner-b", 60) is False
        assert store.lease("relay") == held  # a refused request changes nothing
        store.release_lease("relay", "owner-a")
        assert store.lease("relay") is None

    def test_an_expired_lease_is_still_shown_with_its_past_expiry(self, store):
        assert store.acquire_lease("relay", "owner-a", 0.05) is True
        time.sleep(0.1)
        held = store.lease("relay")
        assert held.owner == "owner-a" and held.expires_at < time.time()
