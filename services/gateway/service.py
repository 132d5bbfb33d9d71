"""gateway: the desk console (server-rendered pages) and the JSON API over
the services' RPCs, as a nameko service with nameko's ``http`` entrypoint.

    nameko run --config deploy/config.yaml services.gateway.service

It listens on ``WEB_SERVER_ADDRESS`` (config.yaml: ``GATEWAY_HOST``,
default 127.0.0.1, and ``GATEWAY_PORT``, default 8000). It holds no key and
decides no role rule of its own: it passes the principal the staff service
issued at login with every call (``services/gateway/rpc.py``), and each
service checks it. Live updates: the relay's notices of ``lost_and_found``
and ``duty_log`` events, broadcast to every browser connected to this
process (``/events/stream``).
"""
from __future__ import annotations

from nameko.events import BROADCAST, event_handler
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc
from nameko.web.handlers import http

from services.chassis import logging as vsc_logging
from services.chassis.dependencies import StructLogger
from services.gateway.app import Gateway, Settings
from services.gateway.live import thin
from services.gateway.rpc import Services

METHODS = "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"


class Console(DependencyProvider):
    """The one :class:`Gateway` of this process (sessions, templates, the
    live hub), made when the container starts."""

    def setup(self):
        vsc_logging.configure(self.container.config.get("LOG_LEVEL", "INFO"))
        self.gateway = Gateway(Settings.from_config(self.container.config),
                               log=vsc_logging.get_logger(service="gateway"))

    def get_dependency(self, worker_ctx):
        return self.gateway


class GatewayService:
    name = "gateway"
    log = StructLogger()
    console = Console()
    services = Services()

    @http(METHODS, "/")
    def root(self, request):
        return self.console.handle(request, self.services)

    @http(METHODS, "/<path:path>")
    def page(self, request, path):
        return self.console.handle(request, self.services)

    @event_handler("lost_and_found", "#", handler_type=BROADCAST, reliable_delivery=False)
    def on_lost_and_found_event(self, envelope):
        return self._broadcast(envelope, "lost_and_found")

    @event_handler("duty_log", "#", handler_type=BROADCAST, reliable_delivery=False)
    def on_duty_log_event(self, envelope):
        return self._broadcast(envelope, "duty_log")

    def _broadcast(self, envelope, source):
        notice = thin(envelope, source)
        if notice is None:
            return None
        delivered = self.console.hub.publish(notice)
        return {"position": notice.get("position"), "clients": delivered} if delivered else None

    @rpc
    def health(self):
        """Liveness, as every service: {service, status} and how many browsers listen live."""
        return {"service": self.name, "status": "ok", "sessions": len(self.console.sessions),
                "live_clients": len(self.console.hub)}
