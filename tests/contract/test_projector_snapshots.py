"""A projector resumed from its snapshot and caught up holds exactly what a
rebuild from scratch holds (every fold of the forms service, compared state
by state), with the read models on SQLite and on MongoDB (mongomock); a
changed fold rebuilds; a broken snapshot is never trusted.
The logs are simulated desk days (bench/simulate.py) made by the real
deciders."""
from __future__ import annotations

import datetime as dt
import pickle

import mongomock
import pytest

import contracts
from bench.simulate import simulate
from services.chassis.projection import Projector, fold_state, replay
from services.chassis.readmodels.mongo import MongoReadModelStore
from services.chassis.readmodels.sqlite import SQLiteReadModelStore
from services.eventstore import open_store
from services.forms.service import FOLD_CLASSES
from services.lost_and_found import forms as lf_forms

pytestmark = pytest.mark.slow

FIRST = dict(seed=11, events=500, start=dt.date(2025, 11, 20), days=30)
LATER = dict(seed=12, events=300, start=dt.date(2026, 1, 10), days=12)


def states_of(projector) -> dict:
    return {fold.name: fold_state(projector.fold(type(fold))) for fold in projector.folds}


def rebuilt(store) -> dict:
    return states_of(replay(store, contracts.registry, FOLD_CLASSES))


class Backends:
    """A log and a read-model store that survive "restarts" (reopening). The
    log is SQLite (the store's own contract suite covers MongoDB; mongomock
    appends too slowly for a simulated season per test)."""

    def __init__(self, kind, tmp_path):
        self.kind, self.tmp_path = kind, tmp_path
        self.client = mongomock.MongoClient() if kind == "mongo" else None

    def log(self):
        return open_store(f"sqlite:///{self.tmp_path}/events.db", validator=contracts.registry)

    def readmodels(self):
        if self.kind == "mongo":
            return MongoReadModelStore(self.client["vsc"], client=self.client, chunk_size=64 * 1024)
        return SQLiteReadModelStore(str(self.tmp_path / "events.readmodels.db"))

    def projector(self, store, readmodels, folds=None):
        return Projector(store, contracts.registry, folds or [cls() for cls in FOLD_CLASSES], name="forms",
                         readmodels=readmodels)

    def snapshot_of_a_season(self, store, readmodels):
        """A simulated season in ``store`` and the forms projector that snapshotted it."""
        simulate(store, **FIRST)
        first = self.projector(store, readmodels)
        first.restore()
        first.snapshot()
        return first


@pytest.fixture(params=["sqlite", "mongo"])
def backends(request, fast_tmp_path):
    return Backends(request.param, fast_tmp_path)


def test_a_resumed_projector_caught_up_equals_a_rebuild_from_scratch(backends):
    store, readmodels = backends.log(), backends.readmodels()
    simulate(store, **FIRST)
    first = backends.projector(store, readmodels)
    assert first.restore().resumed == ()
    assert first.snapshot()
    snapshot_at = first.position
    simulate(store, **LATER)  # the service was down while the desks went on
    store.close(), readmodels.close()

    store, readmodels = backends.log(), backends.readmodels()
    resumed = backends.projector(store, readmodels)
    restored = resumed.restore()
    assert set(restored.resumed) == {cls.name for cls in FOLD_CLASSES} and restored.rebuilt == {}
    assert restored.position == store.head().position > snapshot_at
    assert states_of(resumed) == rebuilt(store)


def test_folds_read_lazily_catch_up_from_their_own_positions(backends):
    store, readmodels = backends.log(), backends.readmodels()
    backends.snapshot_of_a_season(store, readmodels)
    simulate(store, **LATER)

    lazy = backends.projector(store, readmodels)
    lazy.restore(lazily=True)
    # one form's fold asked for first; a snapshot meanwhile keeps the others' saved states
    lazy.fold(lf_forms.LostItemReportForms)
    assert lazy.snapshot()
    assert lazy.restore_pending() is True
    while lazy.restore_pending():
        pass
    # every fold in memory, and every bucket of the found-item forms read back with them
    found_item_forms = lazy.fold(lf_forms.FoundItemForms).forms
    assert lazy.pending_folds == 0 and not any(bucket.__class__ is bytes for bucket in found_item_forms._buckets)
    assert states_of(lazy) == rebuilt(store)

    again = backends.projector(store, readmodels)
    assert again.restore().rebuilt == {}
    assert states_of(again) == rebuilt(store)


def test_a_fold_read_lazily_after_another_process_replaced_the_snapshot_is_rebuilt_not_mixed(backends):
    # a lazy start reads the folds' headers only; their bytes are read by digest when needed
    store, readmodels = backends.log(), backends.readmodels()
    backends.snapshot_of_a_season(store, readmodels)
    lazy = backends.projector(store, readmodels)
    lazy.restore(lazily=True)
    simulate(store, **LATER)
    other = backends.projector(store, backends.readmodels())  # a second process of the same projector
    other.restore()
    assert other.snapshot()
    while lazy.restore_pending():
        pass
    assert lazy.catch_up() == store.head().position
    assert states_of(lazy) == rebuilt(store)


