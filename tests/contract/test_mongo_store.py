"""The MongoDB backend against the store contract: on the in-process engine
(mongomock) always, on a real server when ``MONGO_URI`` is set; and its own
rules (document layout, opening, driver errors, position races)."""
from __future__ import annotations

import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import mongomock
import orjson
import pymongo
import pytest
from pymongo.errors import AutoReconnect

from services.eventstore import open_store
from services.eventstore.chain import verify_store
from services.eventstore.errors import ConcurrencyError, DamagedRecord, StoreConfigError, StoreUnavailable
from services.eventstore.mongo import MongoEventStore
from tests.contract.store_contract import StoreContract, item, items, positions

MONGO_URI = os.environ.get("MONGO_URI")
needs_mongo = pytest.mark.skipif(
    not MONGO_URI, reason="no MongoDB server here: set MONGO_URI=mongodb://host:27017 to run these")


def with_database(uri: str, database: str) -> str:
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(path="/" + database))


def commit_of(database, position: int) -> dict:
    return database["commits"].find_one({"_id": {"$lte": position}}, sort=[("_id", -1)])


class MongoHooks:
    """Raw pymongo edits of the ``commits`` collection (works on both engines)."""

    per_append_fields = ("stream_id", "recorded_at")

    def tamper(self, store, position, field, value):
        if field in ("data", "metadata") and isinstance(value, dict):
            value = orjson.dumps(value).decode()  # stored as JSON text, as the store writes it
        commits = store.database["commits"]
        doc = commit_of(store.database, position)
        if field in self.per_append_fields:
            commits.update_one({"_id": doc["_id"]}, {"$set": {field: value}})
            return
        index = [record["position"] for record in doc["events"]].index(position)
        commits.update_one({"_id": doc["_id"]}, {"$set": {f"events.{index}.{field}": value}})

    def delete(self, store, position):
        commits = store.database["commits"]
        doc = commit_of(store.database, position)
        kept = [record for record in doc["events"] if record["position"] != position]
        if kept:  # cover the tracks: the commit ends where its records end
            commits.update_one({"_id": doc["_id"]}, {"$set": {"events": kept, "last": kept[-1]["position"]}})
        else:
            commits.delete_one({"_id": doc["_id"]})

    def reopen(self, store, validator=None):
        store.close()
        return self._open(validator)


class TestMongomockStore(MongoHooks, StoreContract):
    paging_events = 600
    page_size = 50  # commits per read page: 600 events in 120 commits span three pages

    @pytest.fixture
    def store(self):
        """A fresh database on an in-process engine; reopening reuses the
        engine's client, which holds the data."""
        self.client = mongomock.MongoClient()
        self.uri = f"mongomock://test/vsc-{uuid.uuid4().hex}"
        self.opened = []
        yield self._open()
        for store in self.opened:
            store.close()

    def _open(self, validator=None):
        store = MongoEventStore.from_uri(self.uri, validator, client=self.client, page_size=self.page_size)
        self.opened.append(store)
        return store


@needs_mongo
class TestRealMongoStore(MongoHooks, StoreContract):
    @pytest.fixture
    def store(self):
        """A fresh database per test on the server at MONGO_URI, dropped afterwards."""
        self.uri = with_database(MONGO_URI, f"vsc-test-{uuid.uuid4().hex[:12]}")
        self.opened = []
        yield self._open()
        for store in self.opened:
            store.close()
        with pymongo.MongoClient(self.uri) as client:
            client.drop_database(client.get_default_database())

    def _open(self, validator=None):
        store = MongoEventStore.from_uri(self.uri, validator)
        self.opened.append(store)
        return store


@pytest.fixture
def store():
    with MongoEventStore.from_uri(f"mongomock://test/vsc-{uuid.uuid4().hex}") as opened:
        yield opened


