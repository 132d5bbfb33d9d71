"""The embedded default backend: one SQLite file, WAL mode, safe for several
threads and several processes on one machine.

Appends run under ``BEGIN IMMEDIATE``, which takes the database's single
write lock before reading the head, so positions are claimed in commit order
and without gaps. Durability: WAL with ``synchronous=FULL`` (SQLite's default),
so a committed append survives a process crash and a power cut.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from typing import Iterator, Sequence

import orjson

from services.eventstore.chain import canonical, link, record_bytes
from services.eventstore.errors import ConcurrencyError, StoreUnavailable
from services.eventstore.interface import (
    GENESIS_HASH, AppendResult, EventStore, EventValidator, Head, NewEvent, StoredEvent, utc_now,
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
CREATE INDEX IF NOT EXISTS events_recorded_at ON events (recorded_at);
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
_PAGE = 2000
_loads = orjson.loads


def _row_to_event(row) -> StoredEvent:
    return StoredEvent(row[0], row[1], row[2], row[3], row[4], row[5], _loads(row[6]),
                       _loads(row[7]), row[8], row[9], row[10], row[11])


class SQLiteEventStore(EventStore):
    def __init__(self, path: str, validator: EventValidator | None = None, busy_timeout: float = 30.0):
        super().__init__(validator)
        self.path = path
        self._busy_timeout = busy_timeout
        # Idle connections, borrowed for one operation at a time: a connection
        # is never used by two threads (or greenlets) at once, and the pool
        # only grows to the number of operations that ran concurrently.
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        directory = os.path.dirname(os.path.abspath(path))
        try:
            os.makedirs(directory, exist_ok=True)
            with self._borrow() as connection:
                connection.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"cannot open SQLite event store at {path!r}: {exc}") from exc

    @contextlib.contextmanager
    def _borrow(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise StoreUnavailable("the event store is closed")
            connection = self._idle.pop() if self._idle else None
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=self._busy_timeout,
                                         isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
        try:
            yield connection
        finally:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            with self._lock:
                if self._closed:
                    connection.close()
                else:
                    self._idle.append(connection)

    # -- writing -------------------------------------------------------------
    def append(self, stream_id: str, events: Sequence[NewEvent], expected_version: int,
               command_id: str | None = None) -> AppendResult:
        self._check_new_events(stream_id, events, expected_version)
        with self._borrow() as connection:
            return self._append(connection, stream_id, events, expected_version, command_id)

    def _append(self, connection, stream_id, events, expected_version, command_id) -> AppendResult:
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"event store is locked or unreadable: {exc}") from exc
        try:
            if command_id is not None:
                earlier = self._command_result(connection, command_id)
                if earlier is not None:
                    connection.execute("ROLLBACK")
                    return earlier
            current = self._version(connection, stream_id)
            if current != expected_version:
                raise ConcurrencyError(stream_id, expected_version, current)
            head = connection.execute(
                "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1").fetchone()
            position, prev_hash, last_recorded = head if head else (0, GENESIS_HASH, "")
            # recorded_at never goes backwards along the log, so "as of a time"
            # is a prefix of the log even when clocks of two processes differ.
            recorded_at = max(utc_now(), last_recorded)
            rows, stored = [], []
            version = current
            for event in events:
                position += 1
                version += 1
                data_json, metadata_json = canonical(event.data), canonical(event.metadata)
                hash_ = link(prev_hash, record_bytes(
                    position, stream_id, version, event.event_id, event.type, event.schema_version,
                    event.occurred_at, recorded_at, data_json, metadata_json))
                rows.append((position, stream_id, version, event.event_id, event.type,
                             event.schema_version, data_json.decode(), metadata_json.decode(),
                             event.occurred_at, recorded_at, prev_hash, hash_))
                stored.append(StoredEvent(position, stream_id, version, event.event_id, event.type,
                                          event.schema_version, event.data, event.metadata,
                                          event.occurred_at, recorded_at, prev_hash, hash_))
                prev_hash = hash_
            connection.executemany(f"INSERT INTO events ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            if command_id is not None:
                connection.execute("INSERT INTO commands VALUES (?,?,?,?)",
                                   (command_id, stream_id, stored[0].position, position))
            connection.execute("COMMIT")
        except BaseException as exc:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            if isinstance(exc, sqlite3.IntegrityError):
                # another process took this stream version between our read and write
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
        events = tuple(map(_row_to_event, connection.execute(
            f"SELECT {_COLUMNS} FROM events WHERE position BETWEEN ? AND ? ORDER BY position",
            (row[1], row[2]))))
        return AppendResult(row[0], events, events[-1].version, duplicate=True)

    # -- reading -------------------------------------------------------------
    def read_stream(self, stream_id: str, after_version: int = 0) -> list[StoredEvent]:
        rows = self._fetch(f"SELECT {_COLUMNS} FROM events WHERE stream_id = ? AND version > ? "
                           "ORDER BY version", (stream_id, after_version))
        return list(map(_row_to_event, rows))

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
            yield from map(_row_to_event, rows)
            after = rows[-1][0]
            remaining -= len(rows)
            if len(rows) < page:
                return

    def _fetch(self, sql: str, args: tuple) -> list:
        with self._borrow() as connection:
            return connection.execute(sql, args).fetchall()

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
        rows = self._fetch("SELECT max(position) FROM events WHERE recorded_at <= ?", (recorded_at,))
        return rows[0][0] or 0

    # -- bookkeeping ---------------------------------------------------------
    def get_checkpoint(self, name: str) -> int:
        rows = self._fetch("SELECT position FROM checkpoints WHERE name = ?", (name,))
        return rows[0][0] if rows else 0

    def save_checkpoint(self, name: str, position: int) -> None:
        with self._borrow() as connection:
            connection.execute(
            "INSERT INTO checkpoints (name, position) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET position = max(position, excluded.position)",
                (name, position))

    def acquire_lease(self, name: str, owner: str, ttl_seconds: float) -> bool:
        now = time.time()
        with self._borrow() as connection:
            cursor = connection.execute(
                "INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at "
                "WHERE leases.owner = excluded.owner OR leases.expires_at < ?",
                (name, owner, now + ttl_seconds, now))
            return cursor.rowcount == 1

    def release_lease(self, name: str, owner: str) -> None:
        with self._borrow() as connection:
            connection.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for connection in self._idle:
                connection.close()
            self._idle.clear()
