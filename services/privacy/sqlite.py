"""The embedded vault: a SQLite file of its own beside the event store
(``var/events.db`` -> ``var/events.vault.db``, see ``open_vault``).

A file of its own, not tables in the event store's file, because erasure
must be able to remove key bytes from the disk: after an erasure the vault
checkpoints its WAL with ``TRUNCATE``, which needs a moment without readers
of the file; the event store's long replays would hold that off, and the
log's own file should not pay for ``secure_delete``. It also lets backups of
the log (which then hold only ciphertext) be kept longer than backups of the
keys (see docs/privacy.md).

Every connection runs with ``secure_delete=ON`` (deleted rows are zeroed in
their pages) in WAL mode with ``synchronous=FULL``. An erasure is one
transaction; the checkpoint after it copies the zeroed pages over the old
ones in the database file and truncates the WAL, whose older frames held the
key since it was written. Connections come from a small pool, as in
``services/eventstore/sqlite.py``.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
from typing import Iterable, Iterator

from services.blocking import os_lock, writer, written
from services.privacy.errors import VaultUnavailable
from services.privacy.keys import MasterKey
from services.privacy.vault import SubjectVault

SCHEMA = """
CREATE TABLE IF NOT EXISTS vault_meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS subject_keys (
    subject_id  TEXT PRIMARY KEY,
    wrapped_key BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    keep_until  TEXT
);
CREATE INDEX IF NOT EXISTS subject_keys_keep_until ON subject_keys (keep_until) WHERE keep_until IS NOT NULL;
CREATE TABLE IF NOT EXISTS blind_index (
    blind      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    PRIMARY KEY (blind, subject_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blind_index_subject ON blind_index (subject_id);
CREATE TABLE IF NOT EXISTS retention (
    subject_id TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    until      TEXT NOT NULL,
    PRIMARY KEY (subject_id, purpose)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS erasures (
    subject_id TEXT PRIMARY KEY,
    erased_at  TEXT NOT NULL,
    reason     TEXT NOT NULL
);
"""


def vault_path_beside(store_path: str) -> str:
    """The vault file beside an event store file: ``events.db`` ->
    ``events.vault.db`` (``events`` -> ``events.vault.db``)."""
    root, ext = os.path.splitext(store_path)
    return f"{root}.vault{ext or '.db'}"


class SQLiteSubjectVault(SubjectVault):
    def __init__(self, path: str, master_key: MasterKey, *, busy_timeout: float = 30.0, **options):
        super().__init__(master_key, **options)
        self.path = path
        self._busy_timeout = busy_timeout
        self._idle: list[sqlite3.Connection] = []
        self._lock = os_lock()
        self._write = writer()  # what commits (an fsync) runs off the hub in a nameko service
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            with self._borrow() as connection:
                connection.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            self.close()
            raise VaultUnavailable(f"cannot open the SQLite subject vault at {path!r}: {exc}") from exc
        try:
            self._check_master_key()
        except BaseException:
            self.close()
            raise

    # -- connections ----------------------------------------------------------
    @contextlib.contextmanager
    def _borrow(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise VaultUnavailable("the subject vault is closed")
            connection = self._idle.pop() if self._idle else None
        try:
            if connection is None:
                connection = sqlite3.connect(self.path, timeout=self._busy_timeout,
                                             isolation_level=None, check_same_thread=False)
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=FULL")
                connection.execute("PRAGMA secure_delete=ON")
            yield connection
        except sqlite3.Error as exc:
            raise VaultUnavailable(f"the subject vault at {self.path!r} failed: {exc}") from exc
        finally:
            if connection is not None:
                self._give(connection)

    def _give(self, connection: sqlite3.Connection) -> None:
        try:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
        except sqlite3.Error:
            connection.close()
            return
        with self._lock:
            if self._closed:
                connection.close()
            else:
                self._idle.append(connection)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._borrow() as connection:
            connection.execute("BEGIN IMMEDIATE")
            yield connection
            connection.execute("COMMIT")

    def _rows(self, sql: str, args: tuple = ()) -> list:
        with self._borrow() as connection:
            return connection.execute(sql, args).fetchall()

    @written
    def _run(self, sql: str, args: tuple = ()) -> int:
        with self._borrow() as connection:
            return connection.execute(sql, args).rowcount

    def wipe_wal(self, wait_seconds: float = 2.0) -> bool:
        """Checkpoint the WAL into the file and truncate it, waiting up to
        ``wait_seconds`` for readers of the file to finish (the wait blocks
        the thread, and an eventlet hub with it: keep it short); True when
        the WAL is now empty."""
        with self._borrow() as connection:
            connection.execute(f"PRAGMA busy_timeout = {int(wait_seconds * 1000)}")
            try:
                busy = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            finally:
                connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        return busy == 0

    # -- primitives -----------------------------------------------------------
    def _meta_get(self, name):
        rows = self._rows("SELECT value FROM vault_meta WHERE name = ?", (name,))
        return rows[0][0] if rows else None

    def _meta_put_if_absent(self, name, value):
        self._run("INSERT OR IGNORE INTO vault_meta (name, value) VALUES (?, ?)", (name, value))
        return self._meta_get(name)

    def _any_wrapped_key(self):
        rows = self._rows("SELECT subject_id, wrapped_key FROM subject_keys LIMIT 1")
        return (rows[0][0], bytes(rows[0][1])) if rows else None

    def _insert_key(self, subject_id, wrapped, created_at):
        self._run("INSERT INTO subject_keys (subject_id, wrapped_key, created_at) VALUES (?, ?, ?)",
                  (subject_id, wrapped, created_at))

    @written
    def _drop_unused_subject(self, subject_id):
        with self._transaction() as connection:
            connection.execute("DELETE FROM subject_keys WHERE subject_id = ?", (subject_id,))
            connection.execute("DELETE FROM blind_index WHERE subject_id = ?", (subject_id,))

    def _wrapped_key(self, subject_id):
        rows = self._rows("SELECT wrapped_key FROM subject_keys WHERE subject_id = ?", (subject_id,))
        return bytes(rows[0][0]) if rows else None

    def _created_at(self, subject_ids: Iterable[str]):
        ids = list(subject_ids)
        if not ids:
            return {}
        rows = self._rows(f"SELECT subject_id, created_at FROM subject_keys WHERE subject_id IN "
                          f"({','.join('?' * len(ids))})", tuple(ids))
        return dict(rows)

    def _subjects_of_blind(self, blind):
        return [row[0] for row in self._rows("SELECT subject_id FROM blind_index WHERE blind = ?", (blind,))]

    def _kinds_of(self, subject_ids):
        if not subject_ids:
            return {}
        kinds: dict[str, set[str]] = {}
        for subject_id, kind in self._rows(
                f"SELECT subject_id, kind FROM blind_index WHERE subject_id IN "
                f"({','.join('?' * len(subject_ids))})", tuple(subject_ids)):
            kinds.setdefault(subject_id, set()).add(kind)
        return kinds

    def _claim_blind(self, blind, kind, subject_id):
        # one statement: atomic under SQLite's single write lock
        return self._run("INSERT INTO blind_index (blind, kind, subject_id) SELECT ?, ?, ? "
                         "WHERE NOT EXISTS (SELECT 1 FROM blind_index WHERE blind = ?)",
                         (blind, kind, subject_id, blind)) == 1

    def _link_blind(self, blind, kind, subject_id):
        self._run("INSERT OR IGNORE INTO blind_index (blind, kind, subject_id) VALUES (?, ?, ?)",
                  (blind, kind, subject_id))

    @written
    def _unlink_blind(self, blind, subject_ids):
        with self._transaction() as connection:
            connection.executemany("DELETE FROM blind_index WHERE blind = ? AND subject_id = ?",
                                   [(blind, subject_id) for subject_id in subject_ids])

    @written
    def _erase(self, subject_id, at, reason):
        with self._transaction() as connection:
            inserted = connection.execute(
                "INSERT OR IGNORE INTO erasures (subject_id, erased_at, reason) VALUES (?, ?, ?)",
                (subject_id, at, reason)).rowcount == 1
            erased_at, first_reason = connection.execute(
                "SELECT erased_at, reason FROM erasures WHERE subject_id = ?", (subject_id,)).fetchone()
            for table in ("subject_keys", "blind_index", "retention"):
                connection.execute(f"DELETE FROM {table} WHERE subject_id = ?", (subject_id,))
        self.wipe_wal()
        return erased_at, first_reason, not inserted

    def _erasure(self, subject_id):
        rows = self._rows("SELECT erased_at, reason FROM erasures WHERE subject_id = ?", (subject_id,))
        return tuple(rows[0]) if rows else None

    @written
    def _keep(self, subject_id, purpose, until):
        with self._transaction() as connection:
            if connection.execute("UPDATE subject_keys SET keep_until = max(coalesce(keep_until, ''), ?) "
                                  "WHERE subject_id = ?", (until, subject_id)).rowcount != 1:
                return False
            connection.execute("INSERT INTO retention (subject_id, purpose, until) VALUES (?, ?, ?) "
                               "ON CONFLICT (subject_id, purpose) DO UPDATE SET until = max(until, excluded.until)",
                               (subject_id, purpose, until))
        return True

    def _retention(self, subject_id):
        return dict(self._rows("SELECT purpose, until FROM retention WHERE subject_id = ? ORDER BY purpose",
                               (subject_id,)))

    def _expired(self, today):
        return [row[0] for row in self._rows(
            "SELECT subject_id FROM subject_keys WHERE keep_until IS NOT NULL AND keep_until < ? "
            "ORDER BY keep_until, created_at, subject_id", (today,))]

    def _close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
