"""The forms service on the real RabbitMQ: it writes a snapshot of its read
models when it stops, resumes from it when it starts again (catching up
with what the desks did meanwhile), and then answers exactly what a forms
service rebuilt from scratch answers."""
from __future__ import annotations

import datetime as dt
import time

import pytest

import contracts
from bench.simulate import simulate
from services.chassis.readmodels import open_readmodel_store
from services.eventstore import open_store
from services.forms.service import FOLD_CLASSES, FormsService

pytestmark = [pytest.mark.rabbit, pytest.mark.slow]


def projections_of(runner):
    forms = next(c for c in runner.containers if c.service_name == "forms")
    return next(d for d in forms.dependencies if type(d).__name__ == "Projections")


def answers(config, rpc_as):
    """A few forms of every kind, as the running forms service serves them (to a clerk)."""
    with rpc_as("clerk") as cluster:
        forms = cluster.forms
        store = open_store(config["EVENT_STORE_URI"])
        items = [r.data["item_id"] for r in store.read_all() if r.type == "FoundItemTurnedIn"][::7]
        carded = [r.data["item_id"] for r in store.read_all() if r.type == "ItemInformationCardIssued"][::9]
        reports = [r.data["report_id"] for r in store.read_all() if r.type == "LostItemReported"][::9]
        store.close()
        return {"items": [forms.found_item_form({"item_id": item_id}) for item_id in items],
                "cards": [forms.item_information_card({"item_id": item_id}) for item_id in carded],
                "reports": [forms.lost_item_report_form({"report_id": report_id}) for report_id in reports],
                "summary": forms.lost_item_summary({"month": "2025-12"}),
                "deeds": forms.good_deeds_summary({"month": "2025-12"}),
                "awaiting": forms.valuables_awaiting_custody({"as_of": "2026-01-20T10:00:00+08:00"}),
                "sheet": forms.sign_in_sheet({"desk": "north-gate", "shift_date": "2025-12-01"})}


def test_a_restarted_forms_service_resumes_from_its_snapshot_and_answers_as_a_rebuild(
        runner_factory, service_config, fast_tmp_path, rpc_as):
    config = dict(service_config, EVENT_STORE_URI=f"sqlite:///{fast_tmp_path}/events.db")
    store = open_store(config["EVENT_STORE_URI"], validator=contracts.registry)
    simulate(store, seed=21, events=600, start=dt.date(2025, 11, 20), days=30)

    first = runner_factory(config, FormsService)
    first.start()
    assert projections_of(first).restored.resumed == ()
    first.stop()  # a clean stop writes the snapshot
    readmodels = open_readmodel_store(f"sqlite:///{fast_tmp_path}/events.readmodels.db")
    saved = readmodels.load("forms")
    assert saved.position == store.head().position
    assert set(saved.folds) == {cls.name for cls in FOLD_CLASSES}
    readmodels.close()

    simulate(store, seed=22, events=300, start=dt.date(2026, 1, 5), days=10)  # while the service was down
    head = store.head().position
    store.close()

    second = runner_factory(config, FormsService)
    second.start()
    restored = projections_of(second).restored
    assert set(restored.resumed) == {cls.name for cls in FOLD_CLASSES} and restored.rebuilt == {}
    assert restored.position == head
    assert projections_of(second).projector.pending_folds > 0  # read back after WARM_UP_AFTER
    with rpc_as("clerk") as cluster:  # health says when every fold is in memory
        deadline = time.monotonic() + 60
        while not cluster.forms.health()["warm"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert cluster.forms.health()["warm"] is True
    assert projections_of(second).projector.pending_folds == 0
    resumed_answers = answers(config, rpc_as)
    second.stop()

    scratch = runner_factory(dict(config, READMODEL_STORE_URI="none"), FormsService)
    scratch.start()
    assert projections_of(scratch).readmodels is None
    assert answers(config, rpc_as) == resumed_answers
