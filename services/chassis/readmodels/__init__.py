"""Where read models persist (see ``interface``): a SQLite file beside the
event store's, or the event store's MongoDB database."""
from __future__ import annotations

from services.chassis.readmodels.interface import (  # noqa: F401  (re-exported)
    FoldHeader, FoldState, ReadModelStore, Snapshot,
)
from services.eventstore.errors import StoreConfigError


def readmodel_uri_for(event_store_uri: str) -> str:
    """The default place beside a store: ``sqlite:///var/events.db`` ->
    ``sqlite:///var/events.readmodels.db``; a MongoDB store's own database."""
    if event_store_uri.startswith("sqlite:///"):
        path = event_store_uri[len("sqlite:///"):]
        stem = path[:-3] if path.endswith(".db") else path
        return f"sqlite:///{stem}.readmodels.db"
    return event_store_uri


def open_readmodel_store(uri: str) -> ReadModelStore:
    if uri.startswith("sqlite:///") and len(uri) > len("sqlite:///"):
        from services.chassis.readmodels.sqlite import SQLiteReadModelStore
        return SQLiteReadModelStore(uri[len("sqlite:///"):])
    if uri.split("://", 1)[0] in ("mongodb", "mongodb+srv", "mongomock"):
        from services.chassis.readmodels.mongo import MongoReadModelStore
        return MongoReadModelStore.from_uri(uri)
    raise StoreConfigError(f"read-model store URI {uri!r} is not supported; expected sqlite:///path.db or mongodb://")


def readmodels_from_config(config: dict) -> ReadModelStore | None:
    """``READMODEL_STORE_URI`` (default: beside ``EVENT_STORE_URI``; ``none``
    keeps read models in memory only, rebuilt at every start)."""
    uri = config.get("READMODEL_STORE_URI") or readmodel_uri_for(
        config.get("EVENT_STORE_URI", "sqlite:///var/events.db"))
    if uri == "none":
        return None
    return open_readmodel_store(uri)
