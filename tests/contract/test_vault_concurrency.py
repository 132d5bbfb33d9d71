"""Several processes (SQLite) and several real threads (SQLite, a real
MongoDB) find subjects for the same new people at the same time: each person
ends with one subject, and every caller gets that one.

The test runner is eventlet-patched, so the threaded runs happen in a spawned
interpreter, where threads are real OS threads (as in test_concurrency.py).
mongomock is not thread-safe; its races are the contract's ``_race`` tests.
"""
from __future__ import annotations

import random
import threading
import uuid

import pytest

from services.privacy import generate_master_key, open_vault_uri, parse_master_key
from tests.contract.test_concurrency import in_spawned_interpreter, spawn
from tests.contract.test_mongo_store import MONGO_URI, needs_mongo, with_database

PEOPLE = 24
CALLERS = 4


def people() -> list[dict]:
    """Half known by phone only, half giving phone and ID number; the ID
    number of every third one is written in another form."""
    found = []
    for n in range(PEOPLE):
        phone = f"139{n:08d}"
        if n % 2:
            found.append({"phone": phone})
        else:
            found.append({"phone": f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}",
                          "id_number": f"11010519900101{n:03d}x" if n % 3 else f"11010519900101{n:03d}X"})
    return found


def find_all(vault, seed: int) -> list[tuple[int, str]]:
    order = list(range(PEOPLE)) * 2
    random.Random(seed).shuffle(order)
    return [(n, vault.subject_for(people()[n])) for n in order]


def threaded_run(uri: str, key_text: str, threads: int) -> dict:
    vault = open_vault_uri(uri, parse_master_key(key_text))
    results, errors = [], []

    def caller(seed):
        try:
            results.extend(find_all(vault, seed))
        except BaseException as exc:  # reported to the test
            errors.append(repr(exc))

    workers = [threading.Thread(target=caller, args=(seed,)) for seed in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    vault.close()
    return {"results": results, "errors": errors}


def process_caller(uri: str, key_text: str, seed: int, connection) -> None:
    with open_vault_uri(uri, parse_master_key(key_text)) as vault:
        connection.send(find_all(vault, seed))
    connection.close()


def assert_one_subject_per_person(results: list[tuple[int, str]], uri: str, key_text: str) -> None:
    subjects: dict[int, set[str]] = {}
    for n, subject in results:
        subjects.setdefault(n, set()).add(subject)
    assert all(len(found) == 1 for found in subjects.values()), subjects
    assert len({next(iter(found)) for found in subjects.values()}) == PEOPLE
    with open_vault_uri(uri, parse_master_key(key_text)) as vault:
        for n, person in enumerate(people()):
            assert vault.subjects_by(**person) == list(subjects[n])


@pytest.mark.slow
def test_sqlite_threads_find_one_subject_per_person(tmp_path):
    uri, key = f"sqlite:///{tmp_path}/events.vault.db", generate_master_key()
    outcome = in_spawned_interpreter(threaded_run, uri, key, 8)
    assert outcome["errors"] == []
    assert_one_subject_per_person(outcome["results"], uri, key)


@pytest.mark.slow
def test_sqlite_processes_find_one_subject_per_person(tmp_path):
    uri, key = f"sqlite:///{tmp_path}/events.vault.db", generate_master_key()
    open_vault_uri(uri, parse_master_key(key)).close()  # the schema first
    pipes = [spawn.Pipe(duplex=False) for _ in range(CALLERS)]
    processes = [spawn.Process(target=process_caller, args=(uri, key, seed, sender))
                 for seed, (_, sender) in enumerate(pipes)]
    for process in processes:
        process.start()
    results = []
    try:
        for receiver, sender in pipes:
            sender.close()
            assert receiver.poll(120), "a caller did not finish in time"
            results.extend(receiver.recv())
    finally:
        for process in processes:
            process.join(30)
            if process.is_alive():
                process.kill()
    assert [process.exitcode for process in processes] == [0] * CALLERS
    assert_one_subject_per_person(results, uri, key)


@needs_mongo
@pytest.mark.slow
def test_real_mongo_threads_find_one_subject_per_person():
    import pymongo

    uri, key = with_database(MONGO_URI, f"vsc-vault-test-{uuid.uuid4().hex[:12]}"), generate_master_key()
    try:
        outcome = in_spawned_interpreter(threaded_run, uri, key, 8)
        assert outcome["errors"] == []
        assert_one_subject_per_person(outcome["results"], uri, key)
    finally:
        with pymongo.MongoClient(uri) as client:
            client.drop_database(client.get_default_database())
