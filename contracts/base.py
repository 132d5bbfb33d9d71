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

Input that cannot poison the log. Every contract refuses, before anything is
stored: unknown fields; in every string value and key, NUL and the other
control characters (tab, newline and carriage return only in fields declared
``multiline``), lone surrogates and bidi controls; a boolean that is not a
JSON boolean, an integer that is not a JSON integer; a time or date outside
2000-01-01 .. 2100-01-01 and, in a request, one in the future (beyond a
five-minute tolerance). The registry refuses a contract that uses a lax
marshmallow field (``fields.Boolean``, ``fields.Integer``, ``fields.DateTime``
...) instead of the strict ones here. Stored events are read leniently: a
record already in the log is a fact, and must replay whatever rules came later.

Times are stored in UTC: every :class:`MomentField` dumps UTC, except inside
:func:`presenting`, which the RPC layer wraps around a reply so that a person
reads the time in the site's time zone.
"""
from __future__ import annotations

import contextlib
import contextvars
import copy
import datetime as dt
import re
from typing import Callable

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load
from marshmallow.decorators import PRE_LOAD

from contracts.personal import KIND, KINDS, SUBJECT
from services.eventstore.errors import InvalidEvent
from services.privacy.vault import is_token

PERSONAL = "personal"
SECRET = "secret"
PERSONAL_KIND, PERSONAL_SUBJECT, PERSONAL_KINDS = KIND, SUBJECT, KINDS
MULTILINE = "multiline"

UTC = dt.timezone.utc
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=UTC)
LATEST = dt.datetime(2100, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = dt.timedelta(minutes=5)

# NUL and the other C0 controls but tab, LF and CR; DEL and the C1 controls;
# lone surrogates; the bidi embedding, override, isolate and mark characters
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"
                        r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile(r"[\t\n\r]")
_UNSAFE_IN_NAME = re.compile(_FORBIDDEN.pattern[:-1] + _LINE_BREAK.pattern[1:])  # one class: either
NAME_LIMIT = 64
MAX_PROBLEMS = 20


def safe_name(name, limit: int = NAME_LIMIT) -> str:
    """A client-supplied name (a field name, a path) fit to echo in an error:
    at most ``limit`` characters and "…", every control, surrogate or bidi
    character written as ``\\uXXXX``."""
    text = name if isinstance(name, str) else repr(name)
    if len(text) > limit:
        text = text[:limit] + "…"
    return _UNSAFE_IN_NAME.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _refusal(char: str) -> str:
    return f"must not contain U+{ord(char):04X} (control, surrogate or bidi character)"


def _strings(data) -> tuple[str, str]:
    """Every string value in ``data`` joined, and every key joined: one regex
    search each tells the common case (nothing to refuse) cheaply."""
    keys, texts, pending = [], [], [data]
    while pending:
        value = pending.pop()
        kind = type(value)
        if kind is str:
            texts.append(value)
        elif kind is dict or isinstance(value, dict):
            keys.extend(value)
            pending.extend(value.values())
        elif kind is list or isinstance(value, (list, tuple)):
            pending.extend(value)
        elif isinstance(value, str):
            texts.append(value)
    try:
        return "".join(texts), "".join(keys)
    except TypeError:  # a key that is no string (not from JSON)
        return "".join(texts), "".join(map(str, keys))


def unsafe_text(data) -> dict[str, list[str]]:
    """Every string value or key in ``data`` (dicts and lists, however deep)
    holding a forbidden character: dotted path -> messages, at most
    :data:`MAX_PROBLEMS`. Paths are as sent: whoever echoes one makes it safe
    with :func:`safe_name` (``services.chassis.errors`` does)."""
    texts, keys = _strings(data)
    if not _FORBIDDEN.search(texts) and not _UNSAFE_IN_NAME.search(keys):
        return {}
    problems: dict[str, list[str]] = {}
    stack = [("", data)]
    while stack and len(problems) < MAX_PROBLEMS:
        path, value = stack.pop()
        if isinstance(value, str):
            found = _FORBIDDEN.search(value)
            if found:
                problems[path or "_schema"] = [_refusal(found.group())]
        elif isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                name = key if isinstance(key, str) else str(key)
                bad = _UNSAFE_IN_NAME.search(name)
                child = f"{path}.{name}" if path else name
                if bad:
                    problems[child] = [f"field name {_refusal(bad.group())}"]
                else:
                    stack.append((child, item))
        elif isinstance(value, (list, tuple)):
            stack.extend((f"{path}.{index}" if path else str(index), item)
                         for index, item in reversed(list(enumerate(value))))
    return problems


ONE_LINE = "must be one line (no tab or line break)"


def _line_breaks(field: fields.Field, value, path: str, problems: dict) -> None:
    """Line breaks in ``value`` where ``field`` (or a List, Tuple or Dict
    inside it) is a one-line string; a Nested schema checks its own."""
    if isinstance(field, fields.String):
        if isinstance(value, str) and not field.metadata.get(MULTILINE) and _LINE_BREAK.search(value):
            problems[path] = [ONE_LINE]
    elif isinstance(field, fields.List) and isinstance(value, list):
        for index, item in enumerate(value):
            _line_breaks(field.inner, item, f"{path}.{index}", problems)
    elif isinstance(field, fields.Tuple) and isinstance(value, (list, tuple)):
        for index, (inner, item) in enumerate(zip(field.tuple_fields, value)):
            _line_breaks(inner, item, f"{path}.{index}", problems)
    elif isinstance(field, fields.Dict) and isinstance(value, dict) and field.value_field is not None:
        for key, item in value.items():
            _line_breaks(field.value_field, item, f"{path}.{key}", problems)


_presentation_zone: contextvars.ContextVar[dt.tzinfo | None] = contextvars.ContextVar("presentation_zone",
                                                                                       default=None)


@contextlib.contextmanager
def presenting(zone: dt.tzinfo | None):
    """Within this block every :class:`MomentField` dumps in ``zone`` (a
    reply a person reads); outside it, in UTC (what is stored)."""
    token = _presentation_zone.set(zone)
    try:
        yield
    finally:
        _presentation_zone.reset(token)


def _reading_stored(field: fields.Field) -> bool:
    return getattr(field.root, "reading_stored", False)


def _in_event(field: fields.Field) -> bool:
    return isinstance(field.root, EventSchema)


class MomentField(fields.AwareDateTime):
    """A timezone-aware ISO-8601 time, e.g. ``2026-05-01T08:30:00+08:00``,
    from 2000-01-01 to 2100-01-01; in a request also not in the future (more
    than five minutes). Dumped in UTC, or in the zone of :func:`presenting`."""

    default_error_messages = {"range": "must be between 2000-01-01 and 2100-01-01",
                              "future": "must not be in the future"}

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            moment = super()._deserialize(value, attr, data, **kwargs)
        except (OverflowError, ValueError):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None
        if _reading_stored(self):
            return moment
        if not EARLIEST <= moment < LATEST:
            raise self.make_error("range")
        if not _in_event(self) and moment > dt.datetime.now(UTC) + FUTURE_TOLERANCE:
            raise self.make_error("future")
        return moment

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        try:
            value = value.astimezone(_presentation_zone.get() or UTC)
        except (OverflowError, ValueError):
            pass  # at the very edge of the calendar: as it is
        return super()._serialize(value, attr, obj, **kwargs)


class DayField(fields.Date):
    """An ISO-8601 date from 2000-01-01 to 2100-01-01; in a request not after
    tomorrow (UTC: "today" somewhere on earth)."""

    default_error_messages = {"range": "must be between 2000-01-01 and 2100-01-01",
                              "future": "must not be in the future"}

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            day = super()._deserialize(value, attr, data, **kwargs)
        except (OverflowError, ValueError):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None
        if _reading_stored(self):
            return day
        if not EARLIEST.date() <= day < LATEST.date():
            raise self.make_error("range")
        if not _in_event(self) and day > dt.datetime.now(UTC).date() + dt.timedelta(days=1):
            raise self.make_error("future")
        return day


class MonthField(fields.String):
    """A month ``YYYY-MM`` from 2000-01 to 2099-12; in a request not after
    next month."""

    default_error_messages = {"month": "must be a month YYYY-MM from 2000-01 to 2099-12",
                              "future": "must not be in the future"}
    PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"

    def __init__(self, **kwargs):
        super().__init__(metadata={"pattern": self.PATTERN, **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if _reading_stored(self):
            return text
        if not re.fullmatch(self.PATTERN, text):
            raise self.make_error("month")
        today = dt.datetime.now(UTC).date()
        next_month = (today.year + today.month // 12, today.month % 12 + 1)
        if not _in_event(self) and (int(text[:4]), int(text[5:7])) > next_month:
            raise self.make_error("future")
        return text


class StrictBoolean(fields.Boolean):
    """``true`` or ``false``, nothing else (not ``"yes"``, ``1`` or ``"true"``)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class StrictInteger(fields.Integer):
    """A JSON integer (not ``1.5``, ``"10"`` or ``true``)."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)


def _inner_fields(field: fields.Field):
    """``field`` and the fields inside a List, Tuple or Dict."""
    yield field
    for inner in (getattr(field, "inner", None), getattr(field, "key_field", None),
                  getattr(field, "value_field", None), *(getattr(field, "tuple_fields", None) or ())):
        if inner is not None:
            yield from _inner_fields(inner)


class PersonalString(fields.String):
    """A personal string. In an event it is stored encrypted (a vault token,
    which its validators do not apply to); in a request only the plaintext is
    accepted, validated as declared."""

    def _validate(self, value):
        if isinstance(self.root, EventSchema) and is_token(value):
            return
        super()._validate(value)


def Personal(kind: str = "other", subject: str | None = None, **kwargs) -> fields.String:
    """A string holding personal data: never logged, encrypted per data
    subject before it is appended, masked by role when shown (see
    ``contracts/personal.py`` and docs/privacy.md). ``kind``: name, phone,
    id_number, hidden (a found item's hidden features) or other; in an event,
    ``subject`` labels whose data it is (claimant, visitor, finder, item)."""
    if kind not in PERSONAL_KINDS:
        raise TypeError(f"personal kind {kind!r} is not one of {PERSONAL_KINDS}")
    metadata = dict(kwargs.pop("metadata", {}), **{PERSONAL: True, PERSONAL_KIND: kind, PERSONAL_SUBJECT: subject})
    return PersonalString(metadata=metadata, **kwargs)


def Secret(**kwargs) -> fields.String:
    """A password or password hash: never logged, never in a reply."""
    metadata = dict(kwargs.pop("metadata", {}), **{SECRET: True})
    return fields.String(metadata=metadata, **kwargs)


class ContractSchema(Schema):
    """Base of every contract: unknown fields are errors, not silently dropped;
    no string value or key may hold a control, surrogate or bidi character;
    a string field is one line unless its metadata says ``multiline``.

    ``reading_stored=True`` makes a schema that reads records already in the
    log: none of these checks (nor the time bounds) apply to it."""

    class Meta:
        unknown = RAISE

    def __init__(self, *args, reading_stored: bool = False, **kwargs):
        self.reading_stored = reading_stored
        super().__init__(*args, **kwargs)
        if reading_stored:  # no text check: not even its call, once per record on the read path
            self._hooks = copy.copy(self._hooks)  # the class's, a defaultdict
            self._hooks[PRE_LOAD] = [hook for hook in self._hooks[PRE_LOAD] if hook[0] != "_refuse_unsafe_text"]

    @pre_load
    def _refuse_unsafe_text(self, data, **kwargs):
        texts, keys = _strings(data)
        if not _UNSAFE_IN_NAME.search(texts) and not _UNSAFE_IN_NAME.search(keys):
            return data  # the common case: two searches
        problems = {}
        if _FORBIDDEN.search(texts) or _UNSAFE_IN_NAME.search(keys):
            problems = unsafe_text(data)
        elif isinstance(data, dict):
            for name, field in self.load_fields.items():
                key = field.data_key or name
                if key in data:
                    _line_breaks(field, data[key], key, problems)
        if problems:
            raise ValidationError(problems)
        return data


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


_STRICT = ((fields.Boolean, StrictBoolean, "contracts.common.Boolean"),
           (fields.Number, StrictInteger, "contracts.common.Integer"),
           (fields.Date, DayField, "contracts.common.Day"),
           (fields.DateTime, MomentField, "contracts.common.Moment"),
           (fields.TimeDelta, (), "a strict field of contracts.base"),
           (fields.Time, (), "a strict field of contracts.base"))


def lax_fields(schema: Schema, prefix: str = "", seen: frozenset = frozenset()) -> dict[str, str]:
    """Fields (dotted names, nested schemas included) of a marshmallow type
    that accepts more than JSON says, each with the strict one to use."""
    found = {}
    for name, field in schema.fields.items():
        key = f"{prefix}{field.data_key or name}"
        for inner in _inner_fields(field):
            for lax, strict, instead in _STRICT:
                if isinstance(inner, lax):
                    if not (strict and isinstance(inner, strict)):
                        found[key] = f"{type(inner).__name__}: use {instead}"
                    break
            nested = inner.schema if isinstance(inner, fields.Nested) else None
            if nested is not None and type(nested) not in seen:
                found |= lax_fields(nested, key + ".", seen | {type(nested)})
    return found


def _refuse_lax(schema_cls: type[Schema]) -> None:
    lax = lax_fields(schema_cls())
    if lax:
        raise TypeError(f"{schema_cls.__name__} has lax fields: "
                        + "; ".join(f"{name} is {why}" for name, why in sorted(lax.items())))




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
        self._readers: dict[str, EventSchema] = {}  # lenient: for records already stored (no Nested in events)
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
        from contracts.personal import schema_leaves
        anonymous = [leaf.name for leaf in schema_leaves(schema_cls) if not leaf.subject]
        if anonymous:
            raise TypeError(f"{name}: personal fields {anonymous} need a subject label (whose data they are)")
        _refuse_lax(schema_cls)
        self.events[name] = schema_cls
        self._schemas[name] = schema_cls()
        self._readers[name] = schema_cls(reading_stored=True)
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
        _refuse_lax(request)
        _refuse_lax(reply)
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
        """Stored data -> Python values of the current version. Read as stored:
        rules added since the record was appended do not refuse it."""
        _, data = self.upcast(event_type, schema_version, data)
        self.schema(event_type)  # InvalidEvent for an unknown type
        return self._readers[event_type].load(data)

    def dump(self, event_type: str, values: dict) -> dict:
        """Python values -> plain JSON data for the store."""
        return self.schema(event_type).dump(values)

    def personal_fields(self, event_type: str) -> set[str]:
        return personal_fields(self.schema(event_type))


registry = Registry()

__all__ = ["ContractSchema", "DayField", "EventSchema", "MomentField", "MonthField", "Personal", "Registry",
           "RpcContract", "Secret", "StrictBoolean", "StrictInteger", "ValidationError", "lax_fields",
           "personal_fields", "presenting", "registry", "safe_name", "secret_fields", "unsafe_text"]
