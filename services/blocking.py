"""How blocking SQLite work runs in a process eventlet has monkey-patched (a
nameko service): ``sqlite3`` calls are not cooperative, so a commit's fsync
on the hub would stop every request of the process. Writes go to eventlet's
thread pool there, and run in the caller's thread anywhere else (the CLI,
the relay, the benchmarks). Used by the event store and the subject vault."""
from __future__ import annotations

import functools
import sys
import threading


def green() -> bool:
    """True in a process eventlet has monkey-patched (never imports eventlet)."""
    eventlet = sys.modules.get("eventlet")
    return eventlet is not None and eventlet.patcher.is_monkey_patched("thread")


def os_lock():
    """A real lock even under monkey-patching: a green lock taken from one of
    eventlet's pool threads needs that thread's own hub and can deadlock."""
    if green():
        return sys.modules["eventlet"].patcher.original("threading").Lock()
    return threading.Lock()


def direct(fn, *args):
    return fn(*args)


def writer():
    """How a write runs: in eventlet's thread pool when monkey-patched
    (a call made from a pool thread runs there directly)."""
    if green():
        from eventlet import tpool
        return tpool.execute
    return direct


def written(method):
    """A method whose SQLite work commits: run through ``self._write``
    (:func:`writer`)."""
    @functools.wraps(method)
    def run(self, *args):
        return self._write(method, self, *args)
    return run
