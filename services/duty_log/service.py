"""duty_log: the desk's duty record (客服岗位值班记录表) write side."""
from __future__ import annotations

from contracts.duty_log import SIGN_IN
from services.chassis.dependencies import EventSourced
from services.chassis.errors import ValidationFailed
from services.chassis.service import ServiceBase, append_reply, business_date, contract_rpc
from services.duty_log import domain


class DutyLogService(ServiceBase):
    name = "duty_log"
    ledger = EventSourced(domain, domain.EVENTS)

    @contract_rpc(SIGN_IN)
    def sign_in(self, request):
        clerk = self.auth.principal
        desk = request["desk"] or clerk.desk
        if desk is None:
            raise ValidationFailed("which desk? log in at a desk or name it", {"desk": ["required"]})
        now = self.clock()
        at = self.business_time(request["at"], now)
        shift_date = business_date(request["shift_date"], self.desk_date(at), "shift_date", now=self.desk_date(now),
                                   max_age=self.site.max_age)
        command = domain.SignInClerk(desk, shift_date, clerk.staff_id, clerk.name, at)
        result = self.ledger.execute(
            domain.stream_id(desk, shift_date), command, occurred_at=at, desk=desk,
            command_id=request["command_id"], correlation_id=request["correlation_id"])
        signed_in = self.ledger.decode(result.events[0])
        self.log.info("clerk.signed_in", stream=result.stream_id, position=result.last_position,
                      duplicate=result.duplicate)
        return {**append_reply(result), "signed_in_at": signed_in.signed_in_at, "shift_date": signed_in.shift_date}
