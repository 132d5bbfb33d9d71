"""In a monkey-patched process (the test run is one, as a nameko service is),
the SQLite store's writes run in eventlet's thread pool: a slow commit does
not stop the other greenlets. Without eventlet they run in the caller's thread."""
import subprocess
import sys
import time

import eventlet

from services.eventstore import NewEvent, open_store
from services.eventstore.interface import utc_now


def test_a_slow_commit_does_not_stop_the_other_greenlets(event_store_uri, monkeypatch):
    store = open_store(event_store_uri)
    real = store._append

    def slow_append(connection, *args):   # a commit whose fsync takes 300 ms, blocking like sqlite3 does
        eventlet.patcher.original("time").sleep(0.3)
        return real(connection, *args)
    monkeypatch.setattr(store, "_append", slow_append)
    ticks = []

    def ticker():
        for _ in range(20):
            ticks.append(time.monotonic())
            eventlet.sleep(0.01)
    thread = eventlet.spawn(ticker)
    eventlet.sleep(0)
    store.append("s-1", [NewEvent("Anything", {}, utc_now())], 0)
    thread.wait()
    store.close()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert max(gaps) < 0.2   # on the hub, one gap would be the whole 0.3 s commit


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
