"""SQLite read-model snapshots against the contract, and a real crash (SIGKILL) mid-write."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from services.chassis.readmodels import open_readmodel_store, readmodel_uri_for
from services.chassis.readmodels.sqlite import SQLiteReadModelStore
from tests.conftest import ROOT
from tests.contract.readmodel_contract import ReadModelContract


class TestSQLiteReadModels(ReadModelContract):
    large_state = 3 * 1024 * 1024

    @pytest.fixture
    def readmodels(self, tmp_path):
        self.path = str(tmp_path / "events.readmodels.db")
        self.opened = []
        yield self._open()
        for store in self.opened:
            store.close()

    def _open(self):
        store = SQLiteReadModelStore(self.path)
        self.opened.append(store)
        return store

    def reopen(self, store):
        store.close()
        return self._open()

    def damage(self, store, projector, fold):
        with sqlite3.connect(self.path) as connection:
            connection.execute("UPDATE fold_states SET state = CAST(? AS BLOB) WHERE projector = ? AND fold = ?",
                               (b"x" * 10, projector, fold))


def test_the_default_place_is_beside_the_event_store():
    assert readmodel_uri_for("sqlite:///var/events.db") == "sqlite:///var/events.readmodels.db"
    assert readmodel_uri_for("sqlite:////srv/vsc/log") == "sqlite:////srv/vsc/log.readmodels.db"
    assert readmodel_uri_for("mongodb://db:27017/vsc") == "mongodb://db:27017/vsc"


@pytest.mark.slow
def test_a_process_killed_while_writing_snapshots_leaves_a_whole_one(tmp_path):
    path = tmp_path / "events.readmodels.db"
    writer = textwrap.dedent(f"""
        import os, sys
        from services.chassis.readmodels import FoldState
        from services.chassis.readmodels.sqlite import SQLiteReadModelStore
        store = SQLiteReadModelStore({str(path)!r})
        n = 0
        while True:
            n += 1
            store.save("forms", n, f"{{n:064d}}", {{f"fold{{i}}": FoldState("1|", n, bytes([n % 256]) * 2_000_000)
                                                    for i in range(4)}})
            print(n, flush=True)
    """)
    child = subprocess.Popen([sys.executable, "-c", writer], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(3):
            child.stdout.readline()  # a few snapshots are whole
        time.sleep(0.05)
    finally:
        child.kill()
        child.wait(10)
    snapshot = open_readmodel_store(f"sqlite:///{path}").load("forms")
    assert snapshot.position >= 3
    assert set(snapshot.folds) == {f"fold{i}" for i in range(4)}
    for fold in snapshot.folds.values():  # every fold of the one snapshot, none of another
        assert fold.position == snapshot.position
        assert fold.state == bytes([snapshot.position % 256]) * 2_000_000
