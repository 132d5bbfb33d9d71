"""The read-model store contract: every backend passes it (see
``test_sqlite_readmodels.py`` and ``test_mongo_readmodels.py``). A backend's
subclass provides the ``readmodels`` fixture, ``reopen(store)`` and
``damage(store, projector, fold)`` (flip bytes of one stored state)."""
from __future__ import annotations

import os

import pytest

from services.chassis.readmodels import FoldHeader, FoldState
from services.chassis.readmodels.interface import digest


def states(seed: int, size: int = 1000) -> dict[str, FoldState]:
    return {"forms": FoldState("1|A.v1", 10 + seed, os.urandom(size)),
            "summary": FoldState("2|B.v1", 8 + seed, bytes([seed % 256]) * (size // 2)),
            "empty": FoldState("1|", 5, b"")}


class Interrupted(Exception):
    pass


class Halfway(dict):
    """Fold states whose iteration fails after the first one: a save that
    dies mid-way."""

    def items(self):
        for number, item in enumerate(super().items()):
            if number == 1:
                raise Interrupted("the process died here")
            yield item


class ReadModelContract:
    def test_a_projector_without_a_snapshot_has_none(self, readmodels):
        assert readmodels.load("forms") is None

    def test_a_snapshot_reads_back_whole(self, readmodels):
        saved = states(1, 3000)
        readmodels.save("forms", 11, "h" * 64, saved)
        snapshot = readmodels.load("forms")
        assert (snapshot.projector, snapshot.position, snapshot.event_hash) == ("forms", 11, "h" * 64)
        assert snapshot.folds == saved
        assert snapshot.taken_at.endswith("Z")

    def test_a_new_snapshot_replaces_the_old_one_entirely(self, readmodels):
        readmodels.save("forms", 11, "a" * 64, states(1))
        newer = {"forms": FoldState("1|A.v1", 40, b"new state")}
        readmodels.save("forms", 40, "b" * 64, newer)
        snapshot = readmodels.load("forms")
        assert (snapshot.position, snapshot.event_hash, snapshot.folds) == (40, "b" * 64, newer)

    def test_projectors_keep_their_own_snapshots(self, readmodels):
        forms = states(1)
        readmodels.save("forms", 11, "a" * 64, forms)
        readmodels.save("cases", 12, "b" * 64, states(2))
        assert readmodels.load("forms").folds == forms
        assert readmodels.load("cases").position == 12
        readmodels.drop("cases")
        assert readmodels.load("cases") is None
        assert readmodels.load("forms").position == 11

    def test_snapshots_survive_closing_and_reopening(self, readmodels):
        saved = states(3, 5000)
        readmodels.save("forms", 13, "c" * 64, saved)
        reopened = self.reopen(readmodels)
        assert reopened.load("forms").folds == saved

    def test_a_save_that_dies_half_way_leaves_the_previous_snapshot_whole(self, readmodels):
        before = states(1, 4000)
        readmodels.save("forms", 11, "a" * 64, before)
        with pytest.raises(Interrupted):
            readmodels.save("forms", 99, "z" * 64, Halfway(states(7, 4000)))
        snapshot = self.reopen(readmodels).load("forms")
        assert (snapshot.position, snapshot.event_hash, snapshot.folds) == (11, "a" * 64, before)

    def test_a_damaged_state_is_left_out_and_the_others_still_read(self, readmodels):
        readmodels.save("forms", 11, "a" * 64, states(1, 3000))
        self.damage(readmodels, "forms", "forms")
        snapshot = readmodels.load("forms")
        assert set(snapshot.folds) == {"summary", "empty"}

    def test_a_state_larger_than_any_single_record_limit_reads_back(self, readmodels):
        big = {"forms": FoldState("1|A.v1", 5, os.urandom(self.large_state))}
        readmodels.save("forms", 5, "d" * 64, big)
        assert readmodels.load("forms").folds == big

    # -- a start reads the headers only, and each fold's bytes when it is first needed --------
    def test_headers_name_every_fold_and_each_fold_s_bytes_read_back_by_their_digest(self, readmodels):
        assert readmodels.headers("forms") is None
        saved = states(1, 3000)
        readmodels.save("forms", 11, "h" * 64, saved)
        snapshot = readmodels.headers("forms")
        assert (snapshot.projector, snapshot.position, snapshot.event_hash) == ("forms", 11, "h" * 64)
        assert snapshot.folds == {name: FoldHeader(fold.version, fold.position, digest(fold.state))
                                  for name, fold in saved.items()}
        assert {name: readmodels.load_state("forms", name, header.digest)
                for name, header in snapshot.folds.items()} == {name: fold.state for name, fold in saved.items()}

    def test_a_fold_s_bytes_from_a_replaced_snapshot_are_not_given(self, readmodels):
        readmodels.save("forms", 11, "a" * 64, states(1))
        old = readmodels.headers("forms").folds["forms"]
        newer = states(2)
        readmodels.save("forms", 40, "b" * 64, newer)
        assert readmodels.load_state("forms", "forms", old.digest) is None
        new = readmodels.headers("forms").folds["forms"]
        assert readmodels.load_state("forms", "forms", new.digest) == newer["forms"].state
        assert readmodels.load_state("cases", "forms", new.digest) is None  # another projector's

    def test_damaged_bytes_are_not_given_and_the_others_still_are(self, readmodels):
        saved = states(1, 3000)
        readmodels.save("forms", 11, "a" * 64, saved)
        self.damage(readmodels, "forms", "forms")
        reopened = self.reopen(readmodels)
        headers = reopened.headers("forms").folds
        assert reopened.load_state("forms", "forms", headers["forms"].digest) is None
        assert reopened.load_state("forms", "summary", headers["summary"].digest) == saved["summary"].state

    def test_a_large_state_reads_back_by_its_digest(self, readmodels):
        big = FoldState("1|A.v1", 5, os.urandom(self.large_state))
        readmodels.save("forms", 5, "d" * 64, {"forms": big})
        assert readmodels.load_state("forms", "forms", digest(big.state)) == big.state
