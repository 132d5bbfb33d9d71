"""The event store: the port (``interface``), its backends (``sqlite``,
``mongo``), the hash chain (``chain``), the relay (``relay``) and the witness
(``witness``, with ``merkle``)."""
from __future__ import annotations

from urllib.parse import urlparse

from services.eventstore.errors import (  # noqa: F401  (re-exported)
    CommandIdConflict, ConcurrencyError, DamagedRecord, EventStoreError, InvalidEvent, StoreConfigError,
    StoreUnavailable,
)
from services.eventstore.interface import (  # noqa: F401
    AppendResult, EventStore, EventValidator, FoldRecord, Head, Lease, NewEvent, RawRecord, StoredEvent, format_time, parse_time,
)

URI_EXAMPLES = "sqlite:///var/events.db, mongodb://host:27017/vsc?replicaSet=rs0, mongomock://test/vsc"


def open_store(uri: str, validator: EventValidator | None = None) -> EventStore:
    """Open the event store named by ``uri``.

    - ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``
    - ``mongodb://…/<database>`` (or ``mongodb+srv://``): a real MongoDB
    - ``mongomock://<anything>/<database>``: the in-process pymongo-compatible
      engine, for tests only (every call opens a fresh, empty engine)
    """
    if not isinstance(uri, str) or "://" not in uri:
        raise StoreConfigError(f"event store URI {uri!r} is malformed; expected one of: {URI_EXAMPLES}")
    parsed = urlparse(uri)
    if parsed.scheme == "sqlite":
        path = uri[len("sqlite:///"):] if uri.startswith("sqlite:///") else ""
        if not path:
            raise StoreConfigError(f"event store URI {uri!r} names no file; expected e.g. sqlite:///var/events.db")
        from services.eventstore.sqlite import SQLiteEventStore
        return SQLiteEventStore(path, validator)
    if parsed.scheme in ("mongodb", "mongodb+srv", "mongomock"):
        from services.eventstore.mongo import MongoEventStore
        return MongoEventStore.from_uri(uri, validator)
    raise StoreConfigError(
        f"event store URI scheme {parsed.scheme!r} is not supported; expected one of: {URI_EXAMPLES}")
