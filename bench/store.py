"""Benchmark: our SQLite event store against eventsourcing's SQLite recorder.

Run from the repository root::

    .venv/bin/python bench/store.py            # 5,000 single-event commits, 1,000 ten-event commits
    .venv/bin/python bench/store.py --events 2000 --reps 5

Each repetition makes fresh database files in one new temporary directory
(same disk for both sides) and opens both stores side by side:

- appends: ``--events`` commits of 1 event, then ``--events/5`` commits of 10
  events, round-robin over ``--streams`` streams, each a durable commit. The
  two sides take turns in blocks of commits (who goes first alternates), so a
  slow patch of a shared (virtual) disk hits both alike;
- replay: a full read of every event, decoded to Python objects (ours:
  ``read_all()`` yielding StoredEvent with data and metadata dicts; theirs:
  ``select_notifications`` pages of 256 (as ours), each state decoded the way
  eventsourcing's JSONTranscoder does, minus its object_hook);
- raw: a plain ``SELECT *`` of every row of our events table on one of the
  store's own connections, no decoding: the ceiling of any replay through
  Python's sqlite3 module.

Ours: ``open_store("sqlite:///...")`` with no validator (contracts are not
checked on append), metadata {actor, desk, correlation_id}. Theirs:
``SQLiteApplicationRecorder`` on ``SQLiteDatastore`` with its defaults (UUID
originator ids), state = the same payload, metadata and a timestamp as JSON.
Durability is the same on both sides, journal_mode=WAL and synchronous=FULL:
eventsourcing sets WAL itself and leaves synchronous at SQLite's default,
FULL in this build; both are read back with PRAGMA on each side's own
connections and printed.

Figures: ratios are the median of the per-repetition ratios, rates the median
of the repetitions; within a repetition each replay is timed ``--replays``
times and the fastest kept (the file is in the page cache by then, as it is
for a live service). The last line of output is one JSON object.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from eventsourcing.persistence import StoredEvent as ESStoredEvent  # noqa: E402
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore  # noqa: E402

from services.eventstore import NewEvent, open_store  # noqa: E402
from services.eventstore.chain import verify_store  # noqa: E402
from services.eventstore.interface import utc_now  # noqa: E402

EVENT_TYPE = "ItemFound"
ES_TOPIC = "services.lostfound.domain:FoundItem.Registered"
PAGE = 256  # rows per select_notifications page: as ours (sqlite.py _PAGE); theirs reads as fast at 128-2,000


def payload(i: int) -> dict:
    """About 200 bytes of JSON, like a real lost-and-found registration."""
    return {
        "item_id": f"item-{i:08d}",
        "category": "umbrella",
        "description": "black folding umbrella with a wooden handle",
        "found_at": "North Gate ticket hall",
        "found_by": "staff-0042",
        "storage": "shelf B-3",
        "n": i,
    }


def metadata(i: int) -> dict:
    return {"actor": "staff-0042", "desk": "north-gate", "correlation_id": f"corr-{i:08d}"}


def pragma(connection, name: str):
    return connection.execute(f"PRAGMA {name}").fetchone()[0]


# -- our store -------------------------------------------------------------------------------------
class Ours:
    name = "ours"

    def __init__(self, path: str, streams: int):
        self.path = path
        self.store = open_store("sqlite:///" + path)  # validator None: contracts not checked here
        self.streams = [f"found-item-{k:04d}" for k in range(streams)]
        self.versions = dict.fromkeys(self.streams, 0)
        self.n = 0

    def append_commits(self, commits: int, per_commit: int) -> float:
        store, streams, versions = self.store, self.streams, self.versions
        count = len(streams)
        n = self.n
        started = time.perf_counter()
        for c in range(commits):
            stream = streams[(n + c) % count]
            events = []
            for _ in range(per_commit):
                n += 1
                events.append(NewEvent(EVENT_TYPE, payload(n), occurred_at=utc_now(), metadata=metadata(n)))
            result = store.append(stream, events, expected_version=versions[stream])
            versions[stream] = result.version
        elapsed = time.perf_counter() - started
        self.n = n
        return elapsed

    def replay(self) -> tuple[float, int]:
        started = time.perf_counter()
        count = 0
        for event in self.store.read_all():
            count += 1
        elapsed = time.perf_counter() - started
        assert isinstance(event.data, dict) and isinstance(event.metadata, dict)
        return elapsed, count

    def raw(self) -> tuple[float, int]:
        # one of the store's own connections, so the same pragmas apply
        with self.store._borrow() as connection:
            started = time.perf_counter()
            count = 0
            for _row in connection.execute("SELECT * FROM events ORDER BY position"):
                count += 1
            return time.perf_counter() - started, count

    def durability(self) -> dict:
        with self.store._borrow() as own:  # the store sets these per connection: ask one of its own
            return {"journal_mode": pragma(own, "journal_mode"), "synchronous": pragma(own, "synchronous")}

    def check(self) -> dict:
        verification = verify_store(self.store)
        return {"chain_ok": verification.ok, "checked": verification.checked}

    def close(self):
        self.store.close()


# -- eventsourcing's recorder ---------------------------------------------------------------------
class Theirs:
    name = "eventsourcing"

    def __init__(self, path: str, streams: int):
        self.path = path
        self.datastore = SQLiteDatastore(path)
        self.recorder = SQLiteApplicationRecorder(self.datastore)
        self.recorder.create_table()
        self.streams = [uuid.uuid4() for _ in range(streams)]
        self.versions = dict.fromkeys(self.streams, 0)
        self.n = 0

    def append_commits(self, commits: int, per_commit: int) -> float:
        insert, streams, versions = self.recorder.insert_events, self.streams, self.versions
        # as eventsourcing's JSONTranscoder encodes (minus its transcoding hook)
        dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
        count = len(streams)
        n = self.n
        started = time.perf_counter()
        for c in range(commits):
            stream = streams[(n + c) % count]
            version = versions[stream]
            events = []
            for _ in range(per_commit):
                n += 1
                version += 1
                # what eventsourcing's mapper stores: the event's state (its
                # attributes, timestamp included) as JSON, plus topic and version
                state = {**payload(n), **metadata(n), "timestamp": utc_now()}
                events.append(ESStoredEvent(originator_id=stream, originator_version=version,
                                            topic=ES_TOPIC, state=dumps(state).encode("utf8")))
            insert(events)
            versions[stream] = version
        elapsed = time.perf_counter() - started
        self.n = n
        return elapsed

    def replay(self) -> tuple[float, int]:
        select = self.recorder.select_notifications
        # as eventsourcing's JSONTranscoder decodes, without its object_hook (a best case for them)
        decode = json.JSONDecoder().decode
        started = time.perf_counter()
        count, start = 0, 1
        while True:
            notifications = select(start, PAGE)
            for notification in notifications:
                state = decode(notification.state.decode("utf8"))
                count += 1
            if len(notifications) < PAGE:
                break
            start = notifications[-1].id + 1
        elapsed = time.perf_counter() - started
        assert isinstance(state, dict)
        return elapsed, count

    def durability(self) -> dict:
        with self.datastore.get_connection(commit=False) as connection:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            synchronous = cursor.fetchone()[0]
        return {"journal_mode": journal, "synchronous": synchronous}

    def close(self):
        self.datastore.close()


# -- the run ---------------------------------------------------------------------------------------
def timed_blocks(sides, commits: int, per_commit: int, block: int) -> dict:
    """Both sides append ``commits`` commits in alternating blocks, so a slow
    patch of the (virtual) disk hits both alike. Returns seconds per side."""
    spent = {side.name: 0.0 for side in sides}
    done, turn = 0, 0
    while done < commits:
        size = min(block, commits - done)
        for side in (sides if turn % 2 == 0 else sides[::-1]):
            spent[side.name] += side.append_commits(size, per_commit)
        done, turn = done + size, turn + 1
    return spent


def run_rep(directory: str, args, rep: int) -> dict:
    ours = Ours(os.path.join(directory, "ours.db"), args.streams)
    theirs = Theirs(os.path.join(directory, "eventsourcing.db"), args.streams)
    sides = (ours, theirs) if rep % 2 == 0 else (theirs, ours)
    try:
        for side in sides:  # warm-up: connections, statement caches, first pages, WAL file
            side.append_commits(args.warmup, 1)
            side.append_commits(max(1, args.warmup // 10), 10)
        gc.collect()
        t1 = timed_blocks(sides, args.events, 1, args.block)
        t10 = timed_blocks(sides, args.batches, 10, max(1, args.block // 5))
        replays = {side.name: [] for side in sides}
        raws = []
        for side in sides:
            side.replay()  # warm-up
        ours.raw()
        for i in range(args.replays):
            for side in (sides if i % 2 == 0 else sides[::-1]):
                elapsed, count = side.replay()
                assert count == side.n, (side.name, count, side.n)
                replays[side.name].append(elapsed)
            elapsed, count = ours.raw()
            assert count == ours.n
            raws.append(elapsed)
        result = {}
        for side in sides:
            result[side.name] = {
                "append1_commits_per_s": args.events / t1[side.name],
                "append10_commits_per_s": args.batches / t10[side.name],
                "append10_events_per_s": args.batches * 10 / t10[side.name],
                "read_events_per_s": side.n / min(replays[side.name]),
                "events_in_db": side.n,
                "durability": side.durability(),
            }
        result["ours"]["raw_rows_per_s"] = ours.n / min(raws)
        result["ours"].update(ours.check())
        return result
    finally:
        for side in sides:
            side.close()


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=5000, help="single-event commits per side (default 5000)")
    parser.add_argument("--batches", type=int, default=None, help="ten-event commits per side (default events/5)")
    parser.add_argument("--streams", type=int, default=100, help="streams the commits go round (default 100)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions; figures are their median (default 3)")
    parser.add_argument("--replays", type=int, default=5, help="timed replays per repetition, fastest kept")
    parser.add_argument("--warmup", type=int, default=200, help="untimed single-event commits first")
    parser.add_argument("--block", type=int, default=250,
                        help="single-event commits per alternating block (ten-event: block/5)")
    parser.add_argument("--dir", default=None, help="where the temporary databases go (default: system temp)")
    args = parser.parse_args(argv)
    if args.batches is None:
        args.batches = max(1, args.events // 5)

    reps = []
    for rep in range(args.reps):
        directory = tempfile.mkdtemp(prefix="vsc-bench-", dir=args.dir)
        try:
            result = run_rep(directory, args, rep)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        ours, theirs = result["ours"], result["eventsourcing"]
        print(f"rep {rep + 1}/{args.reps}: "
              f"append1 {ours['append1_commits_per_s']:,.0f} vs {theirs['append1_commits_per_s']:,.0f} commits/s | "
              f"append10 {ours['append10_commits_per_s']:,.0f} vs {theirs['append10_commits_per_s']:,.0f} commits/s | "
              f"read {ours['read_events_per_s']:,.0f} vs {theirs['read_events_per_s']:,.0f} events/s | "
              f"raw {ours['raw_rows_per_s']:,.0f} rows/s", flush=True)
        reps.append(result)

    def median(side, key):
        return statistics.median(r[side][key] for r in reps)

    def ratio(key, other="eventsourcing", other_key=None):
        return round(statistics.median(r["ours"][key] / r[other][other_key or key] for r in reps), 3)

    last = reps[-1]
    figures = {
        "append_ratio_vs_eventsourcing": ratio("append1_commits_per_s"),
        "append10_ratio_vs_eventsourcing": ratio("append10_commits_per_s"),
        "read_ratio_vs_eventsourcing": ratio("read_events_per_s"),
        "read_fraction_of_raw": ratio("read_events_per_s", "ours", "raw_rows_per_s"),
        "ours_append1_commits_per_s": round(median("ours", "append1_commits_per_s")),
        "eventsourcing_append1_commits_per_s": round(median("eventsourcing", "append1_commits_per_s")),
        "ours_append10_commits_per_s": round(median("ours", "append10_commits_per_s")),
        "eventsourcing_append10_commits_per_s": round(median("eventsourcing", "append10_commits_per_s")),
        "ours_append10_events_per_s": round(median("ours", "append10_events_per_s")),
        "eventsourcing_append10_events_per_s": round(median("eventsourcing", "append10_events_per_s")),
        "ours_read_events_per_s": round(median("ours", "read_events_per_s")),
        "eventsourcing_read_events_per_s": round(median("eventsourcing", "read_events_per_s")),
        "raw_rows_per_s": round(median("ours", "raw_rows_per_s")),
        "single_event_commits": args.events,
        "ten_event_commits": args.batches,
        "warmup_commits": [args.warmup, max(1, args.warmup // 10)],
        "streams": args.streams,
        "events_replayed": last["ours"]["events_in_db"],
        "events_replayed_eventsourcing": last["eventsourcing"]["events_in_db"],
        "payload_bytes": payload_sizes(),
        "chain_ok": all(r["ours"]["chain_ok"] for r in reps),
        "reps": args.reps,
        "aggregate": ("ratios: median of the per-rep ratios; rates: median of reps; appends interleaved "
                      f"in blocks of {args.block} (1-event) / {max(1, args.block // 5)} (10-event) commits; "
                      f"replay and raw: fastest of {args.replays} per rep"),
        "durability_ours": last["ours"]["durability"],
        "durability_eventsourcing": last["eventsourcing"]["durability"],
        "validator": "None: open_store without a contract validator, events not validated on append",
        "per_rep": [{side: {k: round(v) for k, v in r[side].items() if k.endswith("_per_s")}
                     for side in ("ours", "eventsourcing")} for r in reps],
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "eventsourcing": _dist_version("eventsourcing"),
        "orjson": _dist_version("orjson"),
        "platform": platform.platform(),
    }
    for side in ("durability_ours", "durability_eventsourcing"):
        if figures[side] != {"journal_mode": "wal", "synchronous": 2}:
            print(f"WARNING: {side} is {figures[side]}, not WAL + synchronous=FULL(2)", flush=True)
    print(json.dumps(figures, separators=(",", ":")), flush=True)
    return figures


def payload_sizes() -> dict:
    """JSON bytes stored per event for the payload (and metadata) on each side."""
    sample = 12345
    ours_data = len(json.dumps(payload(sample), separators=(",", ":")))
    ours_meta = len(json.dumps(metadata(sample), separators=(",", ":")))
    state = {**payload(sample), **metadata(sample), "timestamp": utc_now()}
    return {"ours_data": ours_data, "ours_metadata": ours_meta,
            "eventsourcing_state": len(json.dumps(state, separators=(",", ":"))),
            "eventsourcing_topic": len(ES_TOPIC)}


def _dist_version(name: str):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:  # noqa: BLE001
        return None


if __name__ == "__main__":
    main()
