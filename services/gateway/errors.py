"""A service's structured error as HTTP: status codes and the API's error body.

``{"error": {"code", "message", "field", "fields"?, "reason"?, "retry_after"?}}``;
``field`` is the first failing field (or null), ``fields`` every field's
messages. Never a 500: an unexpected failure inside a service is a 502, a
service that does not answer (unknown, or no reply in time) a 503.
"""
from __future__ import annotations

from services.gateway.i18n import _

STATUS = {
    "validation_failed": 400,
    "malformed_json": 400,
    "bad_request": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "csrf_failed": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "too_large": 413,
    "unsupported_media_type": 415,
    "rule_violated": 422,
    "throttled": 429,
    "internal_error": 502,
    "bad_gateway": 502,
    "unavailable": 503,
    "timeout": 503,
}

#: what a person reads for each code (the service's own message follows it)
MESSAGES = {
    "validation_failed": _("请检查标出的栏目。"),
    "malformed_json": _("请求不是有效的 JSON。"),
    "bad_request": _("请求无效。"),
    "unauthenticated": _("请先登录。"),
    "forbidden": _("您的角色不能进行此操作。"),
    "csrf_failed": _("表单已过期，请刷新页面后重试。"),
    "not_found": _("没有找到。"),
    "conflict": _("别人刚刚修改了同一记录，请刷新后重试。"),
    "too_large": _("提交的内容太大。"),
    "rule_violated": _("业务规则不允许此操作。"),
    "throttled": _("失败次数过多，请稍后再试。"),
    "internal_error": _("服务出错，已记录；请稍后再试。"),
    "bad_gateway": _("服务出错，已记录；请稍后再试。"),
    "unavailable": _("服务暂时不可用，请稍后再试。"),
    "timeout": _("服务暂时不可用，请稍后再试。"),
}


#: a business rule's ``reason`` (services' RuleViolated) as the desk reads it;
#: a screen module adds its own service's reasons here
REASONS = {
    "already_signed_in": _("您今天已在此服务台签到过了。"),
    "role_required": _("您的角色不能进行此操作。"),
    "password_change_required": _("请先修改一次性密码。"),
    "cosigner_required": _("需要另一位负责人用自己的账号确认。"),
    "cosigner_role_required": _("确认人的角色不符。"),
}


def status_for(code: str) -> int:
    return STATUS.get(code, 502)


def first_field(fields: dict | None) -> str | None:
    if not fields:
        return None
    return next(iter(sorted(fields)), None)


def api_error(body: dict) -> tuple[int, dict]:
    """(status, JSON body) for a structured error body (code, message, fields)."""
    code = body.get("code") or "bad_gateway"
    error = {"code": code, "message": body.get("message") or "", "field": first_field(body.get("fields"))}
    if body.get("fields"):
        error["fields"] = body["fields"]
    for key in ("reason", "retry_after"):
        if key in body:
            error[key] = body[key]
    return status_for(code), {"error": error}


def user_message(translator, failed) -> str:
    """A refusal as the person at the desk reads it: what kind of refusal,
    in their language, then the service's own words (English, or the
    translation the catalog has for them)."""
    reason = failed.body.get("reason")
    if reason in REASONS:
        return translator.gettext(REASONS[reason])
    general = translator.gettext(MESSAGES.get(failed.code, MESSAGES["bad_gateway"]))
    own = failed.body.get("message") or ""
    # a validation error's fields are shown next to each field; a failure's text is for the log
    if not own or failed.code in ("validation_failed", "internal_error", "bad_gateway", "unavailable", "timeout"):
        return general
    translated = translator.gettext(own)
    return f"{general} {translated}" if translated != own or translator.language == "en" else f"{general} ({own})"
