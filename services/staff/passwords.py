"""Password hashes (argon2id, argon2-cffi) and one-time passwords.

``PASSWORD_HASH_PROFILE`` picks argon2-cffi's parameter profile:
``RFC_9106_LOW_MEMORY`` (default: 64 MiB, 3 passes, about 0.1-0.2 s here)
or ``CHEAPEST``, which only the tests use: it makes hashes trivial to
brute-force, so a deployment must never set it.
"""
from __future__ import annotations

import secrets

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

DEFAULT_PROFILE = "RFC_9106_LOW_MEMORY"
PROFILES = ("RFC_9106_LOW_MEMORY", "RFC_9106_HIGH_MEMORY", "CHEAPEST")
MIN_LENGTH, MAX_LENGTH = 10, 128
# no 0/o, 1/l/i: read aloud or typed from a slip of paper at the desk
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def hasher(config: dict) -> PasswordHasher:
    name = config.get("PASSWORD_HASH_PROFILE") or DEFAULT_PROFILE
    if name not in PROFILES:
        raise ValueError(f"PASSWORD_HASH_PROFILE must be one of {', '.join(PROFILES)}, not {name!r}")
    return PasswordHasher.from_parameters(getattr(profiles, name))


def verify(hasher_: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher_.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def one_time_password() -> str:
    """Four groups of four characters, about 79 bits: ``k7mq-2xwd-9prt-h3fn``."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4))


def weakness(password: str, staff_id: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"at most {MAX_LENGTH} characters"
    if staff_id.lower() in password.lower():
        return "must not contain the staff id"
    if len(set(password)) < 4:
        return "too few different characters"
    return None
