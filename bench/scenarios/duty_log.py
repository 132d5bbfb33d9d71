"""duty_log in the simulation: every desk's clerks sign in (签到) before the
shift, more of them on busy days. The commands are built here and only here
(mirroring services/duty_log/service.py)."""
from __future__ import annotations

import datetime as dt

from bench.scenarios import texts
from bench.scenarios.base import Simulation
from services.duty_log import domain

SERVICE = "duty_log"


def sign_in(desk: str, shift_date: dt.date, clerk_id: str, clerk_name: str, at: dt.datetime):
    """(stream, command) of a clerk's sign-in, as the service builds it."""
    return domain.stream_id(desk, shift_date), domain.SignInClerk(desk, shift_date, clerk_id, clerk_name, at)


class DutyLogScenario:
    def __init__(self, sim: Simulation):
        self.sim = sim
        sim.service(SERVICE, domain, domain.EVENTS)
        self.names = sim.names  # the staff accounts' names (drawn here when no staff scenario runs)
        for desk in sim.desks:
            for clerk in desk.clerks:
                self.names.setdefault(clerk, texts.person_name(sim.rng))

    def on_day(self, day: dt.date) -> None:
        sim = self.sim
        busy = sim.calendar.weight(day)
        for desk in sim.desks:
            on_duty = min(len(desk.clerks), 2 + int(busy > 1.5) + int(busy > 3))
            for clerk in sim.rng.sample(desk.clerks, on_duty):
                at = sim.local(day, 7.4 + sim.rng.random() * 0.5)  # 30 minutes before the 08:00 shift
                sim.schedule(at, lambda desk=desk.id, clerk=clerk: self._sign_in(desk, day, clerk))

    def _sign_in(self, desk: str, day: dt.date, clerk: str) -> None:
        self.sim.login(clerk, desk)
        stream, command = sign_in(desk, day, clerk, self.names[clerk], self.sim.now)
        self.sim.execute(SERVICE, stream, command, actor=clerk, desk=desk)
