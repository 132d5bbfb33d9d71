"""The auditor's screens (审计, read-only; the lead may read them too): any
stream's history with actors and times (data as stored: personal data
sealed), the verification of the log (what `vsc audit verify` checks), and
a found item's form as it stood at a past moment. Nothing here changes
anything: every RPC it calls is a read, and an auditor holds no role a
command accepts."""
from __future__ import annotations

import datetime as dt

from contracts.console import AUDITING
from services.gateway.i18n import _
from services.gateway.screens import CallFailed, page, screen
from services.gateway.screens.lost_and_found import _labels, _local_moment


@screen("/audit", roles=AUDITING, nav=_("审计"), order=70, methods=("GET",))
def history(request, session):
    stream_id = (request.args.get("stream_id") or "").strip()
    found, failed = None, None
    if stream_id:
        try:
            found = request.call("forms", "stream_history", {"stream_id": stream_id})
        except CallFailed as failed_call:
            failed = failed_call
    return page("audit/history.html", status=failed.status if failed else 200, failed=failed, stream_id=stream_id,
                history=found)


@screen("/audit/verify", roles=AUDITING, methods=("GET",))
def verify(request, session):
    return page("audit/verify.html", result=request.call("forms", "log_verification", {}))


@screen("/audit/form", roles=AUDITING, methods=("GET",))
def form_as_of(request, session):
    item_id = (request.args.get("item_id") or "").strip()
    as_of_text = (request.args.get("as_of") or "").strip()
    form, failed = None, None
    if item_id and as_of_text:
        try:
            form = request.call("forms", "found_item_form_as_of",
                                {"item_id": item_id, "as_of": _local_moment(as_of_text, request.t.zone)})
        except CallFailed as failed_call:
            failed = failed_call
    # the default is the next minute: the field has minutes, and "now" cut to the minute misses what just happened
    default = as_of_text or (dt.datetime.now(request.t.zone) + dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    return page("audit/form.html", status=failed.status if failed else 200, failed=failed, item_id=item_id,
                as_of=default, form=form, **_labels(request))
