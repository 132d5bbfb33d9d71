"""Benchmark: a from-scratch rebuild of every fold of the forms service over
a simulated year (bench/simulate.py), against ``read_all`` alone.

    .venv/bin/python bench/forms_rebuild.py                  # 200,000 events, seed 1
    .venv/bin/python bench/forms_rebuild.py --marshmallow    # also the old path, side by side

The store is made once and kept under var/bench/ (bench/simstore.py). Each
repetition times, in turn, a plain ``read_all()`` of the whole log and a
rebuild (a fresh ``Projector`` over ``services.forms.service.FOLD_CLASSES``,
``catch_up()`` from position 0); the fastest of ``--reps`` of each is kept
(the file is in the page cache by then, as for a service that restarts).
With ``--marshmallow`` a third run decodes with ``registry.load`` (the code
before contracts/fastload.py) for the ratio in the same run.

Fields of the last line (JSON): ``events``, ``seconds``, ``events_per_s``,
``read_all_events_per_s``, ``fraction_of_read_all``, and with
``--marshmallow`` ``marshmallow_events_per_s`` and ``speedup_vs_marshmallow``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import contracts  # noqa: E402
from bench.simstore import simulated_year  # noqa: E402
from services.chassis.projection import Projector  # noqa: E402
from services.eventstore import open_store  # noqa: E402
from services.forms.service import FOLD_CLASSES  # noqa: E402


class MarshmallowLoader:
    """The read path before the fast loader: marshmallow for every record."""

    def __init__(self, registry):
        self.registry = registry

    def compiled(self, event_type):
        from contracts.fastload import Compiled
        schema = self.registry.schema(event_type)
        return Compiled(schema.schema_version, schema.load, None, "")

    def load(self, event_type, schema_version, data):
        return self.registry.load(event_type, schema_version, data)


def timed(fn) -> float:
    gc.collect()
    began = time.perf_counter()
    kept = fn()  # a service keeps what it rebuilt: freeing it (0.4 s on the year) is not the rebuild's
    seconds = time.perf_counter() - began
    del kept
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--marshmallow", action="store_true", help="also time the marshmallow read path")
    parser.add_argument("--profile", metavar="HTML", help="write a pyinstrument profile of one rebuild")
    args = parser.parse_args(argv)
    path = simulated_year(args.events, args.seed, progress=lambda line: print(line, file=sys.stderr, flush=True))
    store = open_store(f"sqlite:///{path}")
    events = store.head().position

    def read_all():
        for _ in store.read_all():
            pass

    def rebuild(loader=None):
        projector = Projector(store, contracts.registry, [cls() for cls in FOLD_CLASSES], loader=loader)
        assert projector.catch_up() == events
        return projector

    if args.profile:
        from pyinstrument import Profiler
        profiler = Profiler(interval=0.0005)
        profiler.start()
        rebuild()
        profiler.stop()
        with open(args.profile, "w", encoding="utf-8") as handle:
            handle.write(profiler.output_html())
        print(profiler.output_text(unicode=True, color=False, show_all=False)[:6000], file=sys.stderr)

    reads, rebuilds, slow = [], [], []
    for rep in range(args.reps):
        reads.append(timed(read_all))
        rebuilds.append(timed(rebuild))
        if args.marshmallow:
            slow.append(timed(lambda: rebuild(MarshmallowLoader(contracts.registry))))
        print(f"rep {rep + 1}: read_all {events / reads[-1]:,.0f}/s, rebuild {events / rebuilds[-1]:,.0f}/s"
              + (f", marshmallow {events / slow[-1]:,.0f}/s" if slow else ""), file=sys.stderr, flush=True)
    store.close()
    seconds = min(rebuilds)
    result = {"events": events, "seconds": round(seconds, 3), "events_per_s": round(events / seconds),
              "read_all_events_per_s": round(events / min(reads)),
              "fraction_of_read_all": round(min(reads) / seconds, 3), "folds": len(FOLD_CLASSES),
              "reps": args.reps, "store": os.path.relpath(path, ROOT), "python": platform.python_version(),
              "date": dt.date.today().isoformat(), "load_average": round(os.getloadavg()[0], 2)}
    if slow:
        result["marshmallow_events_per_s"] = round(events / min(slow))
        result["speedup_vs_marshmallow"] = round(min(slow) / seconds, 2)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
