"""Concurrent writers and a tailing reader.

Eight writers append to streams of their own (1-3 events per append, correct
expected versions, some appends retried with their command id) while a
reader tails ``read_all(after=last_seen)``. The reader must see every event
exactly once, in position order without a gap, and nothing else.

The test runner is eventlet-patched (``tests/conftest.py``), which turns
threads into green threads and locks into green locks; so the threaded runs
happen in a spawned interpreter, where threads are real OS threads.
"""
from __future__ import annotations

import multiprocessing
import threading
import time
import uuid

import pytest

from services.eventstore import open_store
from services.eventstore.chain import verify_store
from services.eventstore.interface import NewEvent
from tests.contract.store_contract import OCCURRED
from tests.contract.test_mongo_store import MONGO_URI, needs_mongo, with_database

WRITERS = 8
EVENTS_PER_WRITER = 640   # 8 x 640 = 5,120 events
STREAMS_PER_WRITER = 4
GIVE_UP_AFTER = 240.0     # seconds: a hang fails the test instead of blocking the run

spawn = multiprocessing.get_context("spawn")


def plan(writer: int, quota: int) -> list[tuple[str, list[NewEvent], int, str | None]]:
    """One writer's appends: (stream, events, expected version, command id)."""
    versions: dict[str, int] = {}
    appends, count = [], 0
    while count < quota:
        n = len(appends)
        stream = f"w{writer}-s{n % STREAMS_PER_WRITER}"
        size = min(1 + (n + writer) % 3, quota - count)
        events = [NewEvent("ItemTurnedIn", {"item": f"w{writer}-{count + k}"}, OCCURRED,
                           event_id=f"w{writer}-e{count + k}") for k in range(size)]
        command_id = f"w{writer}-c{n}" if n % 10 == 0 else None
        appends.append((stream, events, versions.get(stream, 0), command_id))
        versions[stream] = versions.get(stream, 0) + size
        count += size
    return appends


def expected_ids(writers: int, quota: int) -> set[str]:
    return {f"w{w}-e{n}" for w in range(writers) for n in range(quota)}


def write(store, appends) -> None:
    """Append a plan; a command is sent twice and the retry must change nothing."""
    for stream, events, expected, command_id in appends:
        first = store.append(stream, events, expected, command_id=command_id)
        if command_id is not None:
            again = store.append(stream, events, expected, command_id=command_id)
            if not (again.duplicate and again.events == first.events):
                raise AssertionError(f"retry of {command_id} was not a no-op: {again}")


def tail_once(store, seen: list) -> int:
    after = seen[-1][0] if seen else 0
    batch = [(e.position, e.event_id, e.stream_id, e.version) for e in store.read_all(after=after)]
    seen.extend(batch)
    return len(batch)


def tail_until(store, seen: list, writers_done) -> None:
    """Tail until the writers are done and one more read finds nothing new."""
    deadline = time.monotonic() + GIVE_UP_AFTER
    while time.monotonic() < deadline:
        done = writers_done()
        if tail_once(store, seen) == 0:
            if done:
                return
            time.sleep(0.001)
    raise AssertionError("the writers did not finish in time")


def assert_tail_saw_everything(seen: list, expected: set[str]) -> None:
    assert [row[0] for row in seen] == list(range(1, len(seen) + 1)), "positions out of order or with a gap"
    seen_ids = [row[1] for row in seen]
    assert len(seen_ids) == len(set(seen_ids)), "an event was seen twice"
    assert set(seen_ids) == expected
    versions: dict[str, int] = {}
    for _, _, stream, version in seen:
        assert version == versions.get(stream, 0) + 1, f"stream {stream} skipped to version {version}"
        versions[stream] = version


