"""The embedded default backend: one SQLite file, WAL mode, safe for several
threads and several processes on one machine.

Appends run under ``BEGIN IMMEDIATE``, which takes the database's single
write lock before reading the head, so positions are claimed in commit order
and without gaps. Durability: WAL with ``synchronous=FULL`` (SQLite's default),
so a committed append survives a process crash and a power cut.

In a process eventlet has monkey-patched (a nameko service), every write
(an append, a checkpoint, a lease) runs in eventlet's thread pool: ``sqlite3``
is not cooperative, and a commit's fsync (1-2 ms, up to tens under load)
would otherwise stop every greenlet of the process, requests and broker
heartbeats alike (bench/RESULTS.md, "The store's commit on the hub"). Reads
stay on the hub: in WAL mode they never wait for a writer, and a replay is
Python CPU work that threads would only slow down.
"""
from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import time
from typing import Iterator, Sequence

import orjson

from services.blocking import os_lock, writer
from services.eventstore.chain import canonical_payloads, chain_hash
from services.eventstore.errors import CommandIdConflict, ConcurrencyError, InvalidEvent, StoreUnavailable
from services.eventstore.interface import (
    GENESIS_HASH, AppendResult, EventStore, EventValidator, FoldRecord, Head, Lease, NewEvent, RawRecord,
    StoredEvent, utc_now,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position       INTEGER PRIMARY KEY,
    stream_id      TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    event_id       TEXT    NOT NULL UNIQUE,
    type           TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    data           TEXT    NOT NULL,
    metadata       TEXT    NOT NULL,
    occurred_at    TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL,
    prev_hash      TEXT    NOT NULL,
    hash           TEXT    NOT NULL,
    UNIQUE (stream_id, version)
);
CREATE TABLE IF NOT EXISTS commands (
    command_id     TEXT PRIMARY KEY,
    stream_id      TEXT    NOT NULL,
    first_position INTEGER NOT NULL,
    last_position  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    name     TEXT PRIMARY KEY,
    position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
    name       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""

_COLUMNS = ("position, stream_id, version, event_id, type, schema_version, data, metadata, "
            "occurred_at, recorded_at, prev_hash, hash")
# Rows per page of a replay. Small pages decode faster (measured: 128-256 rows
# about 10% faster than 2,000, see bench/RESULTS.md), likely because a page's
# rows and events stay in the CPU caches.
_PAGE = 256
_loads = orjson.loads
_HEAD_AND_VERSION = ("SELECT (SELECT version FROM events WHERE stream_id = ? ORDER BY version DESC LIMIT 1), "
                     "position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1")
_WIDTH = _COLUMNS.count(",") + 1
# rows per INSERT statement: well inside SQLite's limit of 32,766 parameters
_ROWS_PER_INSERT = 256
_new = tuple.__new__  # builds a NamedTuple without its Python-level __new__


@functools.lru_cache(maxsize=_ROWS_PER_INSERT)
def _insert_rows(count: int) -> str:
    row = "(" + ",".join("?" * _WIDTH) + ")"
    return f"INSERT INTO events ({_COLUMNS}) VALUES " + ",".join([row] * count)


# data as the stored UTF-8 bytes: orjson parses them without a str made first
_FOLD_COLUMNS = ("position, stream_id, version, event_id, type, schema_version, CAST(data AS BLOB), "
                 "occurred_at, recorded_at")
_RAW_COLUMNS = _COLUMNS.replace("data, metadata", "CAST(data AS BLOB), CAST(metadata AS BLOB)")


def _rows_to_events(rows, _new=_new, _cls=StoredEvent, _loads=_loads) -> list[StoredEvent]:
    # The hot loop of a replay: unpacking in the comprehension and
    # tuple.__new__ skip the per-row function call and NamedTuple.__new__
    # (about 20% of the per-row cost).
    try:
        return [_new(_cls, (p, s, v, e, t, sv, _loads(d), _loads(m), oa, ra, ph, h))
                for p, s, v, e, t, sv, d, m, oa, ra, ph, h in rows]
    except ValueError:  # orjson.JSONDecodeError: data altered outside the store
        raise EventStore._damaged([(row[0], row[6], row[7]) for row in rows]) from None


def _lenient_text(value: bytes) -> str:
    # text that is not UTF-8 (written outside the store) comes back with
    # surrogates, which the chain's JSON encoder refuses: damage, not a crash
    return value.decode("utf-8", "surrogateescape")


class SQLiteEventStore(EventStore):
    def __init__(self, path: str, validator: EventValidator | None = None, busy_timeout: float = 30.0):
        super().__init__(validator)
        self.path = path
        self._busy_timeout = busy_timeout
        # Idle connections, borrowed for one operation at a time: a connection
        # is never used by two threads (or greenlets) at once, and the pool
        # only grows to the number of operations that ran concurrently.
        self._idle: list[sqlite3.Connection] = []
        self._lock = os_lock()
        self._write = writer()
        self._closed = False
        directory = os.path.dirname(os.path.abspath(path))
        try:
            os.makedirs(directory, exist_ok=True)
            with self._borrow() as connection:
                connection.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"cannot open SQLite event store at {path!r}: {exc}") from exc

    def _take(self) -> sqlite3.Connection:
        """Borrow a connection; hand it back with :meth:`_give` in a
        ``finally``. (The hot paths use this pair directly: it costs about a
        third of the ``contextlib`` generator in :meth:`_borrow`.)"""
        with self._lock:
            if self._closed:
                raise StoreUnavailable("the event store is closed")
            connection = self._idle.pop() if self._idle else None
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=self._busy_timeout,
                                         isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
        return connection

    def _give(self, connection: sqlite3.Connection) -> None:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        with self._lock:
            if self._closed:
                connection.close()
            else:
                self._idle.append(connection)

    @contextlib.contextmanager
    def _borrow(self) -> Iterator[sqlite3.Connection]:
        connection = self._take()
        try:
            yield connection
        finally:
            self._give(connection)

    # -- writing -------------------------------------------------------------
    def append(self, stream_id: str, events: Sequence[NewEvent], expected_version: int,
               command_id: str | None = None) -> AppendResult:
        self._check_new_events(stream_id, events, expected_version)
        payloads = canonical_payloads(events)
        return self._write(self._append_borrowing, stream_id, events, payloads, expected_version, command_id)

    def _append_borrowing(self, stream_id, events, payloads, expected_version, command_id) -> AppendResult:
        connection = self._take()
        try:
            return self._append(connection, stream_id, events, payloads, expected_version, command_id)
        finally:
            self._give(connection)

    def _append(self, connection, stream_id, events, payloads, expected_version, command_id) -> AppendResult:
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"event store is locked or unreadable: {exc}") from exc
        try:
            if command_id is not None:
                earlier = self._command_result(connection, command_id)
                if earlier is not None:
                    connection.execute("ROLLBACK")
                    if earlier.stream_id != stream_id:
                        raise CommandIdConflict(command_id, stream_id, earlier.stream_id)
                    return earlier
            # One statement reads the stream's version (index-only, on the
            # (stream_id, version) index) and the log's head (last rowid).
            head = connection.execute(_HEAD_AND_VERSION, (stream_id,)).fetchone()
            if head is None:
                current, position, prev_hash, last_recorded = 0, 0, GENESIS_HASH, ""
            else:
                current, position, prev_hash, last_recorded = head
                current = current or 0
            if current != expected_version:
                raise ConcurrencyError(stream_id, expected_version, current)
            # recorded_at never goes backwards along the log, so "as of a time"
            # is a prefix of the log even when clocks of two processes differ.
            recorded_at = max(utc_now(), last_recorded)
            values, stored = [], []
            version = current
            for event, (data_json, metadata_json) in zip(events, payloads):
                position += 1
                version += 1
                event_id, event_type, schema_version, occurred_at = (
                    event.event_id, event.type, event.schema_version, event.occurred_at)
                hash_ = chain_hash(prev_hash, position, stream_id, version, event_id, event_type,
                                   schema_version, occurred_at, recorded_at, data_json, metadata_json)
                values += (position, stream_id, version, event_id, event_type, schema_version,
                           data_json.decode(), metadata_json.decode(), occurred_at, recorded_at, prev_hash, hash_)
                stored.append(_new(StoredEvent, (position, stream_id, version, event_id, event_type, schema_version,
                                                 event.data, event.metadata, occurred_at, recorded_at,
                                                 prev_hash, hash_)))
                prev_hash = hash_
            # one INSERT of many rows: cheaper than executemany's per-row
            # statement resets (the statement cache keeps one per row count)
            for start in range(0, len(values), _ROWS_PER_INSERT * _WIDTH):
                chunk = values[start:start + _ROWS_PER_INSERT * _WIDTH]
                connection.execute(_insert_rows(len(chunk) // _WIDTH), chunk)
            if command_id is not None:
                connection.execute("INSERT INTO commands VALUES (?,?,?,?)",
                                   (command_id, stream_id, stored[0].position, position))
            connection.execute("COMMIT")
        except BaseException as exc:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            if isinstance(exc, sqlite3.IntegrityError):
                # the write lock was held since the version check: an event id is taken
                taken = {row[0] for row in connection.execute(
                    f"SELECT event_id FROM events WHERE event_id IN ({','.join('?' * len(events))})",
                    [event.event_id for event in events])}
                for index, event in enumerate(events):
                    if event.event_id in taken:
                        raise InvalidEvent(f"events[{index}].event_id",
                                           f"event id {event.event_id!r} is already stored") from exc
                raise ConcurrencyError(stream_id, expected_version, self._version(connection, stream_id)) from exc
            if isinstance(exc, sqlite3.Error):
                raise StoreUnavailable(f"append failed: {exc}") from exc
            raise
        return AppendResult(stream_id, tuple(stored), version)

    def _command_result(self, connection, command_id: str) -> AppendResult | None:
        row = connection.execute(
            "SELECT stream_id, first_position, last_position FROM commands WHERE command_id = ?",
            (command_id,)).fetchone()
        if row is None:
            return None
        events = tuple(_rows_to_events(connection.execute(
            f"SELECT {_COLUMNS} FROM events WHERE position BETWEEN ? AND ? ORDER BY position",
            (row[1], row[2]))))
        return AppendResult(row[0], events, events[-1].version, duplicate=True)

    # -- reading -------------------------------------------------------------
    def read_stream(self, stream_id: str, after_version: int = 0) -> list[StoredEvent]:
        rows = self._fetch(f"SELECT {_COLUMNS} FROM events WHERE stream_id = ? AND version > ? "
                           "ORDER BY version", (stream_id, after_version))
        return _rows_to_events(rows)

    def read_all(self, after: int = 0, until: int | None = None, limit: int | None = None) -> Iterator[StoredEvent]:
        upper = until if until is not None else (1 << 62)
        remaining = limit if limit is not None else (1 << 62)
        # Pages keyed by position: each page is one short read transaction, so
        # a long replay never holds the WAL back from checkpointing.
        while remaining > 0:
            page = min(_PAGE, remaining)
            rows = self._fetch(f"SELECT {_COLUMNS} FROM events WHERE position > ? AND position <= ? "
                               "ORDER BY position LIMIT ?", (after, upper, page))
            if not rows:
                return
            yield from _rows_to_events(rows)
            after = rows[-1][0]
            remaining -= len(rows)
            if len(rows) < page:
                return

    def read_for_folds(self, after: int = 0, until: int | None = None) -> Iterator[FoldRecord]:
        # fewer columns and one JSON parse per row: 1.5-1.9x read_all (bench/RESULTS.md)
        upper = until if until is not None else (1 << 62)
        while True:
            rows = self._fetch(f"SELECT {_FOLD_COLUMNS} FROM events WHERE position > ? AND position <= ? "
                               "ORDER BY position LIMIT ?", (after, upper, _PAGE))
            if not rows:
                return
            try:
                yield from [_new(FoldRecord, (p, s, v, e, t, sv, _loads(d), oa, ra))
                            for p, s, v, e, t, sv, d, oa, ra in rows]
            except ValueError:  # orjson.JSONDecodeError: data altered outside the store
                raise EventStore._damaged([(row[0], row[6], b"{}") for row in rows]) from None
            after = rows[-1][0]
            if len(rows) < _PAGE:
                return

    def read_raw(self, after: int = 0, until: int | None = None) -> Iterator[RawRecord]:
        upper = until if until is not None else (1 << 62)
        sql = (f"SELECT {_RAW_COLUMNS} FROM events WHERE position > ? AND position <= ? "
               "ORDER BY position LIMIT ?")
        while True:
            connection = self._take()
            try:
                try:
                    rows = connection.execute(sql, (after, upper, _PAGE)).fetchall()
                except sqlite3.OperationalError:  # e.g. text that is not UTF-8: read this page leniently
                    connection.text_factory = _lenient_text
                    try:
                        rows = connection.execute(sql, (after, upper, _PAGE)).fetchall()
                    finally:
                        connection.text_factory = str
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"reading the log after position {after} failed: {exc}") from exc
            finally:
                self._give(connection)
            yield from (_new(RawRecord, row) for row in rows)
            if len(rows) < _PAGE:
                return
            after = rows[-1][0]

    def _fetch(self, sql: str, args: tuple) -> list:
        connection = self._take()
        try:
            return connection.execute(sql, args).fetchall()
        finally:
            self._give(connection)

    @staticmethod
    def _version(connection, stream_id: str) -> int:
        row = connection.execute("SELECT max(version) FROM events WHERE stream_id = ?", (stream_id,)).fetchone()
        return row[0] or 0

    def head(self) -> Head:
        rows = self._fetch("SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1", ())
        return Head(*rows[0]) if rows else Head(0, GENESIS_HASH, None)

    def stream_version(self, stream_id: str) -> int:
        with self._borrow() as connection:
            return self._version(connection, stream_id)

    def command_result(self, command_id: str) -> AppendResult | None:
        with self._borrow() as connection:
            return self._command_result(connection, command_id)

    def position_at(self, recorded_at: str) -> int:
        # recorded_at never goes backwards along the log (see _append), so the
        # records at or before a time are a prefix of it: a binary search on
        # the position (the rowid) finds its end in ~log2(n) point reads. No
        # index on recorded_at: it would cost every append one more page to
        # write and sync (about 7% of single-event append throughput).
        connection = self._take()
        try:
            connection.execute("BEGIN")  # one snapshot for all the probes
            low, high = 0, connection.execute("SELECT max(position) FROM events").fetchone()[0] or 0
            # low is 0 or a record at or before the time; every record after high is later
            while low < high:
                middle = (low + high + 1) // 2
                position, at = connection.execute(
                    "SELECT position, recorded_at FROM events WHERE position >= ? ORDER BY position LIMIT 1",
                    (middle,)).fetchone()
                if at <= recorded_at:
                    low = position
                else:
                    high = middle - 1
            return low
        finally:
            self._give(connection)  # ends the read transaction

    # -- bookkeeping ---------------------------------------------------------
    def get_checkpoint(self, name: str) -> int:
        rows = self._fetch("SELECT position FROM checkpoints WHERE name = ?", (name,))
        return rows[0][0] if rows else 0

    def _write_row(self, sql: str, args: tuple) -> int:
        """One writing statement (autocommit: it syncs), in the writer's way; its row count."""
        def run():
            with self._borrow() as connection:
                return connection.execute(sql, args).rowcount
        return self._write(run)

    def save_checkpoint(self, name: str, position: int) -> None:
        self._write_row("INSERT INTO checkpoints (name, position) VALUES (?, ?) "
                        "ON CONFLICT(name) DO UPDATE SET position = max(position, excluded.position)",
                        (name, position))

    def acquire_lease(self, name: str, owner: str, ttl_seconds: float) -> bool:
        now = time.time()
        return self._write_row(
            "INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at "
            "WHERE leases.owner = excluded.owner OR leases.expires_at < ?",
            (name, owner, now + ttl_seconds, now)) == 1

    def release_lease(self, name: str, owner: str) -> None:
        self._write_row("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))

    def lease(self, name: str) -> Lease | None:
        rows = self._fetch("SELECT owner, expires_at FROM leases WHERE name = ?", (name,))
        return Lease(name, rows[0][0], rows[0][1]) if rows else None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for connection in self._idle:
                connection.close()
            self._idle.clear()
