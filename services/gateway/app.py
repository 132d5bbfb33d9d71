"""The gateway's request handling, apart from nameko: the console (screens,
sessions, CSRF, languages), the live stream and the JSON API. The nameko
service (service.py) hands every HTTP request here with a caller bound to its
worker; tests can hand it a fake caller.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import traceback
from dataclasses import dataclass
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import jinja2
from werkzeug.exceptions import MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.utils import send_from_directory
from werkzeug.wrappers import Request, Response

from services.gateway import screens as registry
from services.gateway.errors import MESSAGES, status_for
from services.gateway.i18n import LANGUAGE_NAMES, LANGUAGES, Translator, choose_language, load_translations
from services.gateway.live import Hub
from services.gateway.screens import CallFailed, Page, Redirect
from services.gateway.sessions import (
    COOKIE, CSRF_FIELD, CSRF_HEADER, LANGUAGE_COOKIE, SAFE_METHODS, Session, SessionStore, Signed, cookie_options,
)

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "templates")
STATIC = os.path.join(HERE, "static")
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600
BACKGROUND = "fetch-html"  # X-Requested-With of console.js's live refresh (VSC.refresh)


@dataclass(frozen=True)
class Settings:
    zone: dt.tzinfo
    idle_lock_seconds: float = 300
    expire_seconds: float = 3600
    max_body_bytes: int = 65536
    trust_forwarded: bool = False

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        def number(key, default):
            value = config.get(key)
            return default if value in (None, "") else float(value)
        trust = config.get("GATEWAY_TRUST_FORWARDED")
        return cls(zone=ZoneInfo(config.get("TIMEZONE") or "Asia/Shanghai"),
                   idle_lock_seconds=number("GATEWAY_IDLE_LOCK_SECONDS", 300),
                   expire_seconds=number("GATEWAY_SESSION_EXPIRE_SECONDS", 3600),
                   max_body_bytes=int(number("GATEWAY_MAX_BODY_BYTES", 65536)),
                   trust_forwarded=trust is True or str(trust).lower() in ("1", "true", "yes"))


def over_tls(request: Request, settings: Settings) -> bool:
    if request.scheme == "https":
        return True
    return settings.trust_forwarded and request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def client_address(request: Request, settings: Settings) -> str:
    if settings.trust_forwarded and request.headers.get("X-Forwarded-For"):
        # the address our own proxy added (the last); earlier ones are the client's say
        return request.headers["X-Forwarded-For"].split(",")[-1].strip()[:64] or "unknown"
    return (request.remote_addr or "unknown")[:64]


def safe_next(target: str | None) -> str:
    """A redirect target from the client: a local path only (no open redirect)."""
    if not target or not isinstance(target, str) or not target.startswith("/") or target.startswith("//") \
            or "\\" in target or urlsplit(target).netloc:
        return "/"
    return target


class ScreenRequest:
    """What a screen function gets as ``request``: the HTTP request, the
    user's language (``t``, ``_``) and :meth:`call` (an RPC as this session's
    principal)."""

    def __init__(self, gateway: Gateway, http: Request, caller, session: Session | None, t: Translator,
                 values: dict):
        self.gateway, self.http, self.caller, self.session, self.t, self.values = (
            gateway, http, caller, session, t, values)
        self.method = http.method
        self.args = http.args
        self.form = http.form if http.method not in SAFE_METHODS else {}
        self._ = t.gettext
        self.source = client_address(http, gateway.settings)

    @property
    def principal(self) -> Signed | None:
        return self.session.principal if self.session else None

    def call(self, service: str, method: str, payload: dict | None = None, *, cosigner: str | None = None) -> dict:
        token = self.principal.token if self.principal else None
        return self.caller(service, method, payload or {}, token=token, cosigner=cosigner, source=self.source)

    def begin(self) -> Session:
        """This terminal's session, made (not logged in) if it has none: a
        login form needs one for its CSRF token."""
        if self.session is None:
            self.session = self.gateway.sessions.new()
        return self.session

    def signed_in(self, reply: dict) -> Session:
        """Log this terminal in with a ``PrincipalReply`` (a new session id)."""
        self.session = self.gateway.sessions.log_in(self.begin(), Signed.from_reply(reply))
        return self.session

    def set_cookie(self, response, name: str, value: str, max_age: int = 365 * 24 * 3600) -> None:
        """A preference cookie (language, desk): HttpOnly, SameSite=Strict, Secure over TLS."""
        response.set_cookie(name, value, max_age=max_age,
                            **cookie_options(over_tls(self.http, self.gateway.settings)))

    def end(self) -> None:
        if self.session is not None:
            self.gateway.sessions.drop(self.session)
        self.session = None

    def login(self, staff_id: str, password: str, desk: str | None = None) -> dict:
        """The staff service's login for someone at this terminal (a login
        screen, or a second person confirming with their own login: pass the
        reply's ``token`` as ``cosigner``)."""
        payload = {"staff_id": staff_id, "password": password}
        if desk:
            payload["desk"] = desk
        return self.caller("staff", "login", payload, source=self.source)


