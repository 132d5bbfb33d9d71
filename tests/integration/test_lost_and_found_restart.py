"""lost_and_found on the real RabbitMQ: its case index (the open cases it
matches and the short codes) is written as a snapshot when the service
stops, resumed when it starts again (catching up with what happened
meanwhile), and then suggests exactly what a case index rebuilt from the
log suggests."""
from __future__ import annotations

import datetime as dt

import pytest

import contracts
from bench.simulate import simulate
from services.chassis.readmodels import open_readmodel_store
from services.eventstore import open_store
from services.lost_and_found.service import LostAndFoundService

pytestmark = [pytest.mark.rabbit, pytest.mark.slow]


def cases_of(runner):
    service = next(c for c in runner.containers if c.service_name == "lost_and_found")
    return next(d for d in service.dependencies if type(d).__name__ == "Cases")


def open_cases(config):
    store = open_store(config["EVENT_STORE_URI"])
    items = [r.data["item_id"] for r in store.read_all() if r.type == "FoundItemTurnedIn"]
    reports = [r.data["report_id"] for r in store.read_all() if r.type == "LostItemReported"]
    store.close()
    return items[::5], reports[::3]


def suggestions(config, rpc_as):
    items, reports = open_cases(config)
    with rpc_as("clerk") as cluster:
        service = cluster.lost_and_found
        return ([service.suggest_matches({"item_id": item_id}) for item_id in items]
                + [service.suggest_matches({"report_id": report_id}) for report_id in reports])


def test_a_restarted_lost_and_found_resumes_its_case_index_and_suggests_as_a_rebuild(
        runner_factory, service_config, fast_tmp_path, rpc_as):
    config = dict(service_config, EVENT_STORE_URI=f"sqlite:///{fast_tmp_path}/events.db")
    store = open_store(config["EVENT_STORE_URI"], validator=contracts.registry)
    simulate(store, seed=31, events=600, start=dt.date(2025, 11, 20), days=30)

    first = runner_factory(config, LostAndFoundService)
    first.start()
    assert cases_of(first).restored.resumed == ()
    before = suggestions(config, rpc_as)  # catches the index up
    first.stop()  # a clean stop writes the snapshot
    readmodels = open_readmodel_store(f"sqlite:///{fast_tmp_path}/events.readmodels.db")
    saved = readmodels.load("lost_and_found.cases")
    assert saved.position == store.head().position and set(saved.folds) == {"case_index"}
    readmodels.close()

    simulate(store, seed=32, events=300, start=dt.date(2026, 1, 5), days=10)  # while the service was down
    head = store.head().position
    store.close()

    second = runner_factory(config, LostAndFoundService)
    second.start()
    restored = cases_of(second).restored
    assert restored.resumed == ("case_index",) and restored.rebuilt == {}
    resumed = suggestions(config, rpc_as)
    assert cases_of(second).projector.position == head
    second.stop()

    scratch = runner_factory(dict(config, READMODEL_STORE_URI="none"), LostAndFoundService)
    scratch.start()
    assert cases_of(scratch).readmodels is None
    assert suggestions(config, rpc_as) == resumed
    assert any(reply["suggestions"] for reply in resumed) and len(resumed) > len(before)
