"""The API's OpenAPI 3.1 document, generated from the marshmallow contracts
with apispec (the same conversion as ``contracts/jsonschema.py``)."""
from __future__ import annotations

from apispec import APISpec

from contracts.jsonschema import ContractPlugin
from contracts.staff import LOGIN

ERROR_STATUSES = {
    "400": "Malformed JSON or invalid input (`validation_failed`, `malformed_json`): `field` names the first bad field",
    "401": "No principal, or one that is forged or expired (`unauthenticated`): log in",
    "403": "The principal's roles may not call this (`forbidden`)",
    "404": "No such record (`not_found`) or no such RPC",
    "409": "Someone changed the same record first (`conflict`), or a reused command id",
    "413": "The body is larger than the gateway accepts (`too_large`)",
    "415": "The body is not JSON (`unsupported_media_type`)",
    "422": "A business rule refuses the command (`rule_violated`; `reason` says which)",
    "429": "Too many failed logins (`throttled`; `retry_after` seconds)",
    "502": "The service failed unexpectedly (`bad_gateway`, `internal_error`); it is logged",
    "503": "The service is not running or did not answer in time (`unavailable`)",
}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message", "field"],
        "properties": {
            "code": {"type": "string", "description": "stable machine-readable code"},
            "message": {"type": "string"},
            "field": {"type": ["string", "null"], "description": "the first failing field"},
            "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            "reason": {"type": "string"},
            "retry_after": {"type": "integer"},
        },
    }},
}


def _name(schema) -> str:
    from apispec.ext.marshmallow.common import resolve_schema_cls
    cls = resolve_schema_cls(schema)
    return f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__name__}"


def _errors(*statuses) -> dict:
    return {status: {"description": ERROR_STATUSES[status],
                     "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            for status in statuses}


def document(exposed: dict, title: str = "Visitor Service Center API", version: str = "1") -> dict:
    """``exposed``: (service, method) -> RpcContract, served at /api/<service>/<method>."""
    spec = APISpec(title=title, version=version, openapi_version="3.1.0",
                   plugins=[ContractPlugin(schema_name_resolver=_name)],
                   info={"description": "Every RPC a desk terminal or kiosk may call, as JSON over HTTP. "
                                        "`POST /api/login` returns a token (the principal); send it as "
                                        "`Authorization: Bearer <token>`. Where a rule needs a second "
                                        "person's consent, send their token as `X-Cosigner-Token`. "
                                        "Times are ISO-8601 with an offset; replies show them in the "
                                        "site's time zone."})
    spec.components.schema("Error", ERROR_SCHEMA)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "description": "the token from POST /api/login"})
    common = ("400", "404", "413", "415", "502", "503")
    spec.path("/api/login", operations={"post": {
        "operationId": "login", "summary": LOGIN.description, "tags": ["staff"],
        "requestBody": {"required": True, "content": {"application/json": {"schema": LOGIN.request}}},
        "responses": {"200": {"description": "the principal",
                              "content": {"application/json": {"schema": LOGIN.reply}}},
                      **_errors("401", "429", *common)}}})
    for (service, method), contract in sorted(exposed.items()):
        operation = {
            "operationId": f"{service}.{method}", "summary": contract.description, "tags": [service],
            "description": ("Roles: " + ", ".join(sorted(contract.roles))) if contract.roles else "No login needed.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": contract.request}}},
            "responses": {"200": {"description": "the reply",
                                  "content": {"application/json": {"schema": contract.reply}}},
                          **_errors("401", "403", "409", "422", *common)},
        }
        if contract.roles:
            operation["security"] = [{"bearer": []}]
            operation["parameters"] = [{"name": "X-Cosigner-Token", "in": "header", "required": False,
                                        "schema": {"type": "string"},
                                        "description": "a second person's token, where a rule needs their consent"}]
        spec.path(f"/api/{service}/{method}", operations={"post": operation})
    return spec.to_dict()
