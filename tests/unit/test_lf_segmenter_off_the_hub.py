"""After a start, lost_and_found loads jieba's dictionary (about a second of
pure Python) in eventlet's thread pool: the hub goes on serving meanwhile,
and a suggestion asked for during the load waits for that one load."""
import threading
import time

import eventlet
import pytest

from services.blocking import green
from services.lost_and_found.service import prepared

pytestmark = pytest.mark.skipif(not green(), reason="needs eventlet's green threads (mutmut's workers run unpatched)")


class SlowToPrepare:
    """A matcher whose dictionary takes 300 ms to load, holding its thread as jieba's load does."""

    def __init__(self):
        self.loads = []

    @property
    def prepared(self) -> bool:
        return bool(self.loads) and self.loads[-1] == "done"

    def prepare(self):
        self.loads.append(threading.current_thread().name)
        eventlet.patcher.original("time").sleep(0.3)
        self.loads.append("done")


def test_the_hub_serves_while_the_dictionary_loads_and_it_loads_once():
    matcher, ticks = SlowToPrepare(), []

    def ticker():  # another request of the service, say
        for _ in range(20):
            ticks.append(time.monotonic())
            eventlet.sleep(0.01)
    serving = eventlet.spawn(ticker)
    eventlet.sleep(0)
    warm_up, suggestion = eventlet.spawn(prepared, matcher), eventlet.spawn(prepared, matcher)
    assert warm_up.wait() is matcher and suggestion.wait() is matcher
    serving.wait()
    assert len(matcher.loads) == 2 and matcher.loads[0] != threading.main_thread().name
    assert max(b - a for a, b in zip(ticks, ticks[1:])) < 0.2  # in the hub, one gap would be the whole load


def test_a_prepared_matcher_is_not_loaded_again():
    matcher = SlowToPrepare()
    matcher.loads = ["earlier", "done"]
    assert prepared(matcher) is matcher and matcher.loads == ["earlier", "done"]
