"""The lead's day at a glance (游客服务中心负责人): valuables not yet with
the custodian, unclaimed items and open lost-item reports at every desk,
from the forms service. Made to be read on a supervisor's phone too."""
from __future__ import annotations

import datetime as dt

from contracts import roles
from services.gateway.i18n import _
from services.gateway.screens import page, screen
from services.gateway.screens.lost_and_found import LIVE_TYPES, _labels

#: who looks after the whole center's day (each RPC below also lets them in)
OVERSEEING = frozenset({roles.LEAD, roles.SUPERVISOR, roles.DUTY_MANAGER})


@screen("/lead/day", roles=OVERSEEING, nav=_("今日概况"), order=15, methods=("GET",))
def day(request, session):
    as_of = dt.datetime.now(dt.timezone.utc).isoformat()
    valuables = request.call("forms", "valuables_awaiting_custody", {"as_of": as_of})
    on_spot = request.call("forms", "on_spot_claims_not_filed", {"as_of": as_of})
    cases = request.call("forms", "open_cases", {})
    today = request.t.today()
    desks = sorted({row["desk"] for row in cases["items"] + cases["reports"]})
    per_desk = {desk: {"items": sum(1 for r in cases["items"] if r["desk"] == desk),
                       "reports": sum(1 for r in cases["reports"] if r["desk"] == desk)} for desk in desks}
    overdue = [row for row in cases["items"] if row["retain_until"] < today.isoformat()]
    return page("lead/day.html", valuables=valuables, on_spot=on_spot, cases=cases, per_desk=per_desk,
                overdue=overdue, today=today, live_types=LIVE_TYPES,
                may_open_item=session.principal.holds({roles.LEAD}), **_labels(request))
