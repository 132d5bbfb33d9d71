"""Between a service's domain events (frozen dataclasses) and stored records
(plain JSON data checked by the event's contract)."""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Iterable

from contracts.base import Registry
from contracts.fastload import FastLoader
from contracts.personal import schema_leaves, seal
from services.privacy.vault import is_token
from services.eventstore import NewEvent, StoredEvent, format_time


def sealed(registry: Registry, event_type: str, values: dict) -> dict:
    """An event's loaded values with its encrypted personal leaves as Sealed."""
    leaves = schema_leaves(registry.events[event_type])
    return seal(event_type, leaves, values, is_token) if leaves else values


class EventCodec:
    """``protector`` (``services.privacy.protect.Protector``) encrypts the
    personal leaves of each event it encodes; decoding gives them back as
    :class:`~contracts.personal.Sealed` (ciphertext and field), never in
    clear: who needs the plaintext opens it (``Protector.open``), and a reply
    shows it as the caller's roles allow."""

    def __init__(self, registry: Registry, event_classes: Iterable[type], protector=None):
        self.registry = registry
        self.loader = FastLoader(registry)
        self.protector = protector
        self.classes = {cls.__name__: cls for cls in event_classes}
        for name in self.classes:
            registry.schema(name)  # every domain event must have a contract

    def encode(self, event, occurred_at: dt.datetime, metadata: dict) -> NewEvent:
        event_type = type(event).__name__
        if event_type not in self.classes:
            raise TypeError(f"{event_type} is not an event of this service")
        values = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
        data = self.registry.dump(event_type, values)
        if self.protector is not None:
            data = self.protector.protect(event_type, data, occurred_at)
        return NewEvent(
            type=event_type,
            data=data,
            occurred_at=format_time(occurred_at),
            schema_version=self.registry.current_version(event_type),
            metadata={key: value for key, value in metadata.items() if value is not None},
        )

    def decode(self, record: StoredEvent):
        """The domain event of a stored record (lists as tuples, as frozen
        dataclasses hold them; personal leaves Sealed); marshmallow is not
        run again on data it checked on append (see contracts.fastload)."""
        values = self.loader.load_frozen(record.type, record.schema_version, record.data)
        return self.classes[record.type](**sealed(self.registry, record.type, values))

    def knows(self, event_type: str) -> bool:
        return event_type in self.classes
