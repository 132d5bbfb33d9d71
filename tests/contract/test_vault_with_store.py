"""The vault beside the event store, as the services will use them: events
carry tokens, the store's file holds no personal text, and an erasure leaves
the hash chain valid while every erased field reads as ERASED, after a
restart too. (The wiring into the chassis, contracts and forms is tested
where it is built.)"""
from __future__ import annotations

import datetime as dt
import os

import pytest

from services.eventstore import NewEvent, open_store
from services.eventstore.chain import verify_store
from services.privacy import ERASED, generate_master_key, is_token, open_vault
from services.privacy.masking import present
from tests.contract.test_sqlite_vault import file_bytes

OCCURRED = "2026-05-01T08:30:00.000000Z"
NOW = dt.datetime(2026, 5, 2, tzinfo=dt.timezone.utc)
CLAIMANT = {"claimant_name": "韩梅梅", "claimant_phone": "138-1234-5678", "claimant_id_number": "11010519491231002x"}
FINDER = {"finder_name": "李雷", "finder_phone": "+86 139 0000 0000"}


def sealed(vault, subject: str, fields: dict) -> dict:
    return {name: vault.encrypt(subject, name, text) for name, text in fields.items()}


def opened(vault, data: dict) -> dict:
    return {name: vault.decrypt(value, name) if is_token(value) else value for name, value in data.items()}


@pytest.fixture(params=["sqlite", "mongomock"])
def config(request, tmp_path):
    uri = f"sqlite:///{tmp_path}/events.db" if request.param == "sqlite" else "mongomock://test/vsc"
    return {"EVENT_STORE_URI": uri, "PRIVACY_MASTER_KEY": generate_master_key(), "PRIVACY_KEY_CACHE_SECONDS": 0}


def test_an_erasure_reads_as_erased_and_the_chain_still_verifies(config, tmp_path):
    store = open_store(config["EVENT_STORE_URI"])
    vault_options = {"client": store.client} if config["EVENT_STORE_URI"].startswith("mongomock") else {}
    vault = open_vault(config, **vault_options)
    claimant = vault.subject_for({"phone": CLAIMANT["claimant_phone"], "id_number": CLAIMANT["claimant_id_number"]})
    finder = vault.subject_for({"phone": FINDER["finder_phone"]})
    store.append("item-1", [NewEvent("ItemTurnedIn", {"item_id": "item-1", **sealed(vault, finder, FINDER)}, OCCURRED)], 0)
    store.append("item-1", [NewEvent("ItemClaimed", {"item_id": "item-1", **sealed(vault, claimant, CLAIMANT)},
                                     OCCURRED)], 1)
    assert verify_store(store).ok
    if config["EVENT_STORE_URI"].startswith("sqlite"):
        raw = file_bytes(str(tmp_path / "events.db")) + file_bytes(str(tmp_path / "events.vault.db"))
        for text in (*CLAIMANT.values(), *FINDER.values(), "13812345678", "11010519491231002X"):
            assert text.encode() not in raw

    vault.erase(claimant, "visitor asked", NOW)

    turned_in, claimed = (event.data for event in store.read_stream("item-1"))
    assert opened(vault, turned_in) == {"item_id": "item-1", **FINDER}
    assert opened(vault, claimed) == {"item_id": "item-1", "claimant_name": ERASED, "claimant_phone": ERASED,
                                      "claimant_id_number": ERASED}
    assert present(opened(vault, claimed)["claimant_phone"], "phone", ["clerk"]) is ERASED
    assert verify_store(store).ok

    if config["EVENT_STORE_URI"].startswith("sqlite"):  # a restart: both reopened from their files
        store.close()
        vault.close()
        store, vault = open_store(config["EVENT_STORE_URI"]), open_vault(config)
        claimed = store.read_stream("item-1")[1].data
        assert set(opened(vault, claimed).values()) == {"item-1", ERASED}
        assert verify_store(store).ok
    vault.close()
    store.close()
    if config["EVENT_STORE_URI"].startswith("sqlite"):  # the last connection closed removes the WALs
        assert sorted(os.listdir(tmp_path)) == ["events.db", "events.vault.db"]
