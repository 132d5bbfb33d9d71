"""The first admin: created by an explicit command on the host (``vsc staff
bootstrap``), which prints a one-time password. There is no default
password anywhere, and bootstrapping is refused once an active admin exists."""
from __future__ import annotations

import datetime as dt

import contracts
from contracts.roles import ADMIN
from services.chassis.codec import EventCodec
from services.chassis.commands import execute
from services.chassis.decider import Rejected
from services.chassis.projection import replay
from services.eventstore import EventStore
from services.staff import domain, passwords
from services.staff.directory import StaffDirectory


def bootstrap_admin(store: EventStore, staff_id: str, display_name: str, config: dict,
                    now: dt.datetime | None = None) -> str:
    """Create the first admin account and return its one-time password."""
    directory = replay(store, contracts.registry, [StaffDirectory]).fold(StaffDirectory)
    if directory.active_admins():
        raise Rejected("admin_exists", "an active admin exists: ask them to add accounts (vsc staff add)",
                       field="staff_id")
    one_time = passwords.one_time_password()
    at = now or dt.datetime.now(dt.timezone.utc)
    command = domain.CreateStaffAccount(staff_id, display_name, frozenset({ADMIN}), frozenset(),
                                        passwords.hasher(config).hash(one_time), at)
    execute(store, EventCodec(contracts.registry, domain.EVENTS), domain, domain.stream_id(staff_id), command,
            occurred_at=at, metadata={"actor": staff_id, "correlation_id": "vsc-staff-bootstrap"})
    return one_time
