"""Structured errors of every RPC.

nameko carries a remote exception to the caller as ``RemoteError(exc_type,
value)`` where value is ``str(exc)``; ours make that string a JSON object, so
a caller gets the code, message and per-field problems back with
:func:`error_body`. No exception registry is needed on either side.

A body echoes what a client sent only bounded and clean: field names are cut
to 64 characters and "…" with control, surrogate and bidi characters escaped
(:func:`contracts.base.safe_name`), at most 20 fields are listed, and every
message is cut to 300 characters.
"""
from __future__ import annotations

import json

from marshmallow import ValidationError

from contracts.base import MAX_PROBLEMS, safe_name
from services.chassis.decider import NotFound, Rejected
from services.eventstore import CommandIdConflict, ConcurrencyError, InvalidEvent, StoreUnavailable

MESSAGE_LIMIT = 300
MESSAGES_PER_FIELD = 5


def _clean(value):
    """A body value made bounded and safe to echo (and to encode)."""
    if isinstance(value, str):
        return safe_name(value, MESSAGE_LIMIT)
    if isinstance(value, dict):
        return {safe_name(key): _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(item) for item in value]
    return value


def _bounded_fields(fields: dict) -> dict:
    shown = {}
    for name, messages in fields.items():
        if len(shown) == MAX_PROBLEMS:
            shown["_more"] = [f"{len(fields) - MAX_PROBLEMS} more fields not shown"]
            break
        messages = messages if isinstance(messages, list) else [messages]
        shown[safe_name(name)] = [_clean(str(m)) for m in messages[:MESSAGES_PER_FIELD]]
    return shown


class ServiceError(Exception):
    code = "error"

    def __init__(self, message: str, fields: dict | None = None, **details):
        self.body = {"code": self.code, "message": _clean(message),
                     **({"fields": _bounded_fields(fields)} if fields else {}), **_clean(details)}
        super().__init__(json.dumps(self.body, ensure_ascii=False, default=str))


class ValidationFailed(ServiceError):
    """Bad input: ``fields`` maps each bad field to its problems."""
    code = "validation_failed"


class Conflict(ServiceError):
    """Someone else changed the same thing first; reload and try again."""
    code = "conflict"


class UnknownId(ServiceError):
    code = "not_found"


class RuleViolated(ServiceError):
    """A business rule forbids the command (``reason`` says which)."""
    code = "rule_violated"


class Unavailable(ServiceError):
    code = "unavailable"


class Unauthenticated(ServiceError):
    """No principal, or one that is forged, expired or tampered: log in."""
    code = "unauthenticated"


class Forbidden(ServiceError):
    """A valid principal without a role the RPC needs (``reason`` says which rule)."""
    code = "forbidden"


class Throttled(ServiceError):
    """Too many failed attempts; ``retry_after`` seconds to wait."""
    code = "throttled"


class Internal(ServiceError):
    """Something unexpected failed (a bug); the details are in the service's
    log under the call id, never in the reply."""
    code = "internal_error"


def _flatten(messages, prefix="") -> dict:
    flat = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                flat.update(_flatten(value, name + "."))
            else:
                flat[name] = value if isinstance(value, list) else [value]
    else:
        flat[prefix.rstrip(".") or "_schema"] = messages if isinstance(messages, list) else [messages]
    return flat


def translate(exc: BaseException) -> ServiceError | None:
    """The structured error for an exception raised while handling a call."""
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, ValidationError):
        fields = _flatten(exc.messages)
        named = sorted(fields)
        return ValidationFailed(f"invalid input: {', '.join(safe_name(name) for name in named[:MAX_PROBLEMS])}"
                                + (" …" if len(named) > MAX_PROBLEMS else ""), fields)
    if isinstance(exc, InvalidEvent):
        # an event's field is named as the client sent it (``data.lost_from`` -> ``lost_from``)
        fields = {name[5:] if name.startswith("data.") else name: messages
                  for name, messages in exc.problems.items()}
        return ValidationFailed(f"invalid input: {', '.join(sorted(fields))}", fields)
    if isinstance(exc, NotFound):
        return UnknownId(exc.message, {exc.field: [exc.message]} if exc.field else None)
    if isinstance(exc, Rejected):
        return RuleViolated(exc.message, {exc.field: [exc.message]} if exc.field else None, reason=exc.code)
    if isinstance(exc, CommandIdConflict):
        message = "this command id was already used for another record; send a new command id"
        return Conflict(str(exc), {"command_id": [message]})
    if isinstance(exc, ConcurrencyError):
        return Conflict(str(exc), stream_id=exc.stream_id)
    if isinstance(exc, StoreUnavailable):
        return Unavailable(str(exc))
    return None


def error_body(remote_error) -> dict:
    """Caller side: the body of a nameko ``RemoteError`` raised by our RPCs."""
    try:
        body = json.loads(remote_error.value)
        if isinstance(body, dict) and "code" in body:
            return body
    except (TypeError, ValueError):
        pass
    return {"code": "error", "message": f"{remote_error.exc_type}: {remote_error.value}"}
