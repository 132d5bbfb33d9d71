"""The SQLite vault against the vault contract, and what only SQLite must
prove: erased key bytes leave the database file and its WAL."""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3

import pytest

from services.privacy import VaultKeyError, VaultUnavailable, open_vault, parse_master_key
from services.privacy.sqlite import SQLiteSubjectVault, vault_path_beside
from tests.contract.vault_contract import ID_NUMBER, NAME, NOW, PHONE, VaultContract


def file_bytes(path: str) -> bytes:
    """The database file and its WAL, as they are on disk."""
    content = b""
    for name in (path, path + "-wal"):
        if os.path.exists(name):
            with open(name, "rb") as handle:
                content += handle.read()
    return content


def raw_rows(path: str, sql: str, args: tuple = ()) -> list:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return connection.execute(sql, args).fetchall()


class SQLiteHooks:
    @pytest.fixture(autouse=True)
    def _storage(self, tmp_path):
        self.path = str(tmp_path / "events.vault.db")
        self.elsewhere = str(tmp_path / "other.vault.db")
        self.opened = []
        yield
        for vault in self.opened:
            vault.close()

    def open(self, master_key, **options):
        vault = SQLiteSubjectVault(self.path, master_key, **options)
        self.opened.append(vault)
        return vault

    def open_elsewhere(self, master_key):
        vault = SQLiteSubjectVault(self.elsewhere, master_key)
        self.opened.append(vault)
        return vault

    def raw_bytes(self) -> bytes:
        return file_bytes(self.path)


class TestSQLiteVault(SQLiteHooks, VaultContract):
    pass


class TestSQLiteErasureWipesTheDisk(SQLiteHooks):
    @pytest.fixture
    def vault(self):
        from services.privacy import generate_master_key
        self.master_key = parse_master_key(generate_master_key())
        return self.open(self.master_key)

    def stored(self, subject: str) -> tuple[bytes, list[str]]:
        wrapped = raw_rows(self.path, "SELECT wrapped_key FROM subject_keys WHERE subject_id = ?", (subject,))[0][0]
        blinds = [row[0] for row in raw_rows(self.path, "SELECT blind FROM blind_index WHERE subject_id = ?",
                                             (subject,))]
        return bytes(wrapped), blinds

    def test_the_erased_key_and_blind_values_are_not_in_the_file_or_its_wal(self, vault):
        subject = vault.subject_for({"phone": PHONE, "id_number": ID_NUMBER})
        vault.keep(subject, "claim", dt.date(2027, 5, 1))
        others = [vault.subject_for({"phone": f"1390000{n:04d}"}) for n in range(50)]
        wrapped, blinds = self.stored(subject)
        assert len(blinds) == 2
        before = file_bytes(self.path)
        assert wrapped in before and all(blind.encode() in before for blind in blinds)
        assert os.path.getsize(self.path + "-wal") > 0  # the key was written through the WAL

        vault.erase(subject, "visitor asked", NOW)

        after = file_bytes(self.path)  # the vault is still open: nothing was cleaned up by closing it
        assert wrapped not in after
        for blind in blinds:
            assert blind.encode() not in after
        assert os.path.getsize(self.path + "-wal") == 0
        # the other subjects are untouched
        assert all(self.stored(other)[0] in after for other in others)

    def test_a_reader_holding_a_snapshot_delays_the_wipe_until_it_ends(self, vault):
        subject = vault.subject_for({"phone": PHONE})
        wrapped, _ = self.stored(subject)
        with contextlib.closing(sqlite3.connect(self.path, isolation_level=None)) as reader:
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM subject_keys").fetchone()  # a read snapshot
            erasure = vault.erase(subject, "visitor asked", NOW)
            assert not erasure.already and vault.erased_at(subject) == NOW
            assert not vault.wipe_wal(wait_seconds=0.1)
            reader.execute("COMMIT")
        assert vault.wipe_wal()
        assert wrapped not in file_bytes(self.path)

    def test_secure_delete_is_on_for_every_connection(self, vault):
        with vault._borrow() as connection:
            assert connection.execute("PRAGMA secure_delete").fetchone()[0] == 1
            assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


class TestSQLiteOpening:
    @pytest.fixture
    def config(self, tmp_path):
        from services.privacy import generate_master_key
        return {"EVENT_STORE_URI": f"sqlite:///{tmp_path}/var/events.db", "PRIVACY_MASTER_KEY": generate_master_key()}

    def test_the_vault_is_a_file_beside_the_event_store_never_in_it(self, config, tmp_path):
        from services.eventstore import open_store
        with open_store(config["EVENT_STORE_URI"]) as store, open_vault(config) as vault:
            assert isinstance(vault, SQLiteSubjectVault) and store.head().position == 0
            assert vault.path == str(tmp_path / "var" / "events.vault.db")
            vault.subject_for({"phone": PHONE})
            store_tables = {row[0] for row in raw_rows(str(tmp_path / "var" / "events.db"),
                                                       "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert not store_tables & {"subject_keys", "blind_index", "erasures", "retention", "vault_meta"}

    @pytest.mark.parametrize("store, vault", [("var/events.db", "var/events.vault.db"),
                                              ("/srv/vsc/log", "/srv/vsc/log.vault.db"),
                                              ("a.b/events.sqlite", "a.b/events.vault.sqlite")])
    def test_the_vault_file_is_named_after_the_store_file(self, store, vault):
        assert vault_path_beside(store) == vault

    def test_a_vault_uri_in_config_wins(self, config, tmp_path):
        config["PRIVACY_VAULT_URI"] = f"sqlite:///{tmp_path}/keys/vault.db"
        with open_vault(config) as vault:
            assert vault.path == f"{tmp_path}/keys/vault.db"

    def test_a_vault_that_cannot_be_created_is_unavailable(self, tmp_path):
        from services.privacy import generate_master_key
        blocker = tmp_path / "a-file"
        blocker.write_text("not a directory")
        with pytest.raises(VaultUnavailable):
            SQLiteSubjectVault(str(blocker / "vault.db"), parse_master_key(generate_master_key()))

    def test_a_wrong_key_is_refused_even_when_the_key_check_row_is_gone(self, config):
        from services.privacy import generate_master_key
        with open_vault(config) as vault:
            vault.subject_for({"phone": PHONE})
            path = vault.path
        with contextlib.closing(sqlite3.connect(path)) as connection:
            connection.execute("DELETE FROM vault_meta")
            connection.commit()
        with pytest.raises(VaultKeyError):
            open_vault(dict(config, PRIVACY_MASTER_KEY=generate_master_key()))
        with open_vault(config) as vault:  # the right key opens it and restores the check
            assert vault.subjects_by(phone=PHONE)
        assert raw_rows(path, "SELECT count(*) FROM vault_meta")[0][0] == 1

    def test_an_altered_wrapped_key_is_a_key_error_not_garbage(self, config):
        with open_vault(config) as vault:
            subject = vault.subject_for({"phone": PHONE})
            token = vault.encrypt(subject, "claimant_name", NAME)
            path = vault.path
        with contextlib.closing(sqlite3.connect(path)) as connection:
            connection.execute("UPDATE subject_keys SET wrapped_key = zeroblob(60) WHERE subject_id = ?", (subject,))
            connection.commit()
        with open_vault(config) as vault:
            with pytest.raises(VaultKeyError):
                vault.decrypt(token, "claimant_name")
