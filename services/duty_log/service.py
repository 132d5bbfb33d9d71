"""duty_log: the desk's duty record (客服岗位值班记录表) write side."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from nameko.dependency_providers import Config

from contracts.duty_log import SIGN_IN
from services.chassis.dependencies import EventSourced
from services.chassis.errors import ValidationFailed
from services.chassis.service import ServiceBase, append_reply, business_time, contract_rpc
from services.duty_log import domain


def desk_date(moment: dt.datetime, timezone: str) -> dt.date:
    """The duty day a moment belongs to, in the scenic area's time zone."""
    return moment.astimezone(ZoneInfo(timezone)).date()


class DutyLogService(ServiceBase):
    name = "duty_log"
    ledger = EventSourced(domain, domain.EVENTS)
    config = Config()

    @contract_rpc(SIGN_IN)
    def sign_in(self, request):
        clerk = self.auth.principal
        desk = request["desk"] or clerk.desk
        if desk is None:
            raise ValidationFailed("which desk? log in at a desk or name it", {"desk": ["required"]})
        at = business_time(request["at"], self.clock())
        shift_date = request["shift_date"] or desk_date(at, self.config.get("TIMEZONE", "Asia/Shanghai"))
        command = domain.SignInClerk(desk, shift_date, clerk.staff_id, clerk.name, at)
        result = self.ledger.execute(
            domain.stream_id(desk, shift_date), command, occurred_at=at, desk=desk,
            command_id=request["command_id"], correlation_id=request["correlation_id"])
        signed_in = self.ledger.decode(result.events[0])
        self.log.info("clerk.signed_in", stream=result.stream_id, position=result.last_position,
                      duplicate=result.duplicate)
        return {**append_reply(result), "signed_in_at": signed_in.signed_in_at, "shift_date": signed_in.shift_date}
