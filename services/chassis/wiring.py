"""Plain factories shared by nameko providers, the relay and the CLI (no
nameko or eventlet import here: the relay and the CLI run without them)."""
from __future__ import annotations

import contracts
from services.eventstore import EventStore, open_store


def store_from_config(config: dict) -> EventStore:
    """The store named by ``EVENT_STORE_URI``, validating every event
    against its contract."""
    return open_store(config.get("EVENT_STORE_URI", "sqlite:///var/events.db"), validator=contracts.registry)
