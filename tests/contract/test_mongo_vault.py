"""The MongoDB vault against the vault contract: on the in-process engine
(mongomock) always, on a real server when ``MONGO_URI`` is set; and its own
rules (layout, opening, interrupted erasures, driver errors)."""
from __future__ import annotations

import datetime as dt
import uuid

import bson
import mongomock
import pymongo
import pytest
from pymongo.errors import AutoReconnect

from services.privacy import (
    ERASED, VaultConfigError, VaultKeyError, VaultUnavailable, generate_master_key, open_vault, open_vault_uri,
    parse_master_key,
)
from services.privacy.mongo import MongoSubjectVault
from tests.contract.test_mongo_store import MONGO_URI, needs_mongo, with_database
from tests.contract.vault_contract import ID_NUMBER, NAME, NOW, PHONE, VaultContract

COLLECTIONS = ("subject_keys", "blind_index", "erasures", "vault_meta")


class MongoHooks:
    def open_elsewhere(self, master_key):
        vault = MongoSubjectVault.from_uri(f"mongomock://test/other-{uuid.uuid4().hex}", master_key)
        self.opened.append(vault)
        return vault

    def raw_bytes(self) -> bytes:
        database = self.client_for_raw()[self.database]
        return b"".join(bson.encode(doc) for name in database.list_collection_names()
                        for doc in database[name].find())


class TestMongomockVault(MongoHooks, VaultContract):
    @pytest.fixture(autouse=True)
    def _storage(self):
        """A fresh database on an in-process engine; every open shares the
        engine's client, which holds the data."""
        self.client = mongomock.MongoClient()
        self.database = f"vsc-{uuid.uuid4().hex}"
        self.opened = []
        yield
        for vault in self.opened:
            vault.close()

    def open(self, master_key, **options):
        vault = MongoSubjectVault(self.client, self.database, master_key, owns_client=False, **options)
        self.opened.append(vault)
        return vault

    def client_for_raw(self):
        return self.client


@needs_mongo
class TestRealMongoVault(MongoHooks, VaultContract):
    @pytest.fixture(autouse=True)
    def _storage(self):
        """A fresh database per test on the server at MONGO_URI, dropped afterwards."""
        self.database = f"vsc-vault-test-{uuid.uuid4().hex[:12]}"
        self.uri = with_database(MONGO_URI, self.database)
        self.opened = []
        self.raw_client = pymongo.MongoClient(self.uri)
        yield
        for vault in self.opened:
            vault.close()
        self.raw_client.drop_database(self.database)
        self.raw_client.close()

    def open(self, master_key, **options):
        vault = MongoSubjectVault.from_uri(self.uri, master_key, **options)
        self.opened.append(vault)
        return vault

    def client_for_raw(self):
        return self.raw_client


@pytest.fixture
def master_key():
    return parse_master_key(generate_master_key())


@pytest.fixture
def client():
    return mongomock.MongoClient()


@pytest.fixture
def vault(client, master_key):
    with MongoSubjectVault(client, "vsc", master_key, owns_client=False) as opened:
        yield opened


class TestMongoLayout:
    def test_the_collections_hold_keys_index_erasures_and_the_key_check(self, vault, client):
        subject = vault.subject_for({"phone": PHONE, "id_number": ID_NUMBER})
        vault.keep(subject, "claim", dt.date(2027, 5, 1))
        other = vault.subject_for({})
        vault.erase(other, "retention", NOW)
        database = client["vsc"]
        assert set(COLLECTIONS) <= set(database.list_collection_names())
        key = database["subject_keys"].find_one({"_id": subject})
        assert len(key["wrapped"]) == 60 and key["keep_until"] == "2027-05-01"
        assert key["retention"] == {"claim": "2027-05-01"}
        assert sorted(doc["kind"] for doc in database["blind_index"].find({"subjects": subject})) == [
            "id_number", "phone"]
        assert database["erasures"].find_one({"_id": other})["shredded"] is True
        assert database["subject_keys"].find_one({"_id": other}) is None
        assert database["vault_meta"].count_documents({}) == 1

    def test_the_vault_lives_in_the_event_stores_database(self, master_key):
        config = {"EVENT_STORE_URI": "mongomock://test/desk-logs", "PRIVACY_MASTER_KEY": generate_master_key()}
        with open_vault(config) as opened:
            assert isinstance(opened, MongoSubjectVault)
            assert opened.database.name == "desk-logs"


class TestMongoOpening:
    def test_an_interrupted_erasure_is_finished_at_the_next_open(self, vault, client, master_key):
        subject = vault.subject_for({"phone": PHONE})
        token = vault.encrypt(subject, "claimant_name", NAME)
        # the erasure record is written first; the process died before the key was deleted
        client["vsc"]["erasures"].insert_one({"_id": subject, "erased_at": "2026-05-01T08:30:00.000000Z",
                                              "reason": "visitor asked", "shredded": False})
        with MongoSubjectVault(client, "vsc", master_key, owns_client=False) as again:
            assert client["vsc"]["subject_keys"].find_one({"_id": subject}) is None
            assert again.decrypt(token, "claimant_name") is ERASED
            assert again.subjects_by(phone=PHONE) == []

    def test_a_wrong_key_is_refused_even_when_the_key_check_is_gone(self, vault, client):
        vault.subject_for({"phone": PHONE})
        client["vsc"]["vault_meta"].delete_many({})
        with pytest.raises(VaultKeyError):
            MongoSubjectVault(client, "vsc", parse_master_key(generate_master_key()), owns_client=False)

    @pytest.mark.parametrize("uri", ["mongo://localhost/vsc", "mongodb://localhost:99999/vsc", "postgres://x/y", "x"])
    def test_a_malformed_uri_is_a_config_error(self, uri, master_key):
        with pytest.raises(VaultConfigError):
            open_vault_uri(uri, master_key)

    def test_an_unreachable_server_is_unavailable_without_credentials_in_the_message(self, master_key):
        with pytest.raises(VaultUnavailable) as raised:
            open_vault_uri("mongodb://clerk:s3cret@127.0.0.1:1/vsc?serverSelectionTimeoutMS=300", master_key)
        assert "s3cret" not in str(raised.value)

    def test_a_client_it_does_not_own_stays_open(self, client, master_key):
        MongoSubjectVault(client, "vsc", master_key, owns_client=False).close()
        assert client["vsc"]["vault_meta"].count_documents({}) == 1


class TestMongoDriverErrors:
    @pytest.mark.parametrize("call", [
        lambda v, s: v.subject_for({"phone": "13900000000"}),
        lambda v, s: v.decrypt(v.encrypt(s, "f", "x"), "f"),
        lambda v, s: v.erase(s, "visitor asked", NOW),
        lambda v, s: v.expired(dt.date(2026, 1, 1)),
    ])
    def test_a_dropped_connection_is_vault_unavailable(self, vault, monkeypatch, call):
        subject = vault.subject_for({})
        vault._cache.clear()

        def drop(*args, **kwargs):
            raise AutoReconnect("connection reset by peer")

        for collection in (vault._keys, vault._index, vault._erasures):
            for method in ("find", "find_one", "insert_one", "update_one", "delete_one"):
                monkeypatch.setattr(collection, method, drop)
        with pytest.raises(VaultUnavailable) as raised:
            call(vault, subject)
        assert "connection reset by peer" in str(raised.value)
