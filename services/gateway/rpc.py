"""How the gateway calls the services: nameko's RPC proxy from inside the
gateway's own worker, with the caller's principal (and a second person's,
for a rule that needs their consent) in nameko context data, exactly where
``services.chassis.auth`` reads them, and every call bounded by
``eventlet.Timeout`` (in-service proxies wait for ever otherwise).

A call returns the reply or raises :class:`CallFailed` with the HTTP status
and the service's structured error; a service that is not running or does
not answer in time is ``unavailable`` (503), an unexpected reply ``bad_gateway``.
"""
from __future__ import annotations

import eventlet
from kombu.exceptions import OperationalError
from nameko.exceptions import RemoteError, UnknownService
from nameko.extensions import DependencyProvider
from nameko.rpc import MethodProxy, ReplyListener

from services.chassis.errors import error_body
from services.chassis.principal import CONTEXT_KEY, COSIGNER_KEY
from services.gateway.errors import status_for
from services.gateway.screens import CallFailed
from services.staff.service import SOURCE_KEY

DEFAULT_TIMEOUT = 15.0


class Caller:
    """``caller(service, method, payload, token=..., cosigner=..., source=...)`` for one worker."""

    def __init__(self, worker_ctx, reply_listener, timeout: float, log=None):
        self._ctx, self._listener, self.timeout, self._log = worker_ctx, reply_listener, timeout, log

    def __call__(self, service: str, method: str, payload: dict | None = None, *, token: str | None = None,
                 cosigner: str | None = None, source: str | None = None) -> dict:
        data = self._ctx.data
        saved = dict(data)
        for key in (CONTEXT_KEY, COSIGNER_KEY, SOURCE_KEY):
            data.pop(key, None)
        if token:
            data[CONTEXT_KEY] = token
        if cosigner:
            data[COSIGNER_KEY] = cosigner
        if source:
            data[SOURCE_KEY] = source
        try:
            with eventlet.Timeout(self.timeout):
                return MethodProxy(self._ctx, service, method, self._listener)(payload or {})
        except eventlet.Timeout:
            self._warn("rpc.timeout", service, method)
            raise CallFailed(503, {"code": "unavailable",
                                   "message": f"{service} did not answer within {self.timeout:g}s"}) from None
        except UnknownService:
            self._warn("rpc.unknown_service", service, method)
            raise CallFailed(503, {"code": "unavailable", "message": f"{service} is not running"}) from None
        except (OSError, OperationalError) as exc:  # the broker is gone or refuses the connection
            self._warn("rpc.broker_unreachable", service, method, error=type(exc).__name__)
            raise CallFailed(503, {"code": "unavailable", "message": "the message broker is not reachable"}) from None
        except RemoteError as exc:
            body = error_body(exc)
            if body.get("code") == "error":  # not one of ours: a method that does not exist, a crash
                self._warn("rpc.unexpected_error", service, method, error=exc.exc_type)
                body = {"code": "bad_gateway", "message": f"{service}.{method} failed"}
            raise CallFailed(status_for(body["code"]), body) from None
        finally:
            data.clear()
            data.update(saved)

    def _warn(self, event, service, method, **ids):
        if self._log is not None:
            self._log.warning(event, target=f"{service}.{method}", **ids)


class Services(DependencyProvider):
    """``self.services``: a :class:`Caller` bound to the worker."""

    rpc_reply_listener = ReplyListener()

    def setup(self):
        from services.chassis import logging as vsc_logging
        self.timeout = float(self.container.config.get("GATEWAY_RPC_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT)
        self.log = vsc_logging.get_logger(service=self.container.service_name)

    def get_dependency(self, worker_ctx):
        return Caller(worker_ctx, self.rpc_reply_listener, self.timeout, self.log.bind(call_id=worker_ctx.call_id))
