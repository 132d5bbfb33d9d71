"""The simulator's engine: a discrete-event clock over a year of a scenic
area's desks, and the one way an action reaches the store: the service's own
decider and codec through :func:`services.chassis.commands.execute`.

A scenario (one module per service, beside this one) schedules actions at
business times; an action runs commands with :meth:`Simulation.execute` and
may schedule further actions (a claim days after a turn-in, a monthly
handover). Everything random comes from one seeded ``random.Random``, event
ids are drawn from it and the store's clock is the simulated clock, so the
same seed and ``--events`` give the same log, byte for byte (same head hash).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import heapq
import random
from dataclasses import dataclass, field
from typing import Callable
from zoneinfo import ZoneInfo

import contracts
from services.chassis.codec import EventCodec
from services.chassis.commands import execute
from services.eventstore import EventStore, NewEvent, format_time

UTC = dt.timezone.utc


@dataclass(frozen=True)
class Desk:
    id: str
    name: str
    clerks: tuple[str, ...]
    weight: float           # share of the area's visitors who come to this desk


@dataclass(frozen=True)
class Staff:
    """Who works in the area (ids only: names are drawn when a form needs one)."""

    team_leads: tuple[str, ...]
    others: tuple[tuple[str, str], ...]     # (staff id, department) of other departments
    custodian: str
    finance: tuple[str, ...]


class SeededCodec(EventCodec):
    """The service's codec with event ids drawn from the simulation's random
    source and clock (UUIDv7 layout, as the store makes them), so a run is
    reproducible."""

    def __init__(self, registry, event_classes, sim: "Simulation"):
        super().__init__(registry, event_classes)
        self.sim = sim

    def encode(self, event, occurred_at, metadata):
        new = super().encode(event, occurred_at, metadata)
        return NewEvent(new.type, new.data, new.occurred_at, new.schema_version, new.metadata, self.sim.event_id())


@dataclass(order=True)
class _Action:
    at: dt.datetime
    seq: int
    run: Callable = field(compare=False)


class StopSimulation(Exception):
    """The log reached the number of events asked for."""


class Simulation:
    """The clock, the random source, the area (desks, staff, places, load per
    day) and the store. ``volume(day)`` is how busy a day is relative to an
    ordinary weekday (holiday peaks included), times the run's scale."""

    def __init__(self, store: EventStore, *, seed: int, start: dt.date, days: int, events: int,
                 desks: tuple[Desk, ...], staff: Staff, calendar, places, timezone: str = "Asia/Shanghai"):
        self.store, self.seed = store, seed
        self.rng = random.Random(seed)
        self.start, self.days, self.target = start, days, events
        self.end = start + dt.timedelta(days=days)
        self.desks, self.staff, self.calendar, self.places = desks, staff, calendar, places
        self.zone = ZoneInfo(timezone)
        self.now = dt.datetime.combine(start, dt.time(0), tzinfo=self.zone).astimezone(UTC)
        self._queue: list[_Action] = []
        self._seq = 0
        self._codecs: dict[str, tuple[EventCodec, object]] = {}
        self.appended = 0
        self.commands = 0
        self.counter = 0
        self.scale = 1.0
        self.names: dict[str, str] = {}  # staff id -> display name (the staff scenario's accounts)
        self.login = lambda staff_id, desk: None  # a person logs in before working (staff scenario)
        self._planned: list[float] = []  # volume planned per day so far

    # -- wiring ---------------------------------------------------------------------
    def service(self, name: str, decider, event_classes) -> None:
        self._codecs[name] = (SeededCodec(contracts.registry, event_classes, self), decider)

    def event_id(self) -> str:
        millis = int(self.now.timestamp() * 1000)
        bits = self.rng.getrandbits(80) & 0x0FFF_3FFF_FFFF_FFFF_FFFF | 0x7000_8000_0000_0000_0000
        h = (millis << 80 | bits).to_bytes(16, "big").hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter:07d}-{self.rng.getrandbits(24):06x}"

    # -- time -----------------------------------------------------------------------
    def local(self, day: dt.date, hour: float) -> dt.datetime:
        """A business time on ``day`` at ``hour`` (8.5 = 08:30) in the area's zone, as UTC."""
        moment = dt.datetime.combine(day, dt.time(0), tzinfo=self.zone) + dt.timedelta(hours=hour)
        return moment.astimezone(UTC)

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.zone).date()

    def end_of_local_day(self, moment: dt.datetime) -> dt.datetime:
        next_day = self.local_date(moment) + dt.timedelta(days=1)
        return dt.datetime.combine(next_day, dt.time(0), tzinfo=self.zone)

    def schedule(self, at: dt.datetime, run: Callable[[], None]) -> None:
        if at < self.now:
            at = self.now
        self._seq += 1
        heapq.heappush(self._queue, _Action(at, self._seq, run))

    def volume(self, day: dt.date) -> float:
        return self.calendar.weight(day) * self.scale

    def count(self, mean: float) -> int:
        """A Poisson-like draw around ``mean``."""
        whole = int(mean)
        return whole + (self.rng.random() < mean - whole)

    # -- the store ------------------------------------------------------------------
    def execute(self, service: str, stream_id: str, command, *, actor: str, desk: str | None = None,
                command_id: str | None = None):
        """Run ``command`` through the service's decider and codec, now."""
        if self.appended >= self.target:
            raise StopSimulation
        codec, decider = self._codecs[service]
        self.commands += 1
        metadata = {"actor": actor, "desk": desk, "correlation_id": f"sim-{self.commands}"}
        result = execute(self.store, codec, decider, stream_id, command, occurred_at=self.now,
                         metadata=metadata, command_id=command_id)
        if not result.duplicate:
            self.appended += len(result.events)
        return result

    def decode(self, service: str, record):
        return self._codecs[service][0].decode(record)

    def run(self, on_day: Callable[[dt.date], None]) -> None:
        """Every day: ``on_day(day)`` at local midnight, then that day's actions
        in time order; stops at the target, or at the end of the year when
        the target was reached (else the last days go on until it is)."""
        day = self.start
        with _store_clock(self):
            try:
                while day < self.end + dt.timedelta(days=60):  # past the year only if short of the target
                    self.now = self.local(day, 0)
                    self._rescale(day)
                    on_day(day)
                    midnight = self.local(day + dt.timedelta(days=1), 0)
                    while self._queue and self._queue[0].at < midnight:
                        action = heapq.heappop(self._queue)
                        self.now = max(self.now, action.at)
                        action.run()
                    day += dt.timedelta(days=1)
            except StopSimulation:
                pass

    #: events one unit of volume makes, as a first guess (then measured: see _rescale)
    EVENTS_PER_UNIT = 60.0
    #: a case's later events (calls, claims, handovers) come days after its
    #: arrival: the volume of the last few days is not yet counted
    LAG_DAYS = 3
    #: and a little past the target, so that it is reached in the year's last days
    OVERSHOOT = 1.01

    def _rescale(self, day: dt.date) -> None:
        """Aim the rest of the year at the target: the events so far per unit
        of volume planned until a few days ago tell how many units the rest needs."""
        weights_left = sum(self.calendar.weight(self.start + dt.timedelta(days=i))
                           for i in range((day - self.start).days, max(self.days, (day - self.start).days + 1)))
        settled = sum(self._planned[:-self.LAG_DAYS]) if len(self._planned) > self.LAG_DAYS else 0.0
        per_unit = self.appended / settled if settled > 0 and self.appended > 1000 else self.EVENTS_PER_UNIT
        wanted = (self.target * self.OVERSHOOT - self.appended) / max(weights_left * per_unit, 1e-9)
        self.scale = max(wanted, 0.05)
        self._planned.append(self.calendar.weight(day) * self.scale)


@contextlib.contextmanager
def _store_clock(sim: Simulation):
    """The store's ``recorded_at`` comes from the simulated clock (so the
    log's times span the year and a run is reproducible)."""
    from services.eventstore import mongo, sqlite
    patched = []
    for module in (sqlite, mongo):
        if not hasattr(module, "utc_now"):
            raise RuntimeError(f"{module.__name__} no longer reads the clock through utc_now: "
                               "update bench/scenarios/base.py")
        patched.append((module, module.utc_now))
        module.utc_now = lambda: format_time(sim.now)
    try:
        yield
    finally:
        for module, original in patched:
            module.utc_now = original
