"""Structured errors of every RPC.

nameko carries a remote exception to the caller as ``RemoteError(exc_type,
value)`` where value is ``str(exc)``; ours make that string a JSON object, so
a caller gets the code, message and per-field problems back with
:func:`error_body`. No exception registry is needed on either side.
"""
from __future__ import annotations

import json

from marshmallow import ValidationError

from services.chassis.decider import NotFound, Rejected
from services.eventstore import CommandIdConflict, ConcurrencyError, InvalidEvent, StoreUnavailable


class ServiceError(Exception):
    code = "error"

    def __init__(self, message: str, fields: dict | None = None, **details):
        self.body = {"code": self.code, "message": message, **({"fields": fields} if fields else {}), **details}
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
        return ValidationFailed(f"invalid input: {', '.join(sorted(fields))}", fields)
    if isinstance(exc, InvalidEvent):
        return ValidationFailed(f"invalid event: {exc}", exc.problems)
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
