"""Between a service's domain events (frozen dataclasses) and stored records
(plain JSON data checked by the event's contract)."""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Iterable

from contracts.base import Registry
from contracts.fastload import FastLoader
from services.eventstore import NewEvent, StoredEvent, format_time


class EventCodec:
    def __init__(self, registry: Registry, event_classes: Iterable[type]):
        self.registry = registry
        self.loader = FastLoader(registry)
        self.classes = {cls.__name__: cls for cls in event_classes}
        for name in self.classes:
            registry.schema(name)  # every domain event must have a contract

    def encode(self, event, occurred_at: dt.datetime, metadata: dict) -> NewEvent:
        event_type = type(event).__name__
        if event_type not in self.classes:
            raise TypeError(f"{event_type} is not an event of this service")
        values = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
        return NewEvent(
            type=event_type,
            data=self.registry.dump(event_type, values),
            occurred_at=format_time(occurred_at),
            schema_version=self.registry.current_version(event_type),
            metadata={key: value for key, value in metadata.items() if value is not None},
        )

    def decode(self, record: StoredEvent):
        """The domain event of a stored record (lists as tuples, as frozen
        dataclasses hold them); marshmallow is not run again on data it
        checked on append (see contracts.fastload)."""
        values = self.loader.load_frozen(record.type, record.schema_version, record.data)
        return self.classes[record.type](**values)

    def knows(self, event_type: str) -> bool:
        return event_type in self.classes
