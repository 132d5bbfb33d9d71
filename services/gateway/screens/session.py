"""Login, logout, the idle lock and quick switch, the password change and
the language: the screens every console user meets first."""
from __future__ import annotations

from services.gateway.i18n import LANGUAGES, _
from services.gateway.screens import CallFailed, page, redirect, screen
from services.gateway.sessions import LANGUAGE_COOKIE

DESK_COOKIE = "vsc_desk"  # the desk this terminal stands at, remembered for the next login


def _next(request) -> str:
    from services.gateway.app import safe_next
    return safe_next(request.form.get("next") if request.method == "POST" else request.args.get("next"))


def _login_failed(request, failed: CallFailed, template: str, status_of_page=None, **context):
    errors = failed.field_errors(request.t)
    if failed.code == "unauthenticated":
        message = request._("工号或密码错误。")
        errors = {"password": [message]}
    elif failed.code == "throttled":
        message = request._("登录失败次数过多，请 %(seconds)s 秒后再试。",
                            seconds=failed.body.get("retry_after", 60))
    else:
        message = failed.message(request.t)
    return page(template, status=status_of_page or failed.status, error=message, errors=errors, **context)


@screen("/login", public=True, while_locked=True, while_password_change=True)
def login(request, session):
    if session is not None and session.principal is not None and request.method == "GET":
        return redirect("/lock" if session.locked else _next(request))
    request.begin()
    desk = request.http.cookies.get(DESK_COOKIE, "")
    form = {"staff_id": "", "desk": desk, "next": _next(request)}
    if request.method == "POST":
        form.update(staff_id=request.form.get("staff_id", "").strip(), desk=request.form.get("desk", "").strip())
        if not form["staff_id"] or not request.form.get("password"):
            errors = {name: [request._("必填")] for name in ("staff_id", "password")
                      if not (form[name] if name == "staff_id" else request.form.get("password"))}
            return page("gateway/login.html", status=400, form=form, errors=errors,
                        error=request._("请输入工号和密码。"))
        try:
            reply = request.login(form["staff_id"], request.form["password"], form["desk"] or None)
        except CallFailed as failed:
            return _login_failed(request, failed, "gateway/login.html", form=form)
        request.signed_in(reply)
        response = request.gateway.respond(request, redirect(
            "/account/password" if reply.get("password_change_required") else form["next"]))
        if form["desk"]:
            request.set_cookie(response, DESK_COOKIE, form["desk"])
        return response
    return page("gateway/login.html", form=form)


@screen("/logout", methods=("POST",), while_locked=True, while_password_change=True)
def logout(request, session):
    request.end()
    return redirect("/login")


@screen("/lock", while_locked=True, while_password_change=True)
def lock(request, session):
    """Locked after GATEWAY_IDLE_LOCK_SECONDS without use (or by the button):
    the same person unlocks with their password, or another logs in here."""
    if request.method == "POST":
        action = request.form.get("action")
        if action == "lock":
            session.locked = True
            return redirect("/lock")
        password = request.form.get("password", "")
        if action == "switch":
            staff_id = request.form.get("staff_id", "").strip()
        else:
            staff_id = session.staff_id
        form = {"staff_id": staff_id if action == "switch" else "", "next": _next(request), "action": action}
        if not staff_id or not password:
            return page("gateway/lock.html", status=400, form=form, error=request._("请输入工号和密码。"),
                        errors={"password": [request._("必填")]} if staff_id else {"staff_id": [request._("必填")]})
        try:
            reply = request.login(staff_id, password, session.principal.desk)
        except CallFailed as failed:
            return _login_failed(request, failed, "gateway/lock.html", form=form)
        if reply["staff_id"] == session.staff_id and action != "switch":
            from services.gateway.sessions import Signed
            session.principal, session.locked = Signed.from_reply(reply), False
            return redirect(form["next"])
        request.signed_in(reply)  # quick switch: a new session for the other clerk
        return redirect("/account/password" if reply.get("password_change_required") else "/")
    if not session.locked:
        return redirect(_next(request))
    return page("gateway/lock.html", form={"next": _next(request)})


@screen("/session/alive", methods=("POST",), while_password_change=True)
def alive(request, session):
    """console.js says the person at the terminal is still working (typing a
    long form without a request): the idle lock waits. 204, or the lock/login
    redirect when it is too late."""
    from werkzeug.wrappers import Response
    return Response(status=204)


@screen("/account/password", while_password_change=True)
def change_password(request, session):
    forced = session.principal.password_change_required
    if request.method == "POST":
        new, repeat = request.form.get("new_password", ""), request.form.get("repeat_password", "")
        if new != repeat:
            return page("gateway/password.html", status=400, forced=forced,
                        errors={"repeat_password": [request._("两次输入的新密码不一致")]},
                        error=request._("请检查标出的栏目。"))
        try:
            reply = request.call("staff", "change_own_password",
                                 {"current_password": request.form.get("current_password", ""), "new_password": new})
        except CallFailed as failed:
            return page("gateway/password.html", status=failed.status, forced=forced, failed=failed)
        from services.gateway.sessions import Signed
        session.principal = Signed.from_reply(reply)
        session.flash(request._("密码已修改。"), "success")
        return redirect("/")
    return page("gateway/password.html", forced=forced)


@screen("/language", methods=("POST",), public=True, while_locked=True, while_password_change=True)
def language(request, session):
    chosen = request.form.get("language")
    response = request.gateway.respond(request, redirect(_next(request)))
    if chosen in LANGUAGES:
        request.set_cookie(response, LANGUAGE_COOKIE, chosen)
    return response


_("工号")  # field labels used by the templates
