"""staff in the simulation: every account is created on the first morning
(clerks for their desk, team leads, the custodian, finance, staff of other
departments who find items and witness on-site registrations, an admin),
and people log in before they work: a clerk at the desk before signing in,
a team lead before on-site work, the custodian and finance before theirs.
Through the year, people change their passwords, a clerk also becomes a
custodian, the second admin is away for a week (disabled, then enabled).
The commands are built here and only here (mirroring services/staff/service.py).

Password hashes are placeholders drawn from the seeded random source (a
real argon2 hash is salted at random and would make runs differ): nobody
logs in to a simulated store over RPC with them.
"""
from __future__ import annotations

import datetime as dt

from bench.scenarios import texts
from bench.scenarios.base import Simulation
from contracts import roles
from services.chassis.codec import EventCodec
from services.chassis.commands import load_state
from services.staff import domain

SERVICE = "staff"
OFFICER_OF = {"安保部": roles.SAFETY_OFFICER}  # other departments' staff: their section's officer roles


def create_command(sim: Simulation, *, staff_id, name, staff_roles, desks, password_hash):
    return domain.stream_id(staff_id), domain.CreateStaffAccount(
        staff_id, name, frozenset(staff_roles), frozenset(desks), password_hash, sim.now,
        password_change_required=False)


def password_command(sim: Simulation, *, staff_id, password_hash):
    return domain.stream_id(staff_id), domain.SetStaffPassword(staff_id, password_hash, False, sim.now)


def roles_command(sim: Simulation, *, account, staff_roles, other_active_admins):
    return domain.stream_id(account.staff_id), domain.ChangeStaffRoles(
        account.staff_id, frozenset(staff_roles), account.desks, other_active_admins, sim.now)


def disable_command(sim: Simulation, *, staff_id, reason, other_active_admins):
    return domain.stream_id(staff_id), domain.DisableStaffAccount(staff_id, reason, other_active_admins, sim.now)


def enable_command(sim: Simulation, *, staff_id):
    return domain.stream_id(staff_id), domain.EnableStaffAccount(staff_id, sim.now)


def login_command(sim: Simulation, *, account, desk, source):
    return (domain.logins_stream_id(account.staff_id, sim.local_date(sim.now)),
            domain.RecordLogin(account, desk, source, sim.now))


class StaffScenario:
    def __init__(self, sim: Simulation):
        self.sim = sim
        sim.service(SERVICE, domain, domain.EVENTS)
        self.codec = EventCodec(__import__("contracts").registry, domain.EVENTS)
        self.accounts: dict[str, domain.StaffAccount] = {}
        self._logged_in: set[tuple] = set()
        staff = sim.staff
        people = [("admin-01", (roles.ADMIN,), ()), ("admin-02", (roles.ADMIN,), ())]
        people += [(clerk, (roles.CLERK,), (desk.id,)) for desk in sim.desks for clerk in desk.clerks]
        people += [(lead, (roles.TEAM_LEAD,), ()) for lead in staff.team_leads]
        people += [(staff.custodian, (roles.CUSTODIAN,), ())]
        people += [(person, (roles.FINANCE,), ()) for person in staff.finance]
        people += [(person, (OFFICER_OF.get(department, roles.ASSET_OFFICER),), ())
                   for person, department in staff.others]
        self.people = people
        sim.names.update({staff_id: texts.person_name(sim.rng) for staff_id, _, _ in people})
        sim.login = self.login

    def on_day(self, day: dt.date) -> None:
        sim = self.sim
        if day == sim.start:
            sim.schedule(sim.local(day, 6.0), self._create_accounts)
            return
        if day.day in (5, 20):  # a few people change their passwords
            for staff_id, _, _ in sim.rng.sample(self.people, 3):
                sim.schedule(sim.local(day, 9.0 + sim.rng.random() * 8), lambda staff_id=staff_id: self._run(
                    password_command(sim, staff_id=staff_id, password_hash=self._hash()), staff_id))
        if (day - sim.start).days == 10:  # a clerk also keeps lost property
            clerk = sim.desks[0].clerks[0]
            sim.schedule(sim.local(day, 10.0), lambda: self._run(roles_command(
                sim, account=self.accounts[clerk], staff_roles=(roles.CLERK, roles.CUSTODIAN),
                other_active_admins=2), "admin-01"))
        if (day - sim.start).days == 20:  # the second admin is away for a week
            sim.schedule(sim.local(day, 9.0), lambda: self._run(disable_command(
                sim, staff_id="admin-02", reason="年假", other_active_admins=1), "admin-01"))
        if (day - sim.start).days == 27:
            sim.schedule(sim.local(day, 9.0), lambda: self._run(enable_command(sim, staff_id="admin-02"),
                                                                 "admin-01"))

    def _hash(self) -> str:
        return f"$argon2id$v=19$m=65536,t=3,p=4$sim${self.sim.rng.getrandbits(128):032x}"

    def _run(self, stream_command, actor) -> None:
        """An admin's or a person's own change to an account; the account as it now stands is kept."""
        stream, command = stream_command
        self.login(actor, None)
        self.sim.execute(SERVICE, stream, command, actor=actor)
        self.accounts[command.staff_id] = load_state(self.sim.store, self.codec, domain, stream)[0]

    def _create_accounts(self) -> None:
        sim = self.sim
        for staff_id, staff_roles, desks in self.people:
            stream = domain.stream_id(staff_id)
            account = load_state(sim.store, self.codec, domain, stream)[0]
            if isinstance(account, domain.StaffAccount):  # a simulation going on in an existing store
                sim.names[staff_id] = account.display_name
            else:
                stream, command = create_command(sim, staff_id=staff_id, name=sim.names[staff_id],
                                                 staff_roles=staff_roles, desks=desks, password_hash=self._hash())
                sim.execute(SERVICE, stream, command, actor="admin-01")
                account = load_state(sim.store, self.codec, domain, stream)[0]
            self.accounts[staff_id] = account

    def login(self, staff_id: str, desk: str | None) -> None:
        """``staff_id`` logs in at ``desk`` (once a day per desk)."""
        sim = self.sim
        key = (staff_id, desk, sim.local_date(sim.now))
        account = self.accounts.get(staff_id)
        if key in self._logged_in or account is None:
            return
        self._logged_in.add(key)
        stream, command = login_command(sim, account=account, desk=desk,
                                        source=f"terminal-{desk}" if desk else "office")
        sim.execute(SERVICE, stream, command, actor=staff_id, desk=desk)
