"""The vault's one exception root. Backends translate every driver error
(sqlite3, pymongo) into one of these at their edge. No message carries
personal data or key material."""
from __future__ import annotations


class VaultError(Exception):
    """Root of every error the subject vault raises."""


class VaultKeyError(VaultError):
    """The master key is missing, malformed or not the one this vault was
    created with. ``config_key`` names the setting to fix."""

    def __init__(self, config_key: str, message: str):
        self.config_key = config_key
        super().__init__(message)


class VaultConfigError(VaultError):
    """The vault URI or another setting is malformed."""


class VaultUnavailable(VaultError):
    """The vault's database cannot be reached or opened."""


class InvalidIdentifier(VaultError, ValueError):
    """An identifier given to find a subject is unusable (unknown kind, no
    digits in a phone number, ...). ``field`` names it."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


class InvalidToken(VaultError, ValueError):
    """A value is not a token of this vault, or it fails authentication:
    tampered with, or moved to another field or subject."""


class UnknownSubject(VaultError, LookupError):
    """No subject with this id was ever created in this vault (or the vault
    was restored from a backup older than the subject)."""

    def __init__(self, subject_id: str):
        self.subject_id = subject_id
        super().__init__(f"no data subject {subject_id!r} in this vault")


class SubjectErased(VaultError):
    """The subject's key was shredded: nothing can be encrypted for it any
    more (find or create the person's subject again)."""

    def __init__(self, subject_id: str):
        self.subject_id = subject_id
        super().__init__(f"data subject {subject_id!r} was erased")
