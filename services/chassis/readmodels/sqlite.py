"""Read-model snapshots in a SQLite file beside the event store's
(``var/events.readmodels.db`` beside ``var/events.db``). One transaction per
snapshot; WAL with ``synchronous=NORMAL``: a power cut may lose the newest
snapshot but never tears one (the previous one stays), and a commit does not
wait for the disk. A snapshot is a cache of the log: losing it costs a replay."""
from __future__ import annotations

import os
import sqlite3
import threading

from services.chassis.readmodels.interface import FoldHeader, FoldState, ReadModelStore, Snapshot, digest
from services.eventstore.errors import StoreUnavailable
from services.eventstore.interface import utc_now

SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshots (
    projector  TEXT PRIMARY KEY,
    position   INTEGER NOT NULL,
    event_hash TEXT    NOT NULL,
    taken_at   TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS fold_states (
    projector TEXT    NOT NULL,
    fold      TEXT    NOT NULL,
    version   TEXT    NOT NULL,
    position  INTEGER NOT NULL,
    digest    TEXT    NOT NULL,
    state     BLOB    NOT NULL,
    PRIMARY KEY (projector, fold)
);
"""


class SQLiteReadModelStore(ReadModelStore):
    blocking = True

    def __init__(self, path: str):
        self.path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            self._connection().executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"cannot open the read-model store at {path!r}: {exc}") from exc

    def _connection(self) -> sqlite3.Connection:
        # one connection per thread: snapshots are written from eventlet's tpool threads
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def save(self, projector, position, event_hash, folds) -> None:
        connection = self._connection()
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("DELETE FROM fold_states WHERE projector = ?", (projector,))
            connection.executemany(
                "INSERT INTO fold_states VALUES (?, ?, ?, ?, ?, ?)",
                [(projector, name, fold.version, fold.position, digest(fold.state), fold.state)
                 for name, fold in folds.items()])
            connection.execute("INSERT INTO snapshots VALUES (?, ?, ?, ?) ON CONFLICT(projector) DO UPDATE SET "
                               "position = excluded.position, event_hash = excluded.event_hash, "
                               "taken_at = excluded.taken_at", (projector, position, event_hash, utc_now()))
            connection.execute("COMMIT")
        except BaseException as exc:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreUnavailable(f"snapshot of {projector} not written: {exc}") from exc
            raise

    def load(self, projector) -> Snapshot | None:
        return self._read(projector, ", state", lambda rows: {
            name: FoldState(version, position, bytes(state))
            for name, version, position, expected, state in rows if digest(state) == expected})

    def headers(self, projector) -> Snapshot | None:
        return self._read(projector, "", lambda rows: {
            name: FoldHeader(version, position, expected) for name, version, position, expected in rows})

    def _read(self, projector, more_columns: str, folds_of) -> Snapshot | None:
        """The snapshot's header and ``folds_of`` its fold rows (fold, version,
        position, digest and ``more_columns``), in one read transaction."""
        connection = self._connection()
        try:
            connection.execute("BEGIN")  # one read snapshot for the header and the folds
            head = connection.execute("SELECT position, event_hash, taken_at FROM snapshots WHERE projector = ?",
                                      (projector,)).fetchone()
            if head is None:
                return None
            rows = connection.execute(f"SELECT fold, version, position, digest{more_columns} FROM fold_states "
                                      "WHERE projector = ?", (projector,))
            return Snapshot(projector, head[0], head[1], head[2], folds_of(rows))
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"snapshot of {projector} unreadable: {exc}") from exc
        finally:
            if connection.in_transaction:
                connection.execute("COMMIT")

    def load_state(self, projector, fold, expected_digest) -> bytes | None:
        try:
            row = self._connection().execute(
                "SELECT state FROM fold_states WHERE projector = ? AND fold = ? AND digest = ?",
                (projector, fold, expected_digest)).fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"snapshot of {projector} unreadable: {exc}") from exc
        if row is None or digest(row[0]) != expected_digest:
            return None
        return bytes(row[0])

    def drop(self, projector) -> None:
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("DELETE FROM fold_states WHERE projector = ?", (projector,))
        connection.execute("DELETE FROM snapshots WHERE projector = ?", (projector,))
        connection.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()
