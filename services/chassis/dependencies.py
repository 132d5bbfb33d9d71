"""nameko dependency providers shared by every service. Each ``setup()``
calls a plain factory, so tests can build the same objects without nameko."""
from __future__ import annotations

import datetime as dt
import functools
import os
import re
import time

from marshmallow import fields
from nameko.extensions import DependencyProvider
from nameko.events import EventHandler
from nameko.timer import Timer

import contracts
from services.chassis import logging as vsc_logging
from services.chassis.auth import verified_cosigner, verified_principal
from services.chassis.principal import Principal
from services.chassis.projection import Projector
from services.chassis.codec import EventCodec
from services.chassis.commands import execute, load_state
from services.chassis.decider import Decider
from services.chassis.wiring import store_from_config
from services.eventstore import AppendResult, EventStore


class EventStoreProvider(DependencyProvider):
    """The event store (``EVENT_STORE_URI``), opened once per container."""

    def setup(self):
        self.store = store_from_config(self.container.config)

    def stop(self):
        self.store.close()

    def get_dependency(self, worker_ctx):
        return self.store


class Ledger:
    """What a write-side worker needs: load a stream, execute a command.
    The events' actor is the principal the chassis verified for this call
    (and the cosigner, when a rule needed a second person's login); a
    service never passes who acts."""

    def __init__(self, store: EventStore, codec: EventCodec, decider: Decider, worker_ctx):
        self.store, self.codec, self.decider = store, codec, decider
        self._ctx = worker_ctx
        stack = worker_ctx.call_id_stack or [worker_ctx.call_id]
        self.correlation_id = stack[0]

    def state(self, stream_id: str):
        return load_state(self.store, self.codec, self.decider, stream_id)[0]

    def execute(self, stream_id: str, command, *, occurred_at: dt.datetime, desk: str | None = None,
                command_id: str | None = None, correlation_id: str | None = None,
                as_principal: Principal | None = None) -> AppendResult:
        """``as_principal`` only for the login step, which has just proven
        who acts by their password and issued their principal."""
        principal, cosigner = as_principal or verified_principal(self._ctx), verified_cosigner(self._ctx)
        if principal is None:
            raise RuntimeError("no verified principal: a command RPC must declare roles in its contract")
        metadata = {"actor": principal.staff_id, "desk": desk or principal.desk,
                    "cosigner": cosigner.staff_id if cosigner is not None else None,
                    "correlation_id": correlation_id or self.correlation_id}
        return execute(self.store, self.codec, self.decider, stream_id, command,
                       occurred_at=occurred_at, metadata=metadata, command_id=command_id)

    def decode(self, record):
        return self.codec.decode(record)


def protector_from_config(config: dict):
    """The vault (``open_vault``: a missing or wrong master key stops the
    start, naming the setting) and the protector over it."""
    from zoneinfo import ZoneInfo

    from services.chassis.principal import secrets_dir
    from services.privacy import open_vault
    from services.privacy.protect import Protector, retention_days
    if not config.get("PRIVACY_MASTER_KEY") and not config.get("PRIVACY_MASTER_KEY_FILE"):
        # as the principal keys: the local secrets directory (make run puts the key there)
        config = dict(config, PRIVACY_MASTER_KEY_FILE=os.path.join(secrets_dir(), "privacy.key"))
    vault = open_vault(config)
    return vault, Protector(vault, contracts.registry, retention_days(config),
                            ZoneInfo(config.get("TIMEZONE") or "Asia/Shanghai"))


def persistent_projector(config: dict, store, folds, name: str) -> Projector:
    """A service's own projector whose folds persist beside the log
    (``READMODEL_STORE_URI``; ``READMODEL_SNAPSHOT_EVENTS`` and
    ``READMODEL_SNAPSHOT_SECONDS`` say how often): pickling and SQLite work in
    eventlet's thread pool, long catch-ups pausing for the hub. Close its
    ``readmodels`` when the service stops."""
    import eventlet
    from eventlet import tpool

    from services.chassis.projection import SNAPSHOT_EVENTS, SNAPSHOT_SECONDS
    from services.chassis.readmodels import readmodels_from_config
    return Projector(store, contracts.registry, folds, name=name, readmodels=readmodels_from_config(config),
                     offload=tpool.execute, pause=eventlet.sleep,
                     snapshot_events=int(config.get("READMODEL_SNAPSHOT_EVENTS", SNAPSHOT_EVENTS)),
                     snapshot_seconds=float(config.get("READMODEL_SNAPSHOT_SECONDS", SNAPSHOT_SECONDS)))


class Privacy(DependencyProvider):
    """``self.privacy``: the protector of personal data (``services/privacy/protect.py``)."""

    def setup(self):
        self.vault, self.protector = protector_from_config(self.container.config)

    def stop(self):
        self.vault.close()

    def get_dependency(self, worker_ctx):
        return self.protector


