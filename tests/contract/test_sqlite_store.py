"""The SQLite backend against the store contract, and its own opening rules."""
from __future__ import annotations

import contextlib
import sqlite3

import orjson
import pytest

from services.eventstore import open_store
from services.eventstore.chain import verify_store
from services.eventstore.errors import StoreConfigError, StoreUnavailable
from services.eventstore.sqlite import SQLiteEventStore
from tests.contract.store_contract import StoreContract, items


class TestSQLiteStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path):
        """A fresh store in the test's own file."""
        self.path = str(tmp_path / "events.db")
        self.opened = []
        yield self._open()
        for store in self.opened:
            store.close()

    def _open(self, validator=None):
        store = SQLiteEventStore(self.path, validator)
        self.opened.append(store)
        return store

    def reopen(self, store, validator=None):
        store.close()
        return self._open(validator)

    def _raw(self, sql: str, args: tuple) -> None:
        with contextlib.closing(sqlite3.connect(self.path)) as connection:
            connection.execute(sql, args)
            connection.commit()

    def tamper(self, store, position, field, value):
        if isinstance(value, dict):
            value = orjson.dumps(value).decode()
        self._raw(f"UPDATE events SET {field} = ? WHERE position = ?", (value, position))

    def delete(self, store, position):
        self._raw("DELETE FROM events WHERE position = ?", (position,))


class TestSQLiteOpening:
    def test_open_store_with_a_sqlite_uri_opens_that_file(self, tmp_path):
        path = tmp_path / "nested" / "events.db"
        with open_store(f"sqlite:///{path}") as store:
            assert isinstance(store, SQLiteEventStore)
            store.append("a", items(1), 0)
        assert path.exists()
        with SQLiteEventStore(str(path)) as again:
            assert again.head().position == 1

    @pytest.mark.parametrize("uri", ["sqlite://", "sqlite:///", "events.db", "postgres://host/db", 42])
    def test_a_malformed_uri_is_a_config_error(self, uri):
        with pytest.raises(StoreConfigError):
            open_store(uri)

    def test_a_file_that_cannot_be_created_is_unavailable(self, tmp_path):
        blocker = tmp_path / "a-file"
        blocker.write_text("not a directory")
        with pytest.raises(StoreUnavailable):
            SQLiteEventStore(str(blocker / "events.db"))


class TestSQLiteDamage:
    """Damage only SQLite can hold: text that is not UTF-8."""

    def test_text_that_is_not_utf8_is_damage_at_its_position_not_a_crash(self, tmp_path):
        path = str(tmp_path / "events.db")
        with SQLiteEventStore(path) as store:
            store.append("a", items(3), 0)
            with contextlib.closing(sqlite3.connect(path)) as connection:
                connection.execute("UPDATE events SET stream_id = CAST(x'61ff' AS TEXT) WHERE position = 2")
                connection.commit()
            result = verify_store(store)
            assert (result.ok, result.first_bad_position) == (False, 2)
            assert [record.position for record in store.read_raw()] == [1, 2, 3]
