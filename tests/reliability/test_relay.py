"""The relay loses nothing: killed with SIGKILL mid-stream, across a broker
restart, and when a standby relay takes over the lease. Duplicates are
allowed (consumers deduplicate by position); gaps are not."""
import os
import shutil
import subprocess
import sys
import time

import kombu
import pytest

import contracts
from services.eventstore import NewEvent, open_store
from services.eventstore.interface import utc_now
from tests.conftest import ROOT, wait_for

pytestmark = [pytest.mark.rabbit, pytest.mark.slow]


def append_sign_ins(store, count, start=0, per_append=10):
    for first in range(start, start + count, per_append):
        stream = f"duty_day-desk{first // 1000}-2026-05-01"
        events = [NewEvent("ClerkSignedIn", {
            "desk": f"desk{first // 1000}", "shift_date": "2026-05-01", "clerk_id": f"c-{n}",
            "clerk_name": "测试", "signed_in_at": "2026-05-01T07:00:00+08:00"}, utc_now())
            for n in range(first, first + per_append)]
        store.append(stream, events, expected_version=store.stream_version(stream))


class Collector:
    """A durable queue bound to every duty_log event, declared before the
    relay publishes (an event published with no queue bound is dropped)."""

    def __init__(self, amqp_uri):
        self.amqp_uri = amqp_uri
        self.exchange = kombu.Exchange("duty_log.events", type="topic", durable=True)
        self.queue = kombu.Queue("reliability-collector", self.exchange, routing_key="#", durable=True)
        self.positions = []
        with kombu.Connection(amqp_uri) as connection:
            self.queue(connection.default_channel).declare()

    def drain(self):
        with kombu.Connection(self.amqp_uri) as connection:
            queue = self.queue(connection.default_channel)
            while (message := queue.get(no_ack=True)) is not None:
                self.positions.append(message.payload["position"])
        return self.positions


@pytest.fixture
def store(service_config):
    with open_store(service_config["EVENT_STORE_URI"], validator=contracts.registry) as store:
        yield store


def test_a_relay_killed_mid_stream_resumes_from_its_checkpoint_and_loses_nothing(store, service_config,
                                                                                   relay_process):
    collector = Collector(service_config["AMQP_URI"])
    append_sign_ins(store, 3000)
    relay_process.start({"RELAY_BATCH_SIZE": "100"})
    wait_for(lambda: store.get_checkpoint("relay") >= 300, timeout=30, message="the first batches")
    relay_process.kill()
    killed_at = store.get_checkpoint("relay")
    assert 0 < killed_at < 3000, "the relay must be killed mid-stream for this test to mean anything"

    relay_process.start({"RELAY_BATCH_SIZE": "100"})
    wait_for(lambda: store.get_checkpoint("relay") == 3000, timeout=60, message="the restarted relay")
    positions = collector.drain()
    assert sorted(set(positions)) == list(range(1, 3001))
    # at most the unconfirmed batch in flight at the kill is published twice
    assert len(positions) - 3000 <= 100


@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="restarts the local broker with rabbitmqctl")
def test_a_broker_restart_loses_nothing(store, service_config, relay_process):
    collector = Collector(service_config["AMQP_URI"])
    append_sign_ins(store, 500)
    relay_process.start()
    wait_for(lambda: store.get_checkpoint("relay") == 500, timeout=30, message="the first 500")
    subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True, timeout=60)
    try:
        append_sign_ins(store, 500, start=500)  # appended while the broker is down
        time.sleep(1)
        assert store.get_checkpoint("relay") == 500
    finally:
        subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True, timeout=120)
        subprocess.run(["rabbitmqctl", "await_startup"], capture_output=True, timeout=120)
    wait_for(lambda: store.get_checkpoint("relay") == 1000, timeout=60, message="the relay to reconnect")
    assert sorted(set(collector.drain())) == list(range(1, 1001))


def test_a_standby_relay_takes_over_when_the_leader_is_killed(store, service_config, relay_process):
    collector = Collector(service_config["AMQP_URI"])
    append_sign_ins(store, 200)
    leader = relay_process.start()
    wait_for(lambda: store.get_checkpoint("relay") == 200, timeout=30, message="the leader")
    # a second relay on the same store and broker: it must wait for the lease
    env = dict(os.environ, AMQP_URI=service_config["AMQP_URI"], EVENT_STORE_URI=service_config["EVENT_STORE_URI"],
               RELAY_LEASE_TTL="2", PYTHONPATH=ROOT)
    second = subprocess.Popen([sys.executable, "-m", "services.eventstore.relay"], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        time.sleep(1.5)
        leader.kill()
        leader.wait(10)
        append_sign_ins(store, 200, start=200)
        wait_for(lambda: store.get_checkpoint("relay") == 400, timeout=30, message="the standby to take over")
    finally:
        second.terminate()
        output = second.communicate(timeout=15)[0].decode()
    assert '"holds": true' in output
    assert sorted(set(collector.drain())) == list(range(1, 401))
