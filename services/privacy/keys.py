"""The master key: where it comes from, and the keys derived from it.

The master key is 32 random bytes written as base64 (44 characters) or hex
(64 characters), given in config as ``PRIVACY_MASTER_KEY`` or in a file named
by ``PRIVACY_MASTER_KEY_FILE`` (the value wins when both are set). It never
goes into the vault's database: HKDF-SHA256 derives from it, each with its own
``info`` label, the key that wraps subject keys, the key of the blind index
and the key check value stored in the vault to recognise a wrong master key.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from typing import NamedTuple

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from services.privacy.errors import VaultKeyError

KEY_SETTING = "PRIVACY_MASTER_KEY"
KEY_FILE_SETTING = "PRIVACY_MASTER_KEY_FILE"
KEY_BYTES = 32

_HEX = re.compile(r"[0-9a-fA-F]{64}")
_B64 = re.compile(r"[A-Za-z0-9+/_-]{43}=?")

_INFO_WRAP = b"vsc-privacy/v1/wrap-subject-keys"
_INFO_BLIND = b"vsc-privacy/v1/blind-index"
_INFO_CHECK = b"vsc-privacy/v1/key-check"

_HOW_TO_MAKE = ("make one with `python -c 'from services.privacy import generate_master_key; "
                "print(generate_master_key())'` and keep it apart from the database's backups")


class MasterKey(NamedTuple):
    """The master key's bytes and the setting it came from (named in errors)."""
    secret: bytes
    source: str = KEY_SETTING

    def __repr__(self) -> str:  # never show the bytes
        return f"MasterKey(source={self.source!r})"


def generate_master_key() -> str:
    """A new master key: 32 random bytes as base64 text."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def parse_master_key(text, source: str = KEY_SETTING) -> MasterKey:
    """The key from its text form (base64, URL-safe base64 or hex; whitespace
    around it ignored). The message of a refusal never repeats the value."""
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise VaultKeyError(source, f"{source} must be text: 32 bytes as base64 or hex") from None
    if not isinstance(text, str):
        raise VaultKeyError(source, f"{source} must be text (32 bytes as base64 or hex), "
                                    f"not a {type(text).__name__}; quote it in YAML")
    text = text.strip()
    if _HEX.fullmatch(text):
        return MasterKey(bytes.fromhex(text), source)
    if _B64.fullmatch(text):
        padded = text if text.endswith("=") else text + "="
        try:
            secret = base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
        except (binascii.Error, ValueError):
            secret = b""
        if len(secret) == KEY_BYTES:
            return MasterKey(secret, source)
    raise VaultKeyError(source, f"{source} is not a master key: it must be 32 bytes written as base64 "
                                f"(44 characters) or hex (64 characters), got {len(text)} characters; "
                                + _HOW_TO_MAKE)


def load_master_key(config: dict) -> MasterKey:
    """The master key named by ``config`` (see the module's docstring);
    :class:`VaultKeyError` naming the setting when it is missing, unreadable
    or malformed."""
    value = config.get(KEY_SETTING)
    if value not in (None, ""):
        return parse_master_key(value, KEY_SETTING)
    path = config.get(KEY_FILE_SETTING)
    if path not in (None, ""):
        try:
            with open(os.fspath(path), "rb") as handle:
                content = handle.read(4096)
        except (OSError, TypeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise VaultKeyError(KEY_FILE_SETTING,
                                f"{KEY_FILE_SETTING} names {path!r}, which cannot be read: {reason}") from None
        return parse_master_key(content, f"{KEY_FILE_SETTING} ({path})")
    raise VaultKeyError(KEY_SETTING, f"no privacy master key: set {KEY_SETTING} (32 bytes as base64 or hex) "
                                     f"or {KEY_FILE_SETTING} (a file holding it); " + _HOW_TO_MAKE)


def _derive(master: MasterKey, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(master.secret)


class DerivedKeys(NamedTuple):
    wrap: bytes          # AES-256-GCM key wrapping each subject key
    blind: bytes         # HMAC-SHA256 key of the blind index
    check: str           # key check value: recognises the master key, reveals nothing of it


def derive_keys(master: MasterKey) -> DerivedKeys:
    check = hmac.new(_derive(master, _INFO_CHECK), b"vsc-privacy key check", hashlib.sha256).hexdigest()
    return DerivedKeys(_derive(master, _INFO_WRAP), _derive(master, _INFO_BLIND), check)