class Gateway:
    def __init__(self, settings: Settings, sessions: SessionStore | None = None, hub: Hub | None = None, log=None):
        self.settings = settings
        self.sessions = sessions or SessionStore(settings.idle_lock_seconds, settings.expire_seconds)
        self.hub = hub or Hub()
        self.log = log
        self.translations = load_translations()
        registry.load_all()
        self.screen_map = registry.url_map()
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                                      undefined=jinja2.ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
        from services.gateway.api import Api
        self.api = Api(self)

    # -- entry -------------------------------------------------------------------
    def handle(self, request: Request, caller) -> Response:
        try:
            path = request.path
            if path.startswith("/static/"):
                return self._static(request, path[len("/static/"):])
            request.max_content_length = self.settings.max_body_bytes
            request.max_form_memory_size = self.settings.max_body_bytes
            if path == "/api" or path.startswith("/api/"):
                return self.api.handle(request, caller)
            return self._console(request, caller)
        except Exception as exc:  # a bug of ours: logged by type and place, answered as 502
            self._log_failure("gateway.unexpected_error", exc)
            if not request.path.startswith("/api") and not self._wants_json(request):
                try:
                    t = self.translator(request)
                    return self.render(request, t, None, "gateway/error.html", {
                        "status": 502, "code": "bad_gateway", "message": t.gettext(MESSAGES["bad_gateway"])}, 502)
                except Exception:
                    pass
            return _json(502, {"error": {"code": "bad_gateway", "message": "unexpected error; logged", "field": None}})

    def _log_failure(self, event: str, exc: BaseException) -> None:
        if self.log is None:
            return
        frames = traceback.extract_tb(exc.__traceback__)
        where = f"{frames[-1].filename.rsplit('/', 2)[-1]}:{frames[-1].lineno}" if frames else None
        self.log.error(event, error=type(exc).__name__, where=where)

    def _static(self, request: Request, name: str) -> Response:
        try:
            response = send_from_directory(STATIC, name, request.environ, max_age=3600)
        except NotFound:
            return Response("not found", status=404, content_type="text/plain")
        return response

    # -- console -----------------------------------------------------------------
    def translator(self, request: Request) -> Translator:
        return Translator(self.translations, choose_language(request.cookies.get(LANGUAGE_COOKIE)),
                          self.settings.zone)

    def _console(self, request: Request, caller) -> Response:
        t = self.translator(request)
        session = self.sessions.get(request.cookies.get(COOKIE))
        had_cookie = COOKIE in request.cookies
        if request.content_length is not None and request.content_length > self.settings.max_body_bytes:
            return self._finish(request, self._error_page(request, t, session, 413, "too_large"), session,
                                had_cookie)
        if request.path == "/events/stream":
            return self._live(request, t, session)
        adapter = self.screen_map.bind_to_environ(request.environ)
        try:
            name, values = adapter.match()
        except MethodNotAllowed:
            return self._finish(request, self._error_page(request, t, session, 405, "method_not_allowed"),
                                session, had_cookie)
        except NotFound:
            return self._finish(request, self._error_page(request, t, session, 404, "not_found"), session,
                                had_cookie)
        screen = registry.SCREENS[name]
        ask = ScreenRequest(self, request, caller, session, t, values)
        try:
            response = self._guarded(screen, ask)
        except RequestEntityTooLarge:
            response = self._error_page(request, t, ask.session, 413, "too_large")
        return self._finish(request, response, ask.session, had_cookie)

    def _wants_json(self, request: Request) -> bool:
        return request.headers.get("X-Requested-With") == "fetch" or \
            request.accept_mimetypes.best == "application/json"

    def _to_login(self, request: Request) -> Response:
        if self._wants_json(request):
            return _json(401, {"error": {"code": "unauthenticated", "message": "log in first", "field": None}})
        target = request.full_path.rstrip("?") if request.method == "GET" else "/"
        return _redirect(f"/login?next={quote(target)}")

    def _guarded(self, screen: registry.Screen, ask: ScreenRequest) -> Response:
        request, session = ask.http, ask.session
        if not screen.public:
            if session is None or session.principal is None:
                return self._to_login(request)
            if session.locked and not screen.while_locked:
                return _redirect(f"/lock?next={quote(request.full_path.rstrip('?'))}"
                                 if request.method == "GET" else "/lock")
            if session.principal.password_change_required and not screen.while_password_change:
                return _redirect("/account/password")
            if not screen.allowed(session.principal):
                return self._error_page(request, ask.t, session, 403, "forbidden")
        if request.method not in SAFE_METHODS:
            given = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
            if session is None or not session.csrf_ok(given):
                return self._error_page(request, ask.t, session, 403, "csrf_failed")
        if session is not None and session.principal is not None and self.sessions.needs_refresh(session):
            try:
                session.principal = Signed.from_reply(ask.call("staff", "refresh", {}))
            except CallFailed as failed:
                if failed.status == 401:
                    self.sessions.drop(session)
                    ask.session = None
                    return self._to_login(request)
        if session is not None and request.headers.get("X-Requested-With") != BACKGROUND:
            self.sessions.touch(session)  # a live list's own refresh is no one's use: the idle lock stays due
        try:
            result = screen.func(ask, ask.session, **ask.values)
        except CallFailed as failed:
            if failed.status == 401 and not screen.public:
                if ask.session is not None:
                    self.sessions.drop(ask.session)
                    ask.session = None
                return self._to_login(request)
            return self._error_page(request, ask.t, ask.session, failed.status, failed.code, failed)
        return self.respond(ask, result)

    def respond(self, ask: ScreenRequest, result) -> Response:
        if isinstance(result, Response):
            return result
        if isinstance(result, Redirect):
            return _redirect(result.location, result.status)
        if isinstance(result, Page):
            return self.render(ask.http, ask.t, ask.session, result.template, result.context, result.status)
        raise TypeError(f"a screen returned {type(result).__name__}, not page() or redirect()")

    def render(self, request: Request, t: Translator, session: Session | None, template: str, context: dict,
               status: int = 200) -> Response:
        principal = session.principal if session else None
        base = {
            "_": t.gettext, "gettext": t.gettext, "ngettext": t.ngettext, "t": t,
            "language": t.language, "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            "session": session, "user": principal, "csrf_token": session.csrf if session else "",
            "nav": [s for s in registry.nav_for(principal)] if principal and not session.locked else [],
            "path": request.path, "full_path": request.full_path.rstrip("?"),
            "notices": session.take_notices() if session else [],
            "errors": {}, "form": {}, "idle_lock_seconds": int(self.settings.idle_lock_seconds),
        }
        base.update(context)
        if "failed" in context and context["failed"] is not None:
            base.setdefault("error", context["failed"].message(t))
            if not context.get("errors"):
                base["errors"] = context["failed"].field_errors(t)
        body = self.env.get_template(template).render(base)
        return Response(body, status=status, content_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                                 "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
                                 "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                                            "style-src 'self'; script-src 'self'; "
                                                            "frame-ancestors 'none'; form-action 'self'"})

    def _error_page(self, request: Request, t: Translator, session, status: int, code: str,
                    failed: CallFailed | None = None) -> Response:
        if self._wants_json(request) or request.path.startswith("/events/"):
            body = failed.body if failed else {"code": code, "message": code}
            return _json(status, {"error": {"code": body.get("code", code), "message": body.get("message", ""),
                                            "field": None}})
        message = failed.message(t) if failed else t.gettext(MESSAGES.get(code, MESSAGES["bad_request"]))
        return self.render(request, t, session, "gateway/error.html",
                           {"status": status, "code": code, "message": message}, status)

    def _finish(self, request: Request, response: Response, session: Session | None, had_cookie: bool) -> Response:
        """The session cookie: set when this request made or renewed the
        session, cleared when it ended one."""
        secure = over_tls(request, self.settings)
        if session is not None and request.cookies.get(COOKIE) != session.session_id:
            response.set_cookie(COOKIE, session.session_id, **cookie_options(secure))
        elif session is None and had_cookie:
            response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Strict", secure=secure)
        return response

    # -- live --------------------------------------------------------------------
    def _live(self, request: Request, t: Translator, session: Session | None) -> Response:
        if session is None or session.principal is None or session.locked:
            return _json(401, {"error": {"code": "unauthenticated", "message": "log in first", "field": None}})
        request.environ["eventlet.minimum_write_chunk_size"] = 0  # eventlet buffers 4 KiB otherwise
        return Response(self.hub.stream(), status=200, mimetype="text/event-stream",
                        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}, direct_passthrough=True)


def _json(status: int, body: dict, headers: dict | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, default=str), status=status,
                    content_type="application/json; charset=utf-8", headers=headers)


def _redirect(location: str, status: int = 303) -> Response:
    return Response("", status=status, headers={"Location": location})
