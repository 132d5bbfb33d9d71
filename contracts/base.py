"""What every contract shares: the event base class, the registry with its
upcasters, RPC contracts and the marking of personal data.

An event contract is a marshmallow schema of the event's ``data`` with three
class attributes::

    @registry.event
    class ClerkSignedIn(EventSchema):
        event_type = "ClerkSignedIn"   # routing key on RabbitMQ, too
        schema_version = 1
        source = "duty_log"            # the service that appends it
        clerk_name = Personal(required=True)

Events in the store are never rewritten. When a contract changes, raise its
``schema_version`` and register an upcaster from the old version; readers get
the current shape (see :meth:`Registry.upcast`).
"""
from __future__ import annotations

from typing import Callable

from marshmallow import RAISE, Schema, ValidationError, fields

from services.eventstore.errors import InvalidEvent

PERSONAL = "personal"
SECRET = "secret"


def Personal(**kwargs) -> fields.String:
    """A string holding personal data (a name, phone or ID number): never
    logged, and a later issue encrypts and erases these fields."""
    metadata = dict(kwargs.pop("metadata", {}), **{PERSONAL: True})
    return fields.String(metadata=metadata, **kwargs)


def Secret(**kwargs) -> fields.String:
    """A password or password hash: never logged, never in a reply."""
    metadata = dict(kwargs.pop("metadata", {}), **{SECRET: True})
    return fields.String(metadata=metadata, **kwargs)


class ContractSchema(Schema):
    """Base of every contract: unknown fields are errors, not silently dropped."""

    class Meta:
        unknown = RAISE


class EventSchema(ContractSchema):
    event_type: str = ""
    schema_version: int = 1
    source: str = ""
    description: str = ""


Upcaster = Callable[[dict], dict]


def personal_fields(schema: Schema, prefix: str = "") -> set[str]:
    """Dotted names of the fields marked personal, nested schemas included."""
    found = set()
    for name, field in schema.fields.items():
        key = f"{prefix}{field.data_key or name}"
        inner = getattr(field, "inner", None)  # a List's item field
        if field.metadata.get(PERSONAL) or (inner is not None and inner.metadata.get(PERSONAL)):
            found.add(key)
        nested = getattr(field, "schema", None) if isinstance(field, fields.Nested) else None
        if isinstance(inner, fields.Nested):
            nested = inner.schema
        if nested is not None:
            found |= personal_fields(nested, key + ".")
    return found


def secret_fields(schema: Schema) -> set[str]:
    return {field.data_key or name for name, field in schema.fields.items() if field.metadata.get(SECRET)}


class RpcContract:
    """The request and reply schemas of one RPC method and the roles that may
    call it (``contracts.roles``; ``OPEN`` needs no login). A principal that
    must change its one-time password may call only the contracts that say
    ``while_password_change``."""

    def __init__(self, service: str, method: str, request: type[Schema], reply: type[Schema], description: str = "",
                 *, roles: frozenset, while_password_change: bool = False):
        self.service, self.method = service, method
        self.request, self.reply = request, reply
        self.description = description
        self.roles = frozenset(roles)
        self.while_password_change = while_password_change

    @property
    def open(self) -> bool:
        return not self.roles


class Registry:
    """Every event contract, its upcasters and every RPC contract."""

    def __init__(self):
        self.events: dict[str, type[EventSchema]] = {}
        self._schemas: dict[str, EventSchema] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self.rpcs: dict[tuple[str, str], RpcContract] = {}

    # -- registration ------------------------------------------------------
    def event(self, schema_cls: type[EventSchema]) -> type[EventSchema]:
        """Class decorator registering an event contract."""
        name = schema_cls.event_type
        if not name or not schema_cls.source:
            raise TypeError(f"{schema_cls.__name__} needs event_type and source")
        if name in self.events:
            raise TypeError(f"event type {name!r} is registered twice")
        self.events[name] = schema_cls
        self._schemas[name] = schema_cls()
        return schema_cls

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: ``fn(data) -> data`` turns ``from_version`` into the next."""
        def register(fn: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_version)] = fn
            return fn
        return register

    def rpc(self, service: str, method: str, request: type[Schema], reply: type[Schema], description: str = "",
            *, roles: frozenset, while_password_change: bool = False) -> RpcContract:
        """Register an RPC contract; ``roles`` is required: every RPC says who may call it."""
        from contracts.roles import ALL
        unknown = set(roles) - ALL
        if unknown:
            raise TypeError(f"{service}.{method}: unknown roles {sorted(unknown)}")
        if (service, method) in self.rpcs:
            raise TypeError(f"RPC {service}.{method} is registered twice")
        contract = RpcContract(service, method, request, reply, description, roles=roles,
                               while_password_change=while_password_change)
        self.rpcs[(service, method)] = contract
        return contract

    # -- use -----------------------------------------------------------------
    def schema(self, event_type: str) -> EventSchema:
        try:
            return self._schemas[event_type]
        except KeyError:
            raise InvalidEvent("type", f"unknown event type {event_type!r}") from None

    def current_version(self, event_type: str) -> int:
        return self.schema(event_type).schema_version

    def source_of(self, event_type: str) -> str:
        return self.schema(event_type).source

    def validate(self, event_type: str, schema_version: int, data: dict) -> None:
        """The store's validator: only the current version may be appended."""
        schema = self.schema(event_type)
        if schema_version != schema.schema_version:
            raise InvalidEvent("schema_version", f"{event_type} is at schema version "
                                                 f"{schema.schema_version}, got {schema_version}")
        if not isinstance(data, dict):
            raise InvalidEvent("data", "must be an object")
        problems = schema.validate(data)
        if problems:
            flat = {f"data.{key}": value for key, value in problems.items()}
            first = next(iter(flat))
            raise InvalidEvent(first, f"{event_type}: {problems[first[5:]]}", flat)

    def upcast(self, event_type: str, schema_version: int, data: dict) -> tuple[int, dict]:
        """Bring stored data up to the current schema version, on read."""
        current = self.current_version(event_type)
        while schema_version < current:
            step = self._upcasters.get((event_type, schema_version))
            if step is None:
                raise InvalidEvent("schema_version", f"no upcaster for {event_type} "
                                                     f"v{schema_version} -> v{schema_version + 1}")
            data = step(dict(data))
            schema_version += 1
        return schema_version, data

    def load(self, event_type: str, schema_version: int, data: dict) -> dict:
        """Stored data -> Python values of the current version."""
        _, data = self.upcast(event_type, schema_version, data)
        return self.schema(event_type).load(data)

    def dump(self, event_type: str, values: dict) -> dict:
        """Python values -> plain JSON data for the store."""
        return self.schema(event_type).dump(values)

    def personal_fields(self, event_type: str) -> set[str]:
        return personal_fields(self.schema(event_type))


registry = Registry()

__all__ = ["ContractSchema", "EventSchema", "Personal", "Registry", "RpcContract", "Secret", "ValidationError",
           "registry", "personal_fields", "secret_fields"]
