"""The MongoDB backend: a real server (standalone or replica set) through
pymongo, or the in-process ``mongomock`` engine for tests.

Collections: ``commits`` (the log), ``checkpoints`` and ``leases``.
"""
from __future__ import annotations

import contextlib
import random
import re
import time
from typing import Iterator, Sequence
from urllib.parse import parse_qs, unquote, urlsplit

import orjson
from bson.errors import BSONError
from pymongo import ReadPreference
from pymongo.errors import ConfigurationError, DuplicateKeyError, InvalidName, PyMongoError

from services.eventstore.chain import canonical_payloads, chain_hash
from services.eventstore.errors import (
    CommandIdConflict, ConcurrencyError, DamagedRecord, InvalidEvent, StoreConfigError, StoreUnavailable,
)
from services.eventstore.interface import (
    GENESIS_HASH, AppendResult, EventStore, EventValidator, FoldRecord, Head, Lease, NewEvent, RawRecord, StoredEvent, utc_now,
)

DEFAULT_DATABASE = "vsc"
DEFAULT_SERVER_SELECTION_MS = 5000
_PAGE = 500          # commits per read_all query
_ATTEMPTS = 1000     # position claims one append may lose before giving up
_HEAD_PROJECTION = {"last": 1, "recorded_at": 1, "events": {"$slice": -1}}


def _stored_bytes(value):
    # the stored text as bytes; anything else is left for the verifier to refuse
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value


def _redact(uri: str) -> str:
    return re.sub(r"//[^@/]*@", "//***@", uri)


def _key_pattern(exc: DuplicateKeyError) -> dict | None:
    details = exc.details or {}
    return details.get("keyPattern")


