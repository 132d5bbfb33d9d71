"""nameko dependency providers shared by every service. Each ``setup()``
calls a plain factory, so tests can build the same objects without nameko."""
from __future__ import annotations

import datetime as dt
import time

from nameko.extensions import DependencyProvider

import contracts
from services.chassis import logging as vsc_logging
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
    """What a write-side worker needs: load a stream, execute a command."""

    def __init__(self, store: EventStore, codec: EventCodec, decider: Decider, correlation_id: str | None):
        self.store, self.codec, self.decider = store, codec, decider
        self.correlation_id = correlation_id

    def state(self, stream_id: str):
        return load_state(self.store, self.codec, self.decider, stream_id)[0]

    def execute(self, stream_id: str, command, *, occurred_at: dt.datetime, actor: str | None,
                desk: str | None = None, command_id: str | None = None,
                correlation_id: str | None = None) -> AppendResult:
        metadata = {"actor": actor, "desk": desk, "correlation_id": correlation_id or self.correlation_id}
        return execute(self.store, self.codec, self.decider, stream_id, command,
                       occurred_at=occurred_at, metadata=metadata, command_id=command_id)

    def decode(self, record):
        return self.codec.decode(record)


class EventSourced(EventStoreProvider):
    """The store plus this service's decider: ``self.ledger.execute(...)``."""

    def __init__(self, decider: Decider, event_classes):
        self.decider = decider
        self.event_classes = event_classes

    def setup(self):
        super().setup()
        self.codec = EventCodec(contracts.registry, self.event_classes)

    def get_dependency(self, worker_ctx):
        stack = worker_ctx.call_id_stack or [worker_ctx.call_id]
        return Ledger(self.store, self.codec, self.decider, stack[0])


class Clock(DependencyProvider):
    """``self.clock()`` is now, timezone-aware UTC; tests replace it."""

    def get_dependency(self, worker_ctx):
        return lambda: dt.datetime.now(dt.timezone.utc)


class StructLogger(DependencyProvider):
    """structlog bound to service, entrypoint and call id; logs every call's
    outcome and duration (never its arguments: they may hold personal data)."""

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
        if exc_info is None:
            log.info("call.done", ms=elapsed)
        else:
            body = getattr(exc_info[1], "body", None)
            if body is not None:
                log.info("call.refused", ms=elapsed, code=body.get("code"),
                         fields=sorted(body.get("fields", {})))
            else:
                log.error("call.failed", ms=elapsed, error=type(exc_info[1]).__name__)
