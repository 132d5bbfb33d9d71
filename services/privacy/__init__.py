"""Personal data, encrypted per data subject: the vault port (``vault``),
its backends (``sqlite``, ``mongo``), the master key (``keys``) and what each
role is shown (``masking``). See docs/privacy.md."""
from __future__ import annotations

from urllib.parse import urlparse

from services.privacy.errors import (  # noqa: F401  (re-exported)
    InvalidIdentifier, InvalidToken, SubjectErased, UnknownSubject, VaultConfigError, VaultError,
    VaultKeyError, VaultUnavailable,
)
from services.privacy.keys import (  # noqa: F401
    KEY_FILE_SETTING, KEY_SETTING, MasterKey, generate_master_key, load_master_key, parse_master_key,
)
from services.privacy.vault import (  # noqa: F401
    ERASED, ID_NUMBER, PHONE, Erasure, SubjectVault, is_token, normalise_id_number, normalise_phone,
    subject_of,
)

VAULT_URI_SETTING = "PRIVACY_VAULT_URI"
CACHE_SETTING = "PRIVACY_KEY_CACHE_SECONDS"
DEFAULT_STORE_URI = "sqlite:///var/events.db"


def vault_uri(config: dict) -> str:
    """``PRIVACY_VAULT_URI`` when set; else derived from ``EVENT_STORE_URI``:
    a SQLite store ``sqlite:///var/events.db`` has its vault in
    ``sqlite:///var/events.vault.db``; a MongoDB store keeps the vault's
    collections in its own database (the same URI)."""
    uri = config.get(VAULT_URI_SETTING)
    if uri not in (None, ""):
        return uri
    store_uri = config.get("EVENT_STORE_URI") or DEFAULT_STORE_URI
    if isinstance(store_uri, str) and store_uri.startswith("sqlite:///") and len(store_uri) > len("sqlite:///"):
        from services.privacy.sqlite import vault_path_beside
        return "sqlite:///" + vault_path_beside(store_uri[len("sqlite:///"):])
    return store_uri


def open_vault_uri(uri: str, master_key: MasterKey, **options) -> SubjectVault:
    """The vault at ``uri`` (``sqlite:///path``, ``mongodb://…/db``,
    ``mongodb+srv://…``, ``mongomock://…/db``), opened with ``master_key``.
    ``options`` go to the backend (``key_cache_seconds``, ``client`` for
    MongoDB)."""
    if not isinstance(uri, str) or "://" not in uri:
        raise VaultConfigError(f"vault URI {uri!r} is malformed; expected sqlite:///var/events.vault.db "
                               "or mongodb://host:27017/vsc")
    scheme = urlparse(uri).scheme
    if scheme == "sqlite":
        path = uri[len("sqlite:///"):] if uri.startswith("sqlite:///") else ""
        if not path:
            raise VaultConfigError(f"vault URI {uri!r} names no file; expected e.g. sqlite:///var/events.vault.db")
        from services.privacy.sqlite import SQLiteSubjectVault
        return SQLiteSubjectVault(path, master_key, **options)
    if scheme in ("mongodb", "mongodb+srv", "mongomock"):
        from services.privacy.mongo import MongoSubjectVault
        return MongoSubjectVault.from_uri(uri, master_key, **options)
    raise VaultConfigError(f"vault URI scheme {scheme!r} is not supported (sqlite, mongodb, mongomock)")


def open_vault(config: dict, **options) -> SubjectVault:
    """The vault for a process, from its config (the same dict as
    ``store_from_config``): the master key from ``PRIVACY_MASTER_KEY`` or
    ``PRIVACY_MASTER_KEY_FILE``, the place from :func:`vault_uri`, the cache
    time from ``PRIVACY_KEY_CACHE_SECONDS`` (default 5). A missing or wrong
    master key raises :class:`VaultKeyError` naming the setting: call this at
    start so the process stops there."""
    master_key = load_master_key(config)
    cache = config.get(CACHE_SETTING)
    if cache not in (None, "") and "key_cache_seconds" not in options:
        try:
            options["key_cache_seconds"] = float(cache)
        except (TypeError, ValueError):
            raise VaultConfigError(f"{CACHE_SETTING} must be a number of seconds, not {cache!r}") from None
    return open_vault_uri(vault_uri(config), master_key, **options)
