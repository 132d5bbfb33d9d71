"""The JSON API under ``/api/``: ``POST /api/login`` returns a token (the
principal), then ``POST /api/<service>/<rpc>`` with ``Authorization: Bearer
<token>`` for every RPC a desk terminal or kiosk may call (every registered
RPC of a catalogued service but the login itself and the administrators'
own, which are ``vsc staff``'s). The services check every role; the gateway
only passes the token on.

Errors: ``{"error": {"code", "message", "field", ...}}`` with the status of
:mod:`services.gateway.errors`; never a 500.
"""
from __future__ import annotations

import json

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

import contracts
from contracts import roles
from services.gateway.errors import api_error
from services.gateway.screens import CallFailed
from services.gateway.sessions import COOKIE, CSRF_HEADER

COSIGNER_HEADER = "X-Cosigner-Token"


def exposed_rpcs(registry=None) -> dict:
    """(service, method) -> contract: what the API serves."""
    from services.catalogue import SERVICES
    registry = registry or contracts.registry
    return {key: contract for key, contract in registry.rpcs.items()
            if contract.service in SERVICES and key != ("staff", "login")
            and not (contract.roles and contract.roles <= {roles.ADMIN})}


def _json(status: int, body, headers: dict | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, default=str), status=status,
                    content_type="application/json; charset=utf-8", headers=headers)


def error(status: int, code: str, message: str, field: str | None = None, **more) -> Response:
    return _json(status, {"error": {"code": code, "message": message, "field": field, **more}})


class Api:
    def __init__(self, gateway):
        self.gateway = gateway
        self.exposed = exposed_rpcs()
        from services.gateway.openapi import document
        self.document = document(self.exposed)
        self._document_text = json.dumps(self.document, ensure_ascii=False, sort_keys=True)

    def handle(self, request: Request, caller) -> Response:
        path = request.path.rstrip("/")
        if path == "/api/openapi.json":
            if request.method not in ("GET", "HEAD"):
                return error(405, "method_not_allowed", "GET only")
            return Response(self._document_text, content_type="application/json; charset=utf-8")
        if path in ("/api/docs", "/api"):
            if request.method not in ("GET", "HEAD"):
                return error(405, "method_not_allowed", "GET only")
            t = self.gateway.translator(request)
            return self.gateway.render(request, t, None, "gateway/api_docs.html",
                                       {"doc": self.document, "operations": self._operations()})
        parts = path.split("/")
        if path == "/api/login":
            key = ("staff", "login")
        elif len(parts) == 4 and (parts[2], parts[3]) in self.exposed:
            key = (parts[2], parts[3])
        else:
            return error(404, "not_found", "no such API path; see /api/openapi.json")
        if request.method != "POST":
            return _json(405, {"error": {"code": "method_not_allowed", "message": "POST only", "field": None}},
                         {"Allow": "POST"})
        payload = self._payload(request)
        if isinstance(payload, Response):
            return payload
        source = self._source(request)
        try:
            if key == ("staff", "login"):
                reply = caller("staff", "login", payload, source=source)
            else:
                token = self._token(request)
                if isinstance(token, Response):
                    return token
                reply = caller(key[0], key[1], payload, token=token,
                               cosigner=request.headers.get(COSIGNER_HEADER) or None, source=source)
        except CallFailed as failed:
            status, body = api_error(failed.body)
            headers = {"Retry-After": str(failed.body["retry_after"])} if "retry_after" in failed.body else None
            if status == 401:
                headers = dict(headers or {}, **{"WWW-Authenticate": 'Bearer realm="vsc"'})
            return _json(status, body, headers)
        return _json(200, reply)

    def _source(self, request: Request) -> str:
        from services.gateway.app import client_address
        return client_address(request, self.gateway.settings)

    def _payload(self, request: Request):
        limit = self.gateway.settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            return error(413, "too_large", f"the body may be at most {limit} bytes")
        try:
            raw = request.get_data(cache=False)
        except RequestEntityTooLarge:
            return error(413, "too_large", f"the body may be at most {limit} bytes")
        if len(raw) > limit:
            return error(413, "too_large", f"the body may be at most {limit} bytes")
        if not raw.strip():
            return {}
        mimetype = request.mimetype or "application/json"
        if mimetype != "application/json" and not mimetype.endswith("+json"):
            return error(415, "unsupported_media_type", "send the body as application/json")
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return error(400, "malformed_json", f"the body is not valid JSON: {str(exc)[:100]}")
        if not isinstance(payload, dict):
            return error(400, "validation_failed", "the body must be one JSON object", "_schema",
                         fields={"_schema": ["expected a JSON object"]})
        return payload

    def _token(self, request: Request):
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer " and header[7:].strip():
            return header[7:].strip()
        # the console's own pages may call the API with their session cookie and CSRF header
        session = self.gateway.sessions.get(request.cookies.get(COOKIE))
        if session is not None and session.principal is not None:
            if not session.csrf_ok(request.headers.get(CSRF_HEADER)):
                return error(403, "csrf_failed", f"send the session's CSRF token in {CSRF_HEADER}")
            if session.locked:
                return error(401, "unauthenticated", "this session is locked: unlock it first")
            self.gateway.sessions.touch(session)
            return session.principal.token
        return _json(401, {"error": {"code": "unauthenticated", "message": "log in first: POST /api/login, then "
                                     "send Authorization: Bearer <token>", "field": None}},
                     {"WWW-Authenticate": 'Bearer realm="vsc"'})

    def _operations(self) -> list[dict]:
        rows = []
        for path, item in sorted(self.document["paths"].items()):
            for verb, operation in item.items():
                rows.append({"path": path, "verb": verb.upper(), **operation})
        return rows
