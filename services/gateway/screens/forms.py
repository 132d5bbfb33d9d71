"""The lost-and-found forms on screen (3.3 to 3.8), from the forms
service's RPCs: the found-item forms 3.3/3.4/3.5 of one item, the
lost-item report 3.6, the daily or monthly summaries 3.7 and 3.8. Read-only;
whoever may read the forms (desk staff and those who supervise or audit
them) sees them. Hidden features never reach a form (only how many)."""
from __future__ import annotations


from contracts import lost_and_found as lf
from services.gateway.i18n import _
from services.gateway.screens import CallFailed, page, screen
from services.gateway.screens.lost_and_found import _labels


def _period(request) -> tuple[dict, dict]:
    """``?date=`` or ``?month=`` (today by default), and ``?staff_id=``."""
    month = (request.args.get("month") or "").strip()
    date = (request.args.get("date") or "").strip()
    if not month and not date:
        date = request.t.today().isoformat()
    query = {"month": month} if month else {"date": date}
    staff_id = (request.args.get("staff_id") or "").strip()
    if staff_id:
        query["staff_id"] = staff_id
    return query, {"date": date, "month": month, "staff_id": staff_id}


@screen("/forms", roles=lf.LOST_ITEM_SUMMARY.roles, nav=_("表单"), order=60, methods=("GET",))
def index(request, session):
    return page("forms/index.html", today=request.t.today(), month=request.t.today().strftime("%Y-%m"))


@screen("/forms/lf/items/<item_id>", roles=lf.FOUND_ITEM_FORM.roles, methods=("GET",))
def found_item_form(request, session, item_id):
    form = request.call("forms", "found_item_form", {"item_id": item_id})
    return page("forms/found_item.html", form=form, **_labels(request))


@screen("/forms/lf/reports/<report_id>", roles=lf.LOST_ITEM_REPORT_FORM.roles, methods=("GET",))
def lost_item_report_form(request, session, report_id):
    form = request.call("forms", "lost_item_report_form", {"report_id": report_id})
    return page("forms/lost_item_report.html", form=form, **_labels(request))


@screen("/forms/lf/summary", roles=lf.LOST_ITEM_SUMMARY.roles, methods=("GET",))
def lost_item_summary(request, session):
    query, shown = _period(request)
    try:
        summary = request.call("forms", "lost_item_summary", query)
    except CallFailed as failed:
        return page("forms/summary.html", status=failed.status, failed=failed, summary=None, query=shown,
                    **_labels(request))
    return page("forms/summary.html", summary=summary, query=shown, **_labels(request))


@screen("/forms/lf/good-deeds", roles=lf.GOOD_DEEDS_SUMMARY.roles, methods=("GET",))
def good_deeds_summary(request, session):
    query, shown = _period(request)
    try:
        summary = request.call("forms", "good_deeds_summary", query)
    except CallFailed as failed:
        return page("forms/good_deeds.html", status=failed.status, failed=failed, summary=None, query=shown,
                    **_labels(request))
    return page("forms/good_deeds.html", summary=summary, query=shown, **_labels(request))