class MongoEventStore(EventStore):
    """The log as one document per append ("commit") in ``commits``:
    ``_id`` is the commit's first position, ``last`` its last one, ``events``
    the records. A single-document insert is atomic on every deployment
    without a transaction, so a multi-event append is all or nothing; a writer
    claims ``_id = head.last + 1`` and the unique ``_id`` turns two writers
    racing for a position into a retry, so positions stay gap-free and in
    commit order. Unique indexes on (stream_id, version_from), command_id and
    events.event_id reject the other conflicts.

    ``client`` is used as given; the store closes it only when it owns it.
    """

    def __init__(self, client, database: str, validator: EventValidator | None = None, *,
                 owns_client: bool = True, page_size: int = _PAGE):
        super().__init__(validator)
        self.client = client
        self._owns_client = owns_client
        self._page = page_size
        self._closed = False
        try:
            # from the primary whatever the URI says: a claim of the next
            # position and a command's first result must see the newest commit
            self.database = client.get_database(database, read_preference=ReadPreference.PRIMARY)
        except (InvalidName, TypeError) as exc:
            if owns_client:
                client.close()
            raise StoreConfigError(f"{database!r} is not a valid MongoDB database name: {exc}") from exc
        self._commits = self.database["commits"]
        if not self._commits.write_concern.acknowledged:
            self.close()
            raise StoreConfigError("the event store needs acknowledged writes (w=0 hides duplicate keys)")
        self._checkpoints = self.database["checkpoints"]
        self._leases = self.database["leases"]
        try:
            self.database.command("ping")
            self._create_indexes()
        except PyMongoError as exc:
            self.close()
            raise StoreUnavailable(f"cannot open the MongoDB event store {database!r}: {exc}") from exc

    @classmethod
    def from_uri(cls, uri: str, validator: EventValidator | None = None, *, client=None,
                 page_size: int = _PAGE) -> "MongoEventStore":
        """Open ``mongodb://``, ``mongodb+srv://`` or ``mongomock://`` URIs;
        the database is the URI's path (default ``vsc``). Pass ``client`` to
        reuse an open client (the store then leaves it open on close): that is
        how tests reopen a ``mongomock://`` store, whose engine lives in the
        client."""
        scheme = uri.split("://", 1)[0] if isinstance(uri, str) and "://" in uri else ""
        try:
            parts = urlsplit(uri)
            query = {key.lower() for key in parse_qs(parts.query)}
        except (TypeError, ValueError) as exc:
            raise StoreConfigError(f"MongoDB URI {_redact(str(uri))!r} is malformed: {exc}") from exc
        owns = client is None
        database = unquote(parts.path.lstrip("/")) or DEFAULT_DATABASE
        if scheme == "mongomock":
            if client is None:
                try:
                    import mongomock  # only tests use this scheme
                except ImportError as exc:
                    raise StoreConfigError("mongomock:// needs the mongomock package (tests only)") from exc
                client = mongomock.MongoClient()
            return cls(client, database, validator, owns_client=owns, page_size=page_size)
        if scheme not in ("mongodb", "mongodb+srv"):
            raise StoreConfigError(f"{_redact(str(uri))!r} is not a MongoDB URI")
        if client is None:
            import pymongo
            from pymongo.uri_parser import parse_uri
            if scheme == "mongodb":  # strict and offline (+srv would need DNS)
                try:
                    parse_uri(uri)
                except (ConfigurationError, ValueError) as exc:
                    raise StoreConfigError(f"MongoDB URI {_redact(uri)!r} is malformed: {exc}") from exc
            options = {}
            if "serverselectiontimeoutms" not in query:
                options["serverSelectionTimeoutMS"] = DEFAULT_SERVER_SELECTION_MS
            try:
                client = pymongo.MongoClient(uri, **options)
            except (ConfigurationError, ValueError, TypeError) as exc:
                raise StoreConfigError(f"MongoDB URI {_redact(uri)!r} is malformed: {exc}") from exc
        try:
            return cls(client, database, validator, owns_client=owns, page_size=page_size)
        except StoreUnavailable as exc:
            raise StoreUnavailable(f"MongoDB at {_redact(uri)!r} is unavailable: {exc.__cause__}") from exc

    def _create_indexes(self) -> None:
        wanted = {
            "stream_version": ([("stream_id", 1), ("version_from", 1)], {"unique": True}),
            "command_id": ([("command_id", 1)], {
                "unique": True, "partialFilterExpression": {"command_id": {"$exists": True}}}),
            "event_id": ([("events.event_id", 1)], {"unique": True}),
            "recorded_at": ([("recorded_at", 1), ("_id", 1)], {}),
        }
        existing = self._commits.index_information()
        for name, (keys, options) in wanted.items():
            if name not in existing:  # only the missing ones: a reopen rebuilds nothing
                self._commits.create_index(keys, name=name, **options)

    @contextlib.contextmanager
    def _driver(self, action: str):
        if self._closed:
            raise StoreUnavailable("the event store is closed")
        try:
            yield
        except PyMongoError as exc:
            raise StoreUnavailable(f"MongoDB {action} failed: {exc}") from exc

    # -- writing -------------------------------------------------------------
    def append(self, stream_id: str, events: Sequence[NewEvent], expected_version: int,
               command_id: str | None = None) -> AppendResult:
        self._check_new_events(stream_id, events, expected_version)
        # data and metadata are stored as the very JSON text the hash covers,
        # so verification hashes the stored bytes (see chain.py)
        encoded = canonical_payloads(events)
        with self._driver("append"):
            # the same checks before the first claim as after a duplicate key;
            # the unique event-id index guards a server too, checking first
            # also names the event (and the in-process engine does not enforce it)
            earlier = self._explain_conflict(stream_id, expected_version, events, command_id)
            if earlier is not None:
                return earlier
            for attempt in range(_ATTEMPTS):
                commit, stored = self._commit(self._head(), stream_id, expected_version, events,
                                              encoded, command_id)
                try:
                    self._commits.insert_one(commit)
                except DuplicateKeyError as exc:
                    if _key_pattern(exc) != {"_id": 1}:
                        earlier = self._explain_conflict(stream_id, expected_version, events, command_id)
                        if earlier is not None:
                            return earlier
                    if attempt >= 3:  # another writer took the position; back off a little
                        time.sleep(random.random() * 0.001 * min(attempt, 20))
                    continue
                except (BSONError, OverflowError) as exc:  # e.g. DocumentTooLarge, a 2**63 integer
                    raise InvalidEvent("events", f"MongoDB cannot store this append: {exc}") from exc
                return AppendResult(stream_id, tuple(stored), stored[-1].version)
        raise StoreUnavailable(f"append to {stream_id!r} lost the race for a position {_ATTEMPTS} times")

    @staticmethod
    def _commit(head: Head, stream_id, expected_version, events, encoded, command_id):
        position, prev_hash = head.position, head.hash
        # never backwards along the log, so "as of a time" is a prefix of it
        recorded_at = max(utc_now(), head.recorded_at or "")
        version = expected_version
        records, stored = [], []
        for event, (data_json, metadata_json) in zip(events, encoded):
            position += 1
            version += 1
            hash_ = chain_hash(prev_hash, position, stream_id, version, event.event_id, event.type,
                               event.schema_version, event.occurred_at, recorded_at, data_json, metadata_json)
            records.append({
                "position": position, "version": version, "event_id": event.event_id,
                "type": event.type, "schema_version": event.schema_version, "data": data_json.decode(),
                "metadata": metadata_json.decode(), "occurred_at": event.occurred_at,
                "prev_hash": prev_hash, "hash": hash_,
            })
            stored.append(StoredEvent(position, stream_id, version, event.event_id, event.type,
                                      event.schema_version, event.data, event.metadata, event.occurred_at,
                                      recorded_at, prev_hash, hash_))
            prev_hash = hash_
        commit = {
            "_id": head.position + 1, "last": position, "stream_id": stream_id,
            "version_from": expected_version + 1, "version_to": version,
            "recorded_at": recorded_at, "events": records,
        }
        if command_id is not None:
            commit["command_id"] = command_id
        return commit, stored

    def _explain_conflict(self, stream_id, expected_version, events, command_id) -> AppendResult | None:
        """The first result of this command, or the error to raise; None when
        the append may go ahead (after a duplicate key: only the position was
        taken)."""
        if command_id is not None:
            earlier = self._command_result(command_id)
            if earlier is not None:
                if earlier.stream_id != stream_id:
                    raise CommandIdConflict(command_id, stream_id, earlier.stream_id)
                return earlier
        current = self._version(stream_id)
        if current != expected_version:
            raise ConcurrencyError(stream_id, expected_version, current)
        self._check_event_ids_free(events)
        return None

    def _check_event_ids_free(self, events: Sequence[NewEvent]) -> None:
        ids = [event.event_id for event in events]
        taken = set()
        for doc in self._commits.find({"events.event_id": {"$in": ids}}, {"events.event_id": 1}):
            taken.update(record["event_id"] for record in doc["events"])
        for index, event in enumerate(events):
            if event.event_id in taken:
                raise InvalidEvent(f"events[{index}].event_id", f"event id {event.event_id!r} is already stored")

    # -- reading -------------------------------------------------------------
    @staticmethod
    def _records(doc, _loads=orjson.loads) -> list[StoredEvent]:
        stream_id, recorded_at = doc["stream_id"], doc["recorded_at"]
        try:
            return [StoredEvent(r["position"], stream_id, r["version"], r["event_id"], r["type"],
                                r["schema_version"], _loads(r["data"]), _loads(r["metadata"]), r["occurred_at"],
                                recorded_at, r["prev_hash"], r["hash"]) for r in doc["events"]]
        except ValueError:  # orjson.JSONDecodeError (also for a non-text value): altered outside the store
            raise EventStore._damaged([(r.get("position"), r.get("data"), r.get("metadata"))
                                       for r in doc["events"]]) from None

    @classmethod
    def _records_between(cls, doc, lower, upper) -> list[StoredEvent]:
        """The commit's records; a damaged one raises only when it lies in
        (lower, upper], the part of the commit a read asked for."""
        try:
            return cls._records(doc)
        except DamagedRecord:
            wanted = [r for r in doc["events"] if lower < r["position"] <= upper]
            return cls._records(dict(doc, events=wanted)) if wanted else []

    @staticmethod
    def _raw_records(doc, _lower=None, _upper=None) -> list[RawRecord]:
        stream_id, recorded_at = doc.get("stream_id"), doc.get("recorded_at")
        return [RawRecord(r.get("position"), stream_id, r.get("version"), r.get("event_id"), r.get("type"),
                          r.get("schema_version"), _stored_bytes(r.get("data")), _stored_bytes(r.get("metadata")),
                          r.get("occurred_at"), recorded_at, r.get("prev_hash"), r.get("hash"))
                for r in doc.get("events", ())]

    def _command_result(self, command_id: str) -> AppendResult | None:
        doc = self._commits.find_one({"command_id": command_id})
        if doc is None:
            return None
        return AppendResult(doc["stream_id"], tuple(self._records(doc)), doc["version_to"], duplicate=True)

    def _version(self, stream_id: str) -> int:
        doc = self._commits.find_one({"stream_id": stream_id}, {"version_to": 1},
                                     sort=[("version_from", -1)])
        return doc["version_to"] if doc else 0

    def _head(self) -> Head:
        doc = self._commits.find_one({}, _HEAD_PROJECTION, sort=[("_id", -1)])
        if doc is None:
            return Head(0, GENESIS_HASH, None)
        return Head(doc["last"], doc["events"][-1]["hash"], doc["recorded_at"])

    def read_stream(self, stream_id: str, after_version: int = 0) -> list[StoredEvent]:
        with self._driver("read"):
            docs = list(self._commits.find({"stream_id": stream_id, "version_to": {"$gt": after_version}})
                        .sort("version_from", 1))
        return [event for doc in docs for event in self._records(doc) if event.version > after_version]

    def read_all(self, after: int = 0, until: int | None = None, limit: int | None = None) -> Iterator[StoredEvent]:
        return self._scan(self._records_between, after, until, limit)

    def read_for_folds(self, after: int = 0, until: int | None = None) -> Iterator[FoldRecord]:
        return self._scan(self._fold_records_between, after, until, None)

    @staticmethod
    def _fold_records_between(doc, lower, upper, _loads=orjson.loads, _new=tuple.__new__) -> list[FoldRecord]:
        stream_id, recorded_at = doc["stream_id"], doc["recorded_at"]
        wanted = [r for r in doc["events"] if lower < r["position"] <= upper]
        try:  # tuple.__new__ skips FoldRecord's Python-level __new__
            return [_new(FoldRecord, (r["position"], stream_id, r["version"], r["event_id"], r["type"],
                                      r["schema_version"], _loads(r["data"]), r["occurred_at"], recorded_at))
                    for r in wanted]
        except ValueError:  # altered outside the store
            raise EventStore._damaged([(r.get("position"), r.get("data"), "{}") for r in wanted]) from None

    def read_raw(self, after: int = 0, until: int | None = None) -> Iterator[RawRecord]:
        return self._scan(self._raw_records, after, until, None)

    def _scan(self, records_of, after, until, limit):
        upper = until if until is not None else (1 << 62)
        remaining = limit if limit is not None else (1 << 62)
        boundary = after  # every position <= boundary is behind us
        if after > 0 and remaining > 0:
            with self._driver("read"):
                doc = self._commits.find_one({"_id": {"$lte": after}}, sort=[("_id", -1)])
            if doc is not None and doc["last"] > after:  # `after` is inside this commit
                for event in records_of(doc, after, upper):
                    if after < event.position <= upper and remaining > 0:
                        remaining -= 1
                        yield event
                boundary = doc["last"]
        rechecked = None
        while remaining > 0 and boundary < upper:
            page = min(self._page, remaining)  # every commit holds at least one event
            with self._driver("read"):
                docs = list(self._commits.find({"_id": {"$gt": boundary, "$lte": upper}})
                            .sort("_id", 1).limit(page))
            for doc in docs:
                if doc["_id"] != boundary + 1 and rechecked != boundary:
                    # A query's snapshot may have missed a commit that landed
                    # while it ran (its successor could only be claimed after
                    # it was visible): read once more before calling it a gap.
                    rechecked = boundary
                    break
                for event in records_of(doc, boundary, upper):
                    if boundary < event.position <= upper and remaining > 0:
                        remaining -= 1
                        yield event
                boundary = doc["last"]
            else:
                if len(docs) < page:
                    return

    def head(self) -> Head:
        with self._driver("read"):
            return self._head()

    def stream_version(self, stream_id: str) -> int:
        with self._driver("read"):
            return self._version(stream_id)

    def command_result(self, command_id: str) -> AppendResult | None:
        with self._driver("read"):
            return self._command_result(command_id)

    def position_at(self, recorded_at: str) -> int:
        with self._driver("read"):
            doc = self._commits.find_one({"recorded_at": {"$lte": recorded_at}}, {"last": 1},
                                         sort=[("recorded_at", -1), ("_id", -1)])
        return doc["last"] if doc else 0

    # -- bookkeeping ---------------------------------------------------------
    def get_checkpoint(self, name: str) -> int:
        with self._driver("read"):
            doc = self._checkpoints.find_one({"_id": name})
        return doc["position"] if doc else 0

    def save_checkpoint(self, name: str, position: int) -> None:
        with self._driver("checkpoint"):
            try:
                self._checkpoints.update_one({"_id": name}, {"$max": {"position": position}}, upsert=True)
            except DuplicateKeyError:  # two first saves raced; the document exists now
                self._checkpoints.update_one({"_id": name}, {"$max": {"position": position}})

    def acquire_lease(self, name: str, owner: str, ttl_seconds: float) -> bool:
        now = time.time()
        with self._driver("lease"):
            try:
                self._leases.update_one(
                    {"_id": name, "$or": [{"owner": owner}, {"expires_at": {"$lt": now}}]},
                    {"$set": {"owner": owner, "expires_at": now + ttl_seconds}}, upsert=True)
            except DuplicateKeyError:  # the lease exists and someone else holds it
                return False
        return True

    def release_lease(self, name: str, owner: str) -> None:
        with self._driver("lease"):
            self._leases.delete_one({"_id": name, "owner": owner})

    def lease(self, name: str) -> Lease | None:
        with self._driver("read"):
            doc = self._leases.find_one({"_id": name})
        return Lease(name, doc["owner"], doc["expires_at"]) if doc else None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._owns_client:
            self.client.close()
