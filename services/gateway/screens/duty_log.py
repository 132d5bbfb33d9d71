"""The clerk's day (客服岗位值班记录表): sign in for the duty day at this
desk and see who has signed in (the forms service's sign-in sheet)."""
from __future__ import annotations

from contracts.duty_log import SIGN_IN, SIGN_IN_SHEET
from services.gateway.i18n import _
from services.gateway.screens import CallFailed, page, redirect, screen


def _desk(request, session) -> str | None:
    return (request.form.get("desk") or request.args.get("desk") or session.principal.desk or "").strip() or None


@screen("/desk/day", roles=SIGN_IN_SHEET.roles, nav=_("今日值班"), order=10)
def clerk_day(request, session):
    desk = _desk(request, session)
    may_sign_in = session.principal.holds(SIGN_IN.roles)
    failed = None
    if request.method == "POST":
        try:  # without the role the button is not shown, and the service refuses the call
            reply = request.call("duty_log", "sign_in", {"desk": desk} if desk else {})
        except CallFailed as failed_call:
            failed = failed_call
        else:
            session.flash(request._("已签到：%(time)s", time=request.t.moment(reply["signed_in_at"], "time")),
                          "success")
            return redirect(f"/desk/day?desk={desk}" if desk else "/desk/day")
    sheet = None
    today = request.t.today()
    if desk:
        try:
            sheet = request.call("forms", "sign_in_sheet", {"desk": desk, "shift_date": today.isoformat()})
        except CallFailed as failed_call:
            failed = failed or failed_call
    signed_in = bool(sheet and any(row["clerk_id"] == session.staff_id for row in sheet["rows"]))
    return page("duty_log/day.html", status=failed.status if failed else 200, failed=failed, desk=desk,
                sheet=sheet, today=today, may_sign_in=may_sign_in, signed_in=signed_in)
