"""What every nameko service class has: structured RPC contracts, a health
RPC, a clock and a logger. Service classes stay adapters:
validate with the contract -> decide -> append -> dump the reply."""
from __future__ import annotations

import datetime as dt
import functools

from nameko.rpc import rpc

from services.chassis.auth import Auth
from services.chassis.dependencies import Clock, StructLogger
from services.chassis.errors import ServiceError, ValidationFailed, translate
from services.eventstore import AppendResult

FUTURE_TOLERANCE = dt.timedelta(minutes=5)


def contract_rpc(contract):
    """Expose a method as RPC ``contract.method``: the caller's principal is
    checked against the contract's roles first (``unauthenticated`` or
    ``forbidden``, before the payload is even read), then the payload is
    loaded with the request schema (bad input -> ValidationFailed naming each
    field, before anything is stored), the result dumped with the reply
    schema, and every known error translated into a structured one."""
    request_schema, reply_schema = contract.request(), contract.reply()

    def decorate(method):
        if method.__name__ != contract.method:
            raise TypeError(f"{method.__name__} implements {contract.method}")

        @functools.wraps(method)
        def entrypoint(self, payload=None, **fields):
            try:
                self.auth.require(contract)
                if payload is None:
                    payload = fields
                elif not isinstance(payload, dict) or fields:
                    raise ValidationFailed("the payload must be one JSON object",
                                           {"_schema": ["expected a single object argument"]})
                return reply_schema.dump(method(self, request_schema.load(payload)))
            except Exception as exc:
                structured = translate(exc)
                if structured is None or structured is exc:
                    raise
                raise structured from None

        return rpc(expected_exceptions=ServiceError)(entrypoint)

    return decorate


def append_reply(result: AppendResult) -> dict:
    return {
        "stream_id": result.stream_id,
        "version": result.version,
        "positions": [event.position for event in result.events],
        "event_ids": [event.event_id for event in result.events],
        "duplicate": result.duplicate,
    }


def business_time(given: dt.datetime | None, now: dt.datetime, field: str = "at") -> dt.datetime:
    """The time a command happened: given by the desk (e.g. a form filled in
    earlier) or now. A time in the future is refused."""
    if given is None:
        return now
    if given > now + FUTURE_TOLERANCE:
        raise ValidationFailed(f"{field} is in the future", {field: ["must not be in the future"]})
    return given


class ServiceBase:
    """Base of every service class."""

    name: str = ""
    auth = Auth()
    clock = Clock()
    log = StructLogger()

    @rpc
    def health(self):
        """Liveness and the store's head: {service, status, store_head}."""
        store = getattr(self, "store", None) or getattr(getattr(self, "ledger", None), "store", None)
        reply = {"service": self.name, "status": "ok"}
        if store is not None:
            reply["store_head"] = store.head().position
        return reply
