"""The master key: its text forms, where it comes from, and that a missing
or malformed key stops the vault from opening with a message naming the
setting (never the value)."""
from __future__ import annotations

import base64
import os

import pytest

from services.privacy import (
    KEY_FILE_SETTING, KEY_SETTING, MasterKey, VaultConfigError, VaultKeyError, generate_master_key,
    load_master_key, open_vault, parse_master_key, vault_uri,
)

RAW = bytes(range(32))


@pytest.mark.parametrize("text", [
    base64.b64encode(RAW).decode(),
    base64.b64encode(RAW).decode().rstrip("="),
    base64.urlsafe_b64encode(RAW).decode(),
    RAW.hex(),
    RAW.hex().upper(),
    f"  {RAW.hex()}\n",
    (base64.b64encode(RAW) + b"\n"),
])
def test_a_master_key_is_read_from_base64_or_hex(text):
    assert parse_master_key(text).secret == RAW


@pytest.mark.parametrize("text", [
    "", "short", RAW.hex()[:-2], RAW.hex() + "00", base64.b64encode(RAW[:31]).decode(),
    base64.b64encode(RAW + b"x").decode(), "g" * 64, 1234, None, b"\xff" * 32])
def test_anything_else_is_a_key_error_that_does_not_repeat_the_value(text):
    with pytest.raises(VaultKeyError) as raised:
        parse_master_key(text)
    assert raised.value.config_key == KEY_SETTING
    message = str(raised.value)
    assert KEY_SETTING in message
    if isinstance(text, str) and len(text) > 8:
        assert text not in message


def test_generated_keys_are_32_random_bytes_in_base64():
    keys = {generate_master_key() for _ in range(20)}
    assert len(keys) == 20
    assert all(len(parse_master_key(key).secret) == 32 and len(key) == 44 for key in keys)


def test_a_master_key_never_shows_its_bytes():
    key = parse_master_key(RAW.hex())
    assert RAW.hex() not in repr(key) and str(RAW) not in repr(key)


def test_the_key_comes_from_the_setting_or_from_the_file(tmp_path):
    path = tmp_path / "privacy.key"
    path.write_text(generate_master_key() + "\n")
    from_file = load_master_key({KEY_FILE_SETTING: str(path)})
    assert from_file.source.startswith(KEY_FILE_SETTING)
    from_value = load_master_key({KEY_SETTING: RAW.hex(), KEY_FILE_SETTING: str(path)})
    assert from_value == MasterKey(RAW, KEY_SETTING)  # the value wins over the file
    assert load_master_key({KEY_SETTING: "", KEY_FILE_SETTING: str(path)}) == from_file


def test_no_key_at_all_is_a_key_error_saying_how_to_make_one():
    with pytest.raises(VaultKeyError) as raised:
        load_master_key({KEY_SETTING: "", KEY_FILE_SETTING: None})
    assert KEY_SETTING in str(raised.value) and KEY_FILE_SETTING in str(raised.value)
    assert "generate_master_key" in str(raised.value)


def test_an_unreadable_key_file_is_a_key_error_naming_the_file_setting(tmp_path):
    with pytest.raises(VaultKeyError) as raised:
        load_master_key({KEY_FILE_SETTING: str(tmp_path / "missing.key")})
    assert raised.value.config_key == KEY_FILE_SETTING and "missing.key" in str(raised.value)


def test_a_malformed_key_file_names_the_file(tmp_path):
    path = tmp_path / "privacy.key"
    path.write_text("not a key")
    with pytest.raises(VaultKeyError) as raised:
        load_master_key({KEY_FILE_SETTING: str(path)})
    assert KEY_FILE_SETTING in str(raised.value) and str(path) in str(raised.value)


def test_open_vault_stops_at_a_missing_key_before_touching_the_disk(tmp_path):
    config = {"EVENT_STORE_URI": f"sqlite:///{tmp_path}/events.db"}
    with pytest.raises(VaultKeyError):
        open_vault(config)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("config, uri", [
    ({}, "sqlite:///var/events.vault.db"),
    ({"EVENT_STORE_URI": "sqlite:////srv/vsc/events.db"}, "sqlite:////srv/vsc/events.vault.db"),
    ({"EVENT_STORE_URI": "mongodb://mongo:27017/vsc?replicaSet=rs0"}, "mongodb://mongo:27017/vsc?replicaSet=rs0"),
    ({"EVENT_STORE_URI": "mongomock://test/vsc"}, "mongomock://test/vsc"),
    ({"EVENT_STORE_URI": "sqlite:///var/events.db", "PRIVACY_VAULT_URI": "sqlite:///keys/v.db"}, "sqlite:///keys/v.db"),
    ({"EVENT_STORE_URI": "sqlite:///var/events.db", "PRIVACY_VAULT_URI": ""}, "sqlite:///var/events.vault.db"),
])
def test_the_vault_is_beside_the_event_store_unless_configured(config, uri):
    assert vault_uri(config) == uri


@pytest.mark.parametrize("uri", ["sqlite://", "sqlite:///", "vault.db", "postgres://host/db"])
def test_a_malformed_vault_uri_is_a_config_error(uri):
    with pytest.raises(VaultConfigError):
        open_vault({"PRIVACY_VAULT_URI": uri, KEY_SETTING: generate_master_key()})


def test_the_key_cache_time_comes_from_config():
    config = {"EVENT_STORE_URI": "mongomock://test/vsc", KEY_SETTING: generate_master_key()}
    with open_vault(dict(config, PRIVACY_KEY_CACHE_SECONDS="0.5")) as vault:
        assert vault._cache_seconds == 0.5
    with pytest.raises(VaultConfigError):
        open_vault(dict(config, PRIVACY_KEY_CACHE_SECONDS="soon"))


def test_a_service_with_no_key_setting_takes_the_key_from_the_local_secrets_directory(tmp_path, monkeypatch):
    from services.chassis.dependencies import protector_from_config

    monkeypatch.setenv("VSC_SECRETS_DIR", str(tmp_path / "secrets"))
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "privacy.key").write_text(RAW.hex())
    vault, protector = protector_from_config({"EVENT_STORE_URI": f"sqlite:///{tmp_path}/events.db"})
    try:
        assert os.path.exists(tmp_path / "events.vault.db") and protector is not None
    finally:
        vault.close()
    (tmp_path / "secrets" / "privacy.key").unlink()
    with pytest.raises(VaultKeyError) as raised:  # and a missing key names the file it looked for
        protector_from_config({"EVENT_STORE_URI": f"sqlite:///{tmp_path}/events.db"})
    assert "privacy.key" in str(raised.value)