class TestMongoLayout:
    def test_an_append_is_one_document_holding_its_records(self, store):
        store.append("a", items(1), 0)
        result = store.append("b", items(3), 0, command_id="cmd-1")
        docs = list(store.database["commits"].find().sort("_id", 1))
        assert [doc["_id"] for doc in docs] == [1, 2]
        assert "command_id" not in docs[0]
        doc = docs[1]
        assert (doc["last"], doc["stream_id"], doc["version_from"], doc["version_to"], doc["command_id"]) == (
            4, "b", 1, 3, "cmd-1")
        assert doc["recorded_at"] == result.events[0].recorded_at
        assert [record["position"] for record in doc["events"]] == [2, 3, 4]
        assert [record["hash"] for record in doc["events"]] == [event.hash for event in result.events]
        assert doc["events"][0]["data"] == '{"item":"item-0"}'  # the JSON text the hash covers

    def test_data_stored_as_a_sub_document_is_damage_at_its_position(self, store):
        # how commits written before data was stored as JSON text look, or a forger's edit
        store.append("a", items(3), 0)
        store.database["commits"].update_one({"_id": 1}, {"$set": {"events.1.data": {"item": "item-1"}}})
        result = verify_store(store)
        assert (result.ok, result.first_bad_position, result.problem) == (False, 2, "data is not stored as JSON text")
        with pytest.raises(DamagedRecord) as raised:
            list(store.read_all())
        assert raised.value.position == 2

    def test_the_conflicts_are_guarded_by_unique_indexes(self, store):
        indexes = {tuple(spec["key"]): spec for spec in store.database["commits"].index_information().values()}
        assert indexes[(("stream_id", 1), ("version_from", 1))]["unique"]
        assert indexes[(("events.event_id", 1),)]["unique"]
        command = indexes[(("command_id", 1),)]
        assert command["unique"] and command["partialFilterExpression"] == {"command_id": {"$exists": True}}
        assert (("recorded_at", 1), ("_id", 1)) in indexes


class TestMongoOpening:
    @pytest.mark.parametrize("uri, database", [
        ("mongomock://test", "vsc"), ("mongomock://test/", "vsc"), ("mongomock://test/desk-logs", "desk-logs")])
    def test_the_database_is_the_uri_path(self, uri, database):
        with open_store(uri) as store:
            assert isinstance(store, MongoEventStore)
            assert store.database.name == database
            store.append("a", items(1), 0)
            assert store.head().position == 1

    def test_every_mongomock_open_is_a_fresh_engine(self):
        with open_store("mongomock://test/vsc") as first:
            first.append("a", items(1), 0)
            with open_store("mongomock://test/vsc") as second:
                assert second.head().position == 0

    @pytest.mark.parametrize("uri", [
        "mongodb://localhost:99999/vsc",
        "mongodb://",
        "mongodb://localhost/bad db",
        "mongodb://localhost/vsc?serverSelectionTimeoutMS=soon",
        "mongodb://localhost/vsc?unknownOption=1",
        "mongo://localhost/vsc",
    ])
    def test_a_malformed_uri_is_a_config_error(self, uri):
        with pytest.raises(StoreConfigError):
            MongoEventStore.from_uri(uri)

    def test_reads_go_to_the_primary_whatever_the_client_prefers(self):
        client = mongomock.MongoClient(read_preference=pymongo.ReadPreference.SECONDARY)
        with MongoEventStore.from_uri("mongomock://test/vsc", client=client) as store:
            assert store.database.read_preference == pymongo.ReadPreference.PRIMARY
            assert store.database["commits"].read_preference == pymongo.ReadPreference.PRIMARY

    def test_unacknowledged_writes_are_a_config_error(self):
        # w=0 would hide the duplicate keys that order the log
        with pytest.raises(StoreConfigError):
            MongoEventStore.from_uri("mongodb://127.0.0.1:1/vsc?w=0&serverSelectionTimeoutMS=300")

    def test_an_unreachable_server_is_unavailable(self):
        with pytest.raises(StoreUnavailable) as raised:
            open_store("mongodb://127.0.0.1:1/vsc?serverSelectionTimeoutMS=300")
        assert "127.0.0.1:1" in str(raised.value)

    def test_credentials_are_not_shown_in_errors(self):
        with pytest.raises(StoreUnavailable) as raised:
            open_store("mongodb://clerk:s3cret@127.0.0.1:1/vsc?serverSelectionTimeoutMS=300")
        assert "s3cret" not in str(raised.value)

    def test_a_closed_store_refuses_work_but_leaves_a_client_it_does_not_own_open(self):
        client = mongomock.MongoClient()
        store = MongoEventStore.from_uri("mongomock://test/vsc", client=client)
        store.append("a", items(1), 0)
        store.close()
        store.close()
        for call in (store.head, lambda: store.append("a", items(1), 1), lambda: list(store.read_all()),
                     lambda: store.get_checkpoint("relay"), lambda: store.acquire_lease("relay", "me", 5)):
            with pytest.raises(StoreUnavailable):
                call()
        assert client["vsc"]["commits"].count_documents({}) == 1


