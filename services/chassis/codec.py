"""Between a service's domain events (frozen dataclasses) and stored records
(plain JSON data checked by the event's contract)."""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Iterable

from contracts.base import Registry
from contracts.fastload import FastLoader, Sealing
from contracts.personal import STAR, Sealed, schema_leaves, seal
from services.privacy.vault import is_token
from services.eventstore import NewEvent, StoredEvent, format_time

TOKEN_PREFIX = "pd1:"  # every vault token starts so (services.privacy.vault)
SEALING = Sealing(TOKEN_PREFIX, is_token)  # for loaders that seal as they load (contracts.fastload)


def sealed(registry: Registry, event_type: str, values: dict) -> dict:
    """An event's loaded values with its encrypted personal leaves as Sealed."""
    leaves = schema_leaves(registry.events[event_type])
    return seal(event_type, leaves, values, is_token) if leaves else values


def sealer(registry: Registry, event_type: str):
    """``sealed`` for one event type as one function, for the read path: the
    top-level personal fields are checked in place (a value that does not
    start like a token is not matched against the token pattern), deeper
    leaves go through ``seal``. It may change the dict it is given (the
    loaders make a new one per record). None when the type has no personal leaf."""
    leaves = schema_leaves(registry.events[event_type])
    if not leaves:
        return None
    top = tuple((leaf.path[0], f"{event_type}.{leaf.name}") for leaf in leaves
                if len(leaf.path) == 1 and isinstance(leaf.path[0], str) and leaf.path[0] != STAR)
    deeper = tuple(leaf for leaf in leaves if not (len(leaf.path) == 1 and isinstance(leaf.path[0], str)
                                                   and leaf.path[0] != STAR))

    def seal_values(values: dict, _sealed=Sealed, _is_token=is_token) -> dict:
        for key, field in top:
            value = values.get(key)
            if value.__class__ is str and value.startswith(TOKEN_PREFIX) and _is_token(value):
                values[key] = _sealed(value, field)
        return seal(event_type, deeper, values, is_token) if deeper else values
    return seal_values


class EventCodec:
    """``protector`` (``services.privacy.protect.Protector``) encrypts the
    personal leaves of each event it encodes; decoding gives them back as
    :class:`~contracts.personal.Sealed` (ciphertext and field), never in
    clear: who needs the plaintext opens it (``Protector.open``), and a reply
    shows it as the caller's roles allow."""

    def __init__(self, registry: Registry, event_classes: Iterable[type], protector=None):
        self.registry = registry
        self.loader = FastLoader(registry)
        self._sealers: dict = {}
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
        seal_values = self._sealers.get(record.type, False)
        if seal_values is False:
            seal_values = self._sealers[record.type] = sealer(self.registry, record.type)
        return self.classes[record.type](**(seal_values(values) if seal_values else values))

    def knows(self, event_type: str) -> bool:
        return event_type in self.classes
