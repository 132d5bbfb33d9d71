"""In a monkey-patched process (the test run is one, as a nameko service is),
the SQLite store's and the subject vault's writes run in eventlet's thread
pool: a slow commit does not stop the other greenlets. Without eventlet they
run in the caller's thread."""
import contextlib
import subprocess
import sys
import time

import eventlet

from services.eventstore import NewEvent, open_store
from services.eventstore.interface import utc_now
from services.privacy import generate_master_key, parse_master_key
from services.privacy.sqlite import SQLiteSubjectVault


def gaps_while(action) -> float:
    """The longest pause of a greenlet ticking every 10 ms while ``action`` runs."""
    ticks = []

    def ticker():
        for _ in range(20):
            ticks.append(time.monotonic())
            eventlet.sleep(0.01)
    thread = eventlet.spawn(ticker)
    eventlet.sleep(0)
    action()
    thread.wait()
    return max(b - a for a, b in zip(ticks, ticks[1:]))


def test_a_slow_commit_does_not_stop_the_other_greenlets(event_store_uri, monkeypatch):
    store = open_store(event_store_uri)
    real = store._append

    def slow_append(connection, *args):   # a commit whose fsync takes 300 ms, blocking like sqlite3 does
        eventlet.patcher.original("time").sleep(0.3)
        return real(connection, *args)
    monkeypatch.setattr(store, "_append", slow_append)
    longest = gaps_while(lambda: store.append("s-1", [NewEvent("Anything", {}, utc_now())], 0))
    store.close()
    assert longest < 0.2   # on the hub, one gap would be the whole 0.3 s commit


def test_a_slow_vault_commit_does_not_stop_the_other_greenlets(tmp_path, monkeypatch):
    # a turn-in creates its finder's subject: a vault write with an fsync of its own
    vault = SQLiteSubjectVault(str(tmp_path / "events.vault.db"), parse_master_key(generate_master_key()))
    real = vault._borrow

    class SlowWrites:   # every statement but a read waits 300 ms, blocking like sqlite3's fsync does
        def __init__(self, connection):
            self.connection = connection

        def execute(self, sql, *args):
            if not sql.lstrip().upper().startswith("SELECT"):
                eventlet.patcher.original("time").sleep(0.3)
            return self.connection.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self.connection, name)

    @contextlib.contextmanager
    def slow_borrow():
        with real() as connection:
            yield SlowWrites(connection)
    monkeypatch.setattr(vault, "_borrow", slow_borrow)
    subjects = []
    longest = gaps_while(lambda: subjects.append(vault.subject_for({"phone": "13900000001"})))
    vault.close()
    assert subjects and subjects[0]
    assert longest < 0.2


def test_without_eventlet_a_write_runs_in_the_callers_thread(tmp_path):
    script = (
        "import threading, sys\n"
        "from services.eventstore import NewEvent, open_store\n"
        "from services.eventstore.interface import utc_now\n"
        f"store = open_store('sqlite:///{tmp_path}/plain.db')\n"
        "seen = []\n"
        "real = store._append\n"
        "store._append = lambda c, *a: (seen.append(threading.current_thread().name), real(c, *a))[1]\n"
        "store.append('s-1', [NewEvent('Anything', {}, utc_now())], 0)\n"
        "assert 'eventlet' not in sys.modules and seen == ['MainThread'], (seen, 'eventlet' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