class EventSourced(EventStoreProvider):
    """The store plus this service's decider: ``self.ledger.execute(...)``;
    personal data in the events is encrypted before it is appended."""

    def __init__(self, decider: Decider, event_classes):
        self.decider = decider
        self.event_classes = event_classes

    def setup(self):
        super().setup()
        self.vault, protector = protector_from_config(self.container.config)
        self.codec = EventCodec(contracts.registry, self.event_classes, protector)

    def stop(self):
        super().stop()
        self.vault.close()

    def get_dependency(self, worker_ctx):
        return Ledger(self.store, self.codec, self.decider, worker_ctx)


class ReadModel(DependencyProvider):
    """An in-process projector over ``fold_classes`` (e.g. the staff
    directory): ``self.<name>.catch_up()`` then ``.fold(cls)``."""

    def __init__(self, *fold_classes):
        self.fold_classes = fold_classes

    def setup(self):
        self.store = store_from_config(self.container.config)
        self.projector = Projector(self.store, contracts.registry, [cls() for cls in self.fold_classes])

    def stop(self):
        self.store.close()

    def get_dependency(self, worker_ctx):
        return self.projector


class Clock(DependencyProvider):
    """``self.clock()`` is now, timezone-aware UTC; tests replace it."""

    def get_dependency(self, worker_ctx):
        return lambda: dt.datetime.now(dt.timezone.utc)


@functools.cache
def _declared_names(service: str, method: str) -> frozenset[str]:
    """Every field name the request schema of ``service.method`` declares
    (nested schemas too): the names a log line may repeat."""
    contract = contracts.registry.rpcs.get((service, method))
    names: set[str] = set()

    def walk(schema):
        for name, field in schema.fields.items():
            names.add(field.data_key or name)
            inner = getattr(field, "inner", None)
            nested = field.schema if isinstance(field, fields.Nested) else None
            if isinstance(inner, fields.Nested):
                nested = inner.schema
            if nested is not None:
                walk(nested)

    if contract is not None:
        walk(contract.request())
    return frozenset(names | {"_schema"})


_PATH_PARTS = re.compile(r"[.\[\]]+")


def loggable_fields(service: str, method: str, names) -> tuple[list[str], int]:
    """The reported field paths that consist of declared names and list
    indexes only, and the number of the others: a client's own field name
    (which may be 100 KB long or hold personal data) is never logged."""
    declared = _declared_names(service, method)
    safe, other = [], 0
    for name in names:
        parts = [part for part in _PATH_PARTS.split(str(name)) if part]
        if (parts and len(str(name)) <= 200 and parts[0] in declared
                and all(part in declared or (part.isdigit() and len(part) <= 6) for part in parts)):
            safe.append(str(name))
        else:
            other += 1
    return sorted(safe), other


# entrypoints that run whether or not there is work (see StructLogger)
BACKGROUND = (Timer, EventHandler)


class StructLogger(DependencyProvider):
    """structlog bound to service, entrypoint and call id; logs every call's
    outcome and duration (never its arguments: they may hold personal data).

    - a request (RPC, HTTP): ``call.done``, ``call.refused`` (code, reason,
      the declared fields named) or ``call.failed``, at INFO; ``health``
      (probed every few seconds) at DEBUG. Its result is never logged;
    - a timer or event handler runs whether or not there is work: its
      ``call.done`` is logged at INFO only when the method returns a truthy
      summary of what it did (a dict of ids and counts, merged into the
      line); a call that found nothing new is ``call.idle`` at DEBUG.
    """

    def setup(self):
        vsc_logging.configure(self.container.config.get("LOG_LEVEL", "INFO"))
        self._started = {}

    def _bound(self, worker_ctx):
        return vsc_logging.get_logger(service=self.container.service_name,
                                      entrypoint=worker_ctx.entrypoint.method_name,
                                      call_id=worker_ctx.call_id)

    def get_dependency(self, worker_ctx):
        return self._bound(worker_ctx)

    def worker_setup(self, worker_ctx):
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started.pop(worker_ctx, None)
        elapsed = round((time.perf_counter() - started) * 1000, 2) if started else None
        log = self._bound(worker_ctx)
        method = worker_ctx.entrypoint.method_name
        if exc_info is None:
            if not isinstance(worker_ctx.entrypoint, BACKGROUND):  # a caller's request: never its result
                (log.debug if method == "health" else log.info)("call.done", ms=elapsed)
            elif result:
                summary = result if isinstance(result, dict) else {}
                log.info("call.done", ms=elapsed, **{str(key): value for key, value in summary.items()})
            else:
                log.debug("call.idle", ms=elapsed)
            return
        body = getattr(exc_info[1], "body", None)
        if isinstance(body, dict):
            named, other = loggable_fields(self.container.service_name, method, body.get("fields") or {})
            details = {"code": body.get("code"), "fields": named}
            if other:
                details["undeclared_fields"] = other
            if isinstance(body.get("reason"), str):
                details["reason"] = body["reason"]
            log.info("call.refused", ms=elapsed, **details)
        else:
            log.error("call.failed", ms=elapsed, error=type(exc_info[1]).__name__)