class TestMongoDriverErrors:
    @pytest.fixture
    def broken(self, store, monkeypatch):
        """The store with a connection that drops on every query."""
        store.append("a", items(2), 0)

        def drop(*args, **kwargs):
            raise AutoReconnect("connection reset by peer")

        for method in ("find", "find_one", "insert_one"):
            monkeypatch.setattr(store._commits, method, drop)
        monkeypatch.setattr(store._checkpoints, "update_one", drop)
        return store

    @pytest.mark.parametrize("call", [
        lambda s: s.head(),
        lambda s: s.append("a", items(1), 2),
        lambda s: list(s.read_all()),
        lambda s: list(s.read_all(after=1)),
        lambda s: s.read_stream("a"),
        lambda s: s.position_at("2999-01-01T00:00:00.000000Z"),
        lambda s: s.save_checkpoint("relay", 1),
    ])
    def test_a_dropped_connection_is_store_unavailable(self, broken, call):
        with pytest.raises(StoreUnavailable) as raised:
            call(broken)
        assert "connection reset by peer" in str(raised.value)


class TestMongoPositionRaces:
    """Another writer commits between this writer's head read and its insert."""

    @pytest.fixture
    def rival(self, store):
        return MongoEventStore(store.client, store.database.name, owns_client=False)

    def race(self, monkeypatch, store, rival_append):
        read_head = store._head
        calls = []

        def head_then_rival():
            head = read_head()
            if not calls:
                calls.append(rival_append())
            return head

        monkeypatch.setattr(store, "_head", head_then_rival)
        return calls

    def test_when_the_position_was_taken_then_the_append_retries_on_the_new_head(self, store, rival, monkeypatch):
        store.append("a", items(1), 0)
        calls = self.race(monkeypatch, store, lambda: rival.append("b", items(2, "rival"), 0))
        mine = store.append("a", items(2, "mine"), 1)
        assert positions(calls[0].events) == [2, 3]
        assert positions(mine.events) == [4, 5]
        assert mine.events[0].prev_hash == calls[0].events[-1].hash
        assert verify_store(store).checked == 5 and verify_store(store).ok

    def test_when_the_stream_moved_during_the_append_then_concurrency_error(self, store, rival, monkeypatch):
        store.append("a", items(1), 0)
        self.race(monkeypatch, store, lambda: rival.append("a", [item("rival")], 1))
        with pytest.raises(ConcurrencyError) as raised:
            store.append("a", [item("mine")], 1)
        assert raised.value.actual_version == 2
        assert [e.data["item"] for e in store.read_stream("a", after_version=1)] == ["rival"]

    def test_when_the_same_command_landed_during_the_append_then_its_result_is_returned(
            self, store, rival, monkeypatch):
        calls = self.race(monkeypatch, store, lambda: rival.append("a", items(2, "rival"), 0, command_id="cmd-1"))
        mine = store.append("a", items(2, "mine"), 0, command_id="cmd-1")
        assert mine.duplicate is True
        assert mine.events == calls[0].events
        assert store.head().position == 2