# -- run in a spawned interpreter (real OS threads) -----------------------------
def threaded_run(uri: str, writers: int, quota: int) -> dict:
    store = open_store(uri)
    errors: list[str] = []

    def writer(appends):
        try:
            write(store, appends)
        except BaseException as exc:  # reported to the test
            errors.append(repr(exc))

    threads = [threading.Thread(target=writer, args=(plan(w, quota),)) for w in range(writers)]
    seen: list = []
    reader_errors: list[str] = []

    def reader():
        try:
            tail_until(store, seen, lambda: not any(t.is_alive() for t in threads))
        except BaseException as exc:
            reader_errors.append(repr(exc))

    for thread in threads:
        thread.start()
    tail = threading.Thread(target=reader)
    tail.start()
    for thread in threads:
        thread.join()
    tail.join()
    verification = verify_store(store)
    store.close()
    return {"seen": seen, "errors": errors + reader_errors, "verified": verification.ok,
            "checked": verification.checked}


def _child(connection, function, *args) -> None:
    try:
        connection.send(("ok", function(*args)))
    except BaseException as exc:
        connection.send(("error", repr(exc)))
    finally:
        connection.close()


def in_spawned_interpreter(function, *args):
    receiver, sender = spawn.Pipe(duplex=False)
    process = spawn.Process(target=_child, args=(sender, function, *args))
    process.start()
    sender.close()
    try:
        if not receiver.poll(GIVE_UP_AFTER):
            raise AssertionError(f"{function.__name__} did not finish in time")
        status, value = receiver.recv()
    finally:
        process.join(30)
        if process.is_alive():
            process.kill()
    assert status == "ok", value
    return value


def assert_threaded_run(uri: str) -> None:
    outcome = in_spawned_interpreter(threaded_run, uri, WRITERS, EVENTS_PER_WRITER)
    assert outcome["errors"] == []
    assert_tail_saw_everything(outcome["seen"], expected_ids(WRITERS, EVENTS_PER_WRITER))
    assert outcome["verified"] and outcome["checked"] == WRITERS * EVENTS_PER_WRITER


def process_writer(uri: str, writer: int, quota: int) -> None:
    with open_store(uri) as store:
        write(store, plan(writer, quota))


# -- the tests -----------------------------------------------------------------------
@pytest.mark.slow
def test_sqlite_eight_writer_threads_and_a_tailing_reader_see_one_gap_free_log(tmp_path):
    assert_threaded_run(f"sqlite:///{tmp_path}/events.db")


@pytest.mark.slow
def test_sqlite_eight_writer_processes_and_a_tailing_reader_see_one_gap_free_log(tmp_path):
    uri = f"sqlite:///{tmp_path}/events.db"
    with open_store(uri) as store:  # creates the schema before the writers race for it
        processes = [spawn.Process(target=process_writer, args=(uri, w, EVENTS_PER_WRITER))
                     for w in range(WRITERS)]
        for process in processes:
            process.start()
        seen: list = []
        try:
            tail_until(store, seen, lambda: not any(p.is_alive() for p in processes))
        finally:
            for process in processes:
                process.join(30)
                if process.is_alive():
                    process.kill()
        assert [process.exitcode for process in processes] == [0] * WRITERS
        assert_tail_saw_everything(seen, expected_ids(WRITERS, EVENTS_PER_WRITER))
        assert verify_store(store).ok


def test_mongomock_eight_interleaved_writers_and_a_tailing_reader_see_one_gap_free_log():
    """The in-process engine is not thread-safe: the writers take turns in one thread."""
    quota = 40
    plans = [plan(w, quota) for w in range(WRITERS)]
    seen: list = []
    with open_store(f"mongomock://test/vsc-{uuid.uuid4().hex}") as store:
        for round_ in range(max(map(len, plans))):
            for writer, appends in enumerate(plans):
                if round_ < len(appends):
                    write(store, appends[round_:round_ + 1])
                if writer % 3 == 0:
                    tail_once(store, seen)
            tail_once(store, seen)
        tail_once(store, seen)
        assert_tail_saw_everything(seen, expected_ids(WRITERS, quota))
        assert verify_store(store).ok


@needs_mongo
@pytest.mark.slow
def test_real_mongo_eight_writer_threads_and_a_tailing_reader_see_one_gap_free_log():
    import pymongo

    uri = with_database(MONGO_URI, f"vsc-test-{uuid.uuid4().hex[:12]}")
    try:
        assert_threaded_run(uri)
    finally:
        with pymongo.MongoClient(uri) as client:
            client.drop_database(client.get_default_database())
