"""A year of a busy scenic area, written to an event store through the
services' own deciders and codecs (``services.chassis.commands.execute``),
never by writing rows.

    .venv/bin/python bench/simulate.py --store sqlite:////dev/shm/year.db --events 200000 --seed 7

Four desks (north gate, south gate, summit, lake) and their clerks, team
leads and staff of other departments, a custodian and finance; busy
weekends, public holidays and the peaks of National Day week (Oct 1-7) and
Spring Festival (``bench/scenarios/calendar.py``). Every service that exists
has a scenario module in ``bench/scenarios/`` that builds its commands (the
one place to change when a service's commands change): staff accounts and
logins; duty_log sign-ins;
lost_and_found turn-ins of the three kinds, lost reports, matches, calls,
verifications, claims, custody, monthly handovers to finance.

The same ``--seed``, ``--events``, ``--start`` and ``--days`` give the same
log (the same head hash): event ids come from the seeded random source and
the store's clock is the simulated one. The run stops when the log holds
``--events`` events (the last command may pass it by a few) or the year ends.
SQLite commits are durable (fsync): a file on tmpfs (/dev/shm) builds the
year several times faster than one on disk.

Progress goes to stderr; the last line of stdout is one JSON object.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import contracts  # noqa: E402
from bench.scenarios import texts  # noqa: E402
from bench.scenarios.base import Desk, Simulation, Staff  # noqa: E402
from bench.scenarios.calendar import AreaCalendar  # noqa: E402
from bench.scenarios.duty_log import DutyLogScenario  # noqa: E402
from bench.scenarios.lost_and_found import LostAndFoundScenario  # noqa: E402
from bench.scenarios.staff import StaffScenario  # noqa: E402
from services.eventstore import open_store  # noqa: E402

#: every service's scenario, in the order they act each day
SCENARIOS = (StaffScenario, DutyLogScenario, LostAndFoundScenario)

DEPARTMENTS = ("安保部", "保洁部", "索道部", "餐饮部", "游乐部", "演艺部", "交通部")


def area() -> tuple[tuple[Desk, ...], Staff]:
    desks = (Desk("north-gate", "北门游客服务中心", tuple(f"c-n{i:02d}" for i in range(1, 9)), 0.4),
             Desk("south-gate", "南门游客服务中心", tuple(f"c-s{i:02d}" for i in range(1, 7)), 0.3),
             Desk("summit", "山顶服务点", tuple(f"c-t{i:02d}" for i in range(1, 5)), 0.15),
             Desk("lakeside", "青岚湖服务点", tuple(f"c-l{i:02d}" for i in range(1, 5)), 0.15))
    staff = Staff(team_leads=tuple(f"tl-{i:02d}" for i in range(1, 13)),
                  others=tuple((f"s-{i:03d}", DEPARTMENTS[i % len(DEPARTMENTS)]) for i in range(1, 121)),
                  custodian="k-01", finance=("f-01", "f-02"))
    return desks, staff


def simulate(store, *, seed: int = 1, events: int = 200_000, start: dt.date = dt.date(2025, 11, 1),
             days: int = 365, progress=None) -> dict:
    """Fill ``store`` with a simulated year; returns what was made."""
    desks, staff = area()
    sim = Simulation(store, seed=seed, start=start, days=days, events=events, desks=desks, staff=staff,
                     calendar=AreaCalendar(), places=texts.load_places())
    scenarios = [cls(sim) for cls in SCENARIOS]
    last_report = [time.monotonic()]

    def on_day(day):
        for scenario in scenarios:
            scenario.on_day(day)
        if progress is not None and time.monotonic() - last_report[0] > 5:
            last_report[0] = time.monotonic()
            progress(f"{day.isoformat()}: {sim.appended} events, {sim.commands} commands")

    began = time.perf_counter()
    sim.run(on_day)
    head = store.head()
    counts: dict[str, int] = {}
    for record in store.read_all():
        counts[record.type] = counts.get(record.type, 0) + 1
    return {"events": head.position, "commands": sim.commands, "head_hash": head.hash, "seed": seed,
            "start": start.isoformat(), "last_day": sim.local_date(sim.now).isoformat(),
            "seconds": round(time.perf_counter() - began, 2), "by_type": dict(sorted(counts.items()))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", default="sqlite:///var/simulated.db", help="event store URI (a new, empty store)")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2025, 11, 1))
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args(argv)
    store = open_store(args.store, validator=contracts.registry)
    try:
        if store.head().position:
            parser.error(f"{args.store} is not empty")
        summary = simulate(store, seed=args.seed, events=args.events, start=args.start, days=args.days,
                           progress=lambda line: print(line, file=sys.stderr, flush=True))
    finally:
        store.close()
    summary["store"] = args.store
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
