"""What every nameko service class has: structured RPC contracts, a health
RPC, a clock, a logger and the site's settings. Service classes stay adapters:
validate with the contract -> decide -> append -> dump the reply.

Config (read when the container starts): ``TIMEZONE`` (default
Asia/Shanghai): replies show times in it; ``BUSINESS_TIME_MAX_AGE_DAYS``
(default 366): how far in the past a business time given by the desk may be.
"""
from __future__ import annotations

import datetime as dt
import functools
import traceback
from typing import Callable, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from services.chassis.auth import Auth
from contracts.base import FUTURE_TOLERANCE, presenting
from services.chassis.dependencies import Clock, Privacy, StructLogger
from services.chassis.errors import Internal, ServiceError, ValidationFailed, translate
from services.eventstore import AppendResult

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_MAX_AGE_DAYS = 366

T = TypeVar("T")


def contract_rpc(contract):
    """Expose a method as RPC ``contract.method``: the caller's principal is
    checked against the contract's roles first (``unauthenticated`` or
    ``forbidden``, before the payload is even read), then the payload is
    loaded with the request schema (bad input -> ValidationFailed naming each
    field, before anything is stored), the result dumped with the reply schema
    (times in the site's time zone), and every error translated into a
    structured one; an unexpected one becomes ``internal_error`` and is logged
    by type and place only."""
    request_schema, reply_schema = contract.request(), contract.reply()

    def decorate(method):
        if method.__name__ != contract.method:
            raise TypeError(f"{method.__name__} implements {contract.method}")

        @functools.wraps(method)
        def entrypoint(self, payload=None, **fields):
            try:
                principal = self.auth.require(contract)
                if payload is None:
                    payload = fields
                elif not isinstance(payload, dict) or fields:
                    raise ValidationFailed("the payload must be one JSON object",
                                           {"_schema": ["expected a single object argument"]})
                result = method(self, request_schema.load(payload))
                # personal data as the caller's roles may see it (none at all without a principal)
                result = self.privacy.present(contract.reply, result, principal.roles if principal else ())
                with presenting(self.site.zone):
                    return reply_schema.dump(result)
            except Exception as exc:
                structured = translate(exc)
                if structured is exc:
                    raise
                if structured is None:
                    self.log.error("call.unexpected_error", **failure(exc))
                    raise Internal("unexpected error; it is logged under this call's id") from None
                raise structured from None

        entrypoint.contract = contract
        return rpc(expected_exceptions=ServiceError)(entrypoint)

    return decorate


def failure(exc: BaseException) -> dict:
    """What may be logged of an exception: its type and where it was raised
    (its message may hold client input or personal data)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename.rsplit('/', 2)[-1]}:{frames[-1].lineno}" if frames else None
    return {"error": type(exc).__name__, "where": where}


def after_append(log, step: str, work: Callable[[], T], fallback: T, **ids) -> tuple[T, bool]:
    """Work done after an append was accepted (suggestions, views): if it
    fails, the command is still stored and its reply must say so. Returns
    ``(work(), True)``, or ``(fallback, False)`` with the failure logged
    (``ids``: stream, positions; never client input)."""
    try:
        return work(), True
    except Exception as exc:
        log.error("after_append.failed", step=step, **failure(exc), **ids)
        return fallback, False


def append_reply(result: AppendResult) -> dict:
    return {
        "stream_id": result.stream_id,
        "version": result.version,
        "positions": [event.position for event in result.events],
        "event_ids": [event.event_id for event in result.events],
        "duplicate": result.duplicate,
    }


def business_time(given: dt.datetime | None, now: dt.datetime, field: str = "at", *,
                  max_age: dt.timedelta = dt.timedelta(days=DEFAULT_MAX_AGE_DAYS)) -> dt.datetime:
    """The time a command happened: given by the desk (e.g. a form filled in
    earlier) or now. A time in the future (beyond a small tolerance) or more
    than ``max_age`` ago is refused, naming ``field``."""
    if given is None:
        return now
    if given > now + FUTURE_TOLERANCE:
        raise ValidationFailed(f"{field} is in the future", {field: ["must not be in the future"]})
    if given < now - max_age:
        raise ValidationFailed(f"{field} is too long ago",
                               {field: [f"must not be more than {max_age.days} days in the past"]})
    return given


def business_date(given: dt.date | None, default: dt.date, field: str, *, now: dt.date,
                  max_age: dt.timedelta = dt.timedelta(days=DEFAULT_MAX_AGE_DAYS)) -> dt.date:
    """A business day given by the desk, or ``default``; not after the day
    after ``now`` (the site's today) nor more than ``max_age`` before it."""
    if given is None:
        return default
    if given > now + dt.timedelta(days=1):
        raise ValidationFailed(f"{field} is in the future", {field: ["must not be in the future"]})
    if given < now - max_age:
        raise ValidationFailed(f"{field} is too long ago",
                               {field: [f"must not be more than {max_age.days} days in the past"]})
    return given


class SiteSettings(NamedTuple):
    zone: dt.tzinfo
    max_age: dt.timedelta

    @classmethod
    def from_config(cls, config: dict) -> SiteSettings:
        return cls(ZoneInfo(config.get("TIMEZONE") or DEFAULT_TIMEZONE),
                   dt.timedelta(days=int(config.get("BUSINESS_TIME_MAX_AGE_DAYS") or DEFAULT_MAX_AGE_DAYS)))


class Site(DependencyProvider):
    """``self.site``: the site's time zone and business-time window, read
    from the config when the container starts (a bad zone fails the start)."""

    def setup(self):
        self.settings = SiteSettings.from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.settings


class ServiceBase:
    """Base of every service class."""

    name: str = ""
    auth = Auth()
    privacy = Privacy()
    clock = Clock()
    log = StructLogger()
    site = Site()

    def business_time(self, given: dt.datetime | None, now: dt.datetime, field: str = "at") -> dt.datetime:
        return business_time(given, now, field, max_age=self.site.max_age)

    def desk_date(self, moment: dt.datetime) -> dt.date:
        """The business day a moment belongs to, in the site's time zone."""
        return moment.astimezone(self.site.zone).date()

    @rpc
    def health(self):
        """Liveness and the store's head: {service, status, store_head} (and a read
        side's ``projected_position`` and ``warm``: every fold in memory, none
        still to be read back from the snapshot)."""
        store = getattr(self, "store", None) or getattr(getattr(self, "ledger", None), "store", None)
        reply = {"service": self.name, "status": "ok"}
        if store is not None:
            reply["store_head"] = store.head().position
        projections = getattr(self, "projections", None)
        if projections is not None:  # a read side: how far its own state has got (not caught up by asking)
            reply["projected_position"] = projections.position
            reply["warm"] = projections.pending_folds == 0
        return reply
