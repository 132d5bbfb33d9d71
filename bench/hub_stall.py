"""Benchmark: how long a SQLite commit (its fsync) stops every other
greenlet of an eventlet process such as a nameko service, today and with
the commit run in ``eventlet.tpool``.

    .venv/bin/python bench/hub_stall.py              # 2,000 appends per mode, on a file in var/bench/

One process, eventlet monkey-patched as every service is. A "ticker"
greenlet asks to wake every 2 ms and records how late it wakes: that is what
any other request in the process waits. Meanwhile a writer greenlet appends
one event at a time to a SQLiteEventStore (WAL, synchronous=FULL: one fsync
per commit) on a real disk, in one of three modes, side by side:

- ``idle``: no appends (the ticker's own jitter);
- ``hub``: ``store.append`` called directly, as the services do today;
- ``tpool``: ``eventlet.tpool.execute(store.append, ...)``: the commit runs
  in a native thread, the hub keeps scheduling.

Fields of the last line (JSON), per mode: ``<mode>_late_p50_ms``,
``<mode>_late_p99_ms``, ``<mode>_late_max_ms``, and ``hub_appends_per_s``,
``tpool_appends_per_s``.
"""
from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import eventlet
eventlet.monkey_patch()  # noqa: E402

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from eventlet import tpool  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from services.eventstore import NewEvent, open_store  # noqa: E402
from services.eventstore.interface import utc_now  # noqa: E402

TICK = 0.002


def quantile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(store, mode: str, appends: int) -> dict:
    lateness: list[float] = []
    done = eventlet.event.Event()

    def ticker():
        while not done.ready():
            asked = time.perf_counter()
            eventlet.sleep(TICK)
            lateness.append((time.perf_counter() - asked - TICK) * 1000)

    def writer():
        stream = f"stall-{mode}-{time.time_ns()}"
        began = time.perf_counter()
        for version in range(appends):
            event = NewEvent("BenchHappened", {"n": version, "text": "x" * 150}, utc_now(),
                             metadata={"actor": "bench"})
            if mode == "hub":
                store.append(stream, [event], expected_version=version)
            else:
                tpool.execute(store.append, stream, [event], expected_version=version)
            eventlet.sleep(0)  # as a worker finishing a request would
        done.send(time.perf_counter() - began)

    ticking = eventlet.spawn(ticker)
    if mode == "idle":
        eventlet.sleep(appends * 0.001)
        done.send(0.0)
    else:
        eventlet.spawn(writer)
    seconds = done.wait()
    ticking.wait()
    result = {f"{mode}_late_p50_ms": round(statistics.median(lateness), 3),
              f"{mode}_late_p99_ms": round(quantile(lateness, 0.99), 3),
              f"{mode}_late_max_ms": round(max(lateness), 3), f"{mode}_ticks": len(lateness)}
    if mode != "idle":
        result[f"{mode}_appends_per_s"] = round(appends / seconds)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--dir", default=os.path.join(ROOT, "var", "bench"),
                        help="where the store file goes (a real disk: tmpfs has no fsync to wait for)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    os.makedirs(args.dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        store = open_store(f"sqlite:///{directory}/stall.db")
        results: dict[str, list] = {}
        for round_ in range(args.rounds):
            for mode in ("idle", "hub", "tpool") if round_ % 2 == 0 else ("tpool", "hub", "idle"):
                for key, value in run(store, mode, args.appends).items():
                    results.setdefault(key, []).append(value)
            print(f"round {round_ + 1}: " + ", ".join(f"{k} {v[-1]}" for k, v in results.items()), file=sys.stderr)
        store.close()
    summary = {key: round(statistics.median(values), 3) for key, values in results.items()}
    summary |= {"appends": args.appends, "rounds": args.rounds, "date": dt.date.today().isoformat(),
                "load_average": round(os.getloadavg()[0], 2)}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