def test_a_restore_that_leaves_the_catch_up_to_later_ends_where_a_rebuild_ends(backends):
    # lost and found answers right after a start and catches its case index up in a warm-up
    store, readmodels = backends.log(), backends.readmodels()
    first = backends.snapshot_of_a_season(store, readmodels)
    snapshot_at = first.position
    simulate(store, **LATER)

    later = backends.projector(store, readmodels)
    assert later.restore(lazily=True, catch_up=False).position == snapshot_at < store.head().position
    while later.restore_pending():  # each saved state read back is caught up with it
        pass
    assert later.catch_up() == store.head().position
    assert states_of(later) == rebuilt(store)

    # with no snapshot at all: nothing read at the start, the whole log at the catch-up
    cold = backends.projector(store, None)
    assert cold.restore(lazily=True, catch_up=False).position == 0
    assert cold.catch_up() == store.head().position
    assert states_of(cold) == rebuilt(store)


def test_a_fold_whose_version_changed_is_rebuilt_and_the_others_resume(backends):
    store, readmodels = backends.log(), backends.readmodels()
    backends.snapshot_of_a_season(store, readmodels)

    class ChangedSummary(lf_forms.LostItemSummary):
        version = lf_forms.LostItemSummary.version + 1

    folds = [ChangedSummary() if cls is lf_forms.LostItemSummary else cls() for cls in FOLD_CLASSES]
    changed = backends.projector(store, readmodels, folds)
    restored = changed.restore()
    assert list(restored.rebuilt) == ["lost_item_summary"]
    assert restored.rebuilt["lost_item_summary"].startswith("the fold changed")
    assert len(restored.resumed) == len(FOLD_CLASSES) - 1
    assert states_of(changed) == rebuilt(store)


def test_a_snapshot_of_another_log_is_not_used(backends, fast_tmp_path):
    store, readmodels = backends.log(), backends.readmodels()
    backends.snapshot_of_a_season(store, readmodels)

    other = open_store(f"sqlite:///{fast_tmp_path}/other.db", validator=contracts.registry)
    simulate(other, **dict(FIRST, seed=99))
    stranger = backends.projector(other, readmodels)
    restored = stranger.restore()
    assert restored.resumed == () and "*" in restored.rebuilt
    assert states_of(stranger) == rebuilt(other)


def test_a_snapshot_write_that_fails_leaves_the_previous_one_to_resume_from(backends):
    store, readmodels = backends.log(), backends.readmodels()
    first = backends.snapshot_of_a_season(store, readmodels)
    simulate(store, **LATER)
    first.catch_up()

    def dies(*args):
        raise OSError("disk full")

    first.readmodels = type("Failing", (), {"save": staticmethod(dies), "blocking": False})()
    with pytest.raises(OSError):
        first.snapshot()

    resumed = backends.projector(store, readmodels)
    assert resumed.restore().rebuilt == {}
    assert states_of(resumed) == rebuilt(store)


def test_an_unreadable_saved_state_is_rebuilt_not_trusted(backends):
    store, readmodels = backends.log(), backends.readmodels()
    backends.snapshot_of_a_season(store, readmodels)
    snapshot = readmodels.load("forms")
    folds = dict(snapshot.folds)
    name = lf_forms.GoodDeedsSummary.name
    folds[name] = folds[name]._replace(state=pickle.dumps({"rows": "not what the fold holds"})[:-3])
    readmodels.save("forms", snapshot.position, snapshot.event_hash, folds)

    resumed = backends.projector(store, readmodels)
    resumed.restore()
    assert states_of(resumed) == rebuilt(store)


def test_a_snapshot_is_due_after_enough_events_or_time_and_only_when_something_changed(fast_tmp_path):
    backends = Backends("sqlite", fast_tmp_path)
    store, readmodels = backends.log(), backends.readmodels()
    simulate(store, **FIRST)
    projector = Projector(store, contracts.registry, [cls() for cls in FOLD_CLASSES], name="forms",
                          readmodels=readmodels, snapshot_events=200, snapshot_seconds=3600)
    projector.restore()
    assert projector.maybe_snapshot()  # built from scratch: worth keeping
    assert not projector.snapshot_due()
    simulate(store, **dict(LATER, events=100))
    projector.catch_up()
    assert projector.changed and not projector.snapshot_due()  # 100 events: not yet
    projector.snapshot_seconds = 0
    assert projector.maybe_snapshot()  # the time has come
    assert readmodels.load("forms").position == store.head().position


def test_a_long_catch_up_pauses_every_so_many_records_and_ends_where_a_rebuild_ends(fast_tmp_path, monkeypatch):
    import services.chassis.projection as projection

    store = Backends("sqlite", fast_tmp_path).log()
    simulate(store, **FIRST)
    monkeypatch.setattr(projection, "PAUSE_EVERY", 100)
    positions = []
    projector = Projector(store, contracts.registry, [cls() for cls in FOLD_CLASSES],
                          pause=lambda: positions.append(None))
    head = projector.catch_up()
    assert head == store.head().position and len(positions) == head // 100
    assert states_of(projector) == rebuilt(store)
    projector.catch_up()  # nothing new: no pause
    assert len(positions) == head // 100
