"""Staff accounts (the staff service): the list for the lead and the admin,
and for the admin a new account (its one-time password shown once) and a
password reset. Everything else about accounts is ``vsc staff``'s."""
from __future__ import annotations

import uuid

from contracts import roles as role_names
from contracts.staff import ADD_STAFF, LIST_STAFF, RESET_PASSWORD
from services.gateway.i18n import _
from services.gateway.screens import CallFailed, page, screen


def _split(text: str) -> list[str]:
    return [part.strip() for part in (text or "").replace("，", ",").split(",") if part.strip()]


def _role_options(language: str) -> list[tuple[str, str]]:
    index = 0 if language == "zh" else 1
    return [(role, names[index]) for role, names in role_names.ROLES.items()]


@screen("/admin/staff", roles=LIST_STAFF.roles | ADD_STAFF.roles, nav=_("员工账号"), order=90)
def staff_accounts(request, session):
    may_add = session.principal.holds(ADD_STAFF.roles)
    failed, created, form = None, None, {}
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "reset":
                created = request.call("staff", "reset_password", {
                    "staff_id": request.form.get("staff_id", ""), "command_id": request.form.get("command_id")
                    or str(uuid.uuid4())})
            else:
                form = {"staff_id": request.form.get("staff_id", "").strip(),
                        "display_name": request.form.get("display_name", "").strip(),
                        "roles": request.form.getlist("roles"), "desks": request.form.get("desks", "")}
                created = request.call("staff", "add_staff", {
                    "staff_id": form["staff_id"], "display_name": form["display_name"], "roles": form["roles"],
                    "desks": _split(form["desks"]), "command_id": request.form.get("command_id")
                    or str(uuid.uuid4())})
                form = {}
        except CallFailed as failed_call:
            failed = failed_call
    listing = None
    if session.principal.holds(LIST_STAFF.roles):
        try:
            listing = request.call("staff", "list_staff", {})
        except CallFailed as failed_call:
            failed = failed or failed_call
    return page("staff/accounts.html", status=failed.status if failed else 200, failed=failed, listing=listing,
                created=created, form=form, may_add=may_add, may_reset=session.principal.holds(RESET_PASSWORD.roles),
                role_options=_role_options(request.t.language), command_id=str(uuid.uuid4()))
