"""The relay loses nothing: killed with SIGKILL mid-stream, across a broker
restart, and when a standby relay takes over the lease. Duplicates are
allowed (consumers deduplicate by position); gaps are not. And what it
publishes is a thin notice: no event data reaches the broker."""
import os
import shutil
import subprocess
import sys
import time

import socket

import kombu
import pytest

import contracts
from contracts.envelope import EventEnvelope
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

    def drain(self, idle=1.0):
        """Every message waiting, until none came for ``idle`` seconds."""
        def take(body, message):
            self.positions.append(body["position"])
        with kombu.Connection(self.amqp_uri) as connection:
            with connection.Consumer(self.queue, callbacks=[take], accept=["json"], no_ack=True):
                while True:
                    try:
                        connection.drain_events(timeout=idle)
                    except socket.timeout:
                        break
        return self.positions


@pytest.fixture
def store(service_config):
    with open_store(service_config["EVENT_STORE_URI"], validator=contracts.registry) as store:
        yield store


def test_a_relay_killed_mid_stream_resumes_from_its_checkpoint_and_loses_nothing(store, service_config,
                                                                                   relay_process):
    collector = Collector(service_config["AMQP_URI"])
    total = 20_000
    append_sign_ins(store, total, per_append=100)
    # a window of 100, the checkpoint saved at every confirm: at a kill, at most
    # the 100 messages out unconfirmed are published again
    settings = {"RELAY_WINDOW": "100", "RELAY_BATCH_SIZE": "100", "RELAY_CHECKPOINT_INTERVAL": "0"}
    relay_process.start(settings)
    wait_for(lambda: store.get_checkpoint("relay") >= 300, timeout=30, interval=0.01, message="the first batches")
    relay_process.kill()
    killed_at = store.get_checkpoint("relay")
    assert 0 < killed_at < total, "the relay must be killed mid-stream for this test to mean anything"

    relay_process.start(settings)
    wait_for(lambda: store.get_checkpoint("relay") == total, timeout=120, message="the restarted relay")
    positions = collector.drain()
    assert sorted(set(positions)) == list(range(1, total + 1))
    assert len(positions) - total <= 100


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


def standby_relay(service_config):
    """A second relay on the same store and broker, with the default RELAY_*
    settings (environment cleared of them)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("RELAY_")}
    env.update(AMQP_URI=service_config["AMQP_URI"], EVENT_STORE_URI=service_config["EVENT_STORE_URI"],
               PYTHONPATH=ROOT)
    return subprocess.Popen([sys.executable, "-m", "services.eventstore.relay"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_a_standby_relay_takes_over_when_the_leader_is_killed(store, service_config, relay_process):
    collector = Collector(service_config["AMQP_URI"])
    append_sign_ins(store, 200)
    leader = relay_process.start()
    wait_for(lambda: store.get_checkpoint("relay") == 200, timeout=30, message="the leader")
    leader_owner = store.lease("relay").owner
    second = standby_relay(service_config)
    try:
        time.sleep(1.5)
        assert store.lease("relay").owner == leader_owner, "the standby must wait while the leader renews"
        leader.kill()
        leader.wait(10)
        append_sign_ins(store, 200, start=200)
        wait_for(lambda: store.get_checkpoint("relay") == 400, timeout=30, message="the standby to take over")
        assert store.lease("relay").owner != leader_owner
    finally:
        second.terminate()
        output = second.communicate(timeout=15)[0].decode()
    assert '"holds": true' in output
    assert sorted(set(collector.drain())) == list(range(1, 401))


def test_a_relay_stopped_cleanly_releases_its_lease_at_once_and_the_standby_takes_over(store, service_config,
                                                                                        relay_process):
    collector = Collector(service_config["AMQP_URI"])
    append_sign_ins(store, 100)
    leader = relay_process.start()
    wait_for(lambda: store.get_checkpoint("relay") == 100, timeout=30, message="the leader")
    leader_owner = store.lease("relay").owner
    second = standby_relay(service_config)
    try:
        time.sleep(1.5)
        relay_process.stop()  # SIGTERM
        assert leader.returncode == 0
        lease = store.lease("relay")
        assert lease is None or lease.owner != leader_owner, "a clean stop gives the lease up, not waits it out"
        append_sign_ins(store, 100, start=100)
        wait_for(lambda: store.get_checkpoint("relay") == 200, timeout=30, message="the standby to take over")
    finally:
        second.terminate()
        second.communicate(timeout=15)
    assert sorted(set(collector.drain())) == list(range(1, 201))


class RawCollector:
    """Every message on a queue bound to every event of both services, as the
    broker holds it: body bytes and headers."""

    def __init__(self, amqp_uri):
        self.amqp_uri = amqp_uri
        self.queue = kombu.Queue("reliability-raw", durable=True, bindings=[
            kombu.binding(kombu.Exchange(f"{source}.events", type="topic", durable=True), routing_key="#")
            for source in ("duty_log", "lost_and_found")])
        with kombu.Connection(amqp_uri) as connection:
            self.queue(connection.default_channel).declare()

    def drain(self):
        messages = []
        with kombu.Connection(self.amqp_uri) as connection:
            queue = self.queue(connection.default_channel)
            while (message := queue.get(no_ack=True)) is not None:
                body = message.body  # kombu decodes a utf-8 body to text
                messages.append((body if isinstance(body, str) else body.decode("utf-8"), message.headers))
        return messages


def leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from leaves(item)
    else:
        yield value


def test_no_message_the_relay_publishes_contains_the_events_data_or_metadata(store, service_config, relay_process):
    collector = RawCollector(service_config["AMQP_URI"])
    store.append("duty_day-main-gate-2026-05-01", [NewEvent("ClerkSignedIn", {
        "desk": "main-gate", "shift_date": "2026-05-01", "clerk_id": "clerk-7731", "clerk_name": "王秘密",
        "signed_in_at": "2026-05-01T07:00:00+08:00"}, utc_now(), metadata={"actor": "clerk-7731", "desk": "main-gate",
                                                                           "correlation_id": "corr-5519"})],
                 expected_version=0)
    store.append("lost_report-lr-4402", [NewEvent("LostItemReported", {
        "report_id": "lr-4402", "desk": "main-gate", "item_name": "黑色雨伞", "category": "umbrella",
        "description": "黑色折叠伞，木柄", "features": "伞柄刻有字母 QZ", "lost_place": "北门售票厅",
        "lost_from": "2026-05-01T08:00:00+08:00", "lost_until": "2026-05-01T09:00:00+08:00",
        "visitor_name": "李秘密", "visitor_phone": "13912345678", "received_by": "clerk-7731",
        "reported_at": "2026-05-01T09:30:00+08:00", "business_date": "2026-05-01"}, utc_now())],
                 expected_version=0)
    records = list(store.read_all())
    relay_process.start()
    wait_for(lambda: store.get_checkpoint("relay") == len(records), timeout=30, message="the relay")
    messages = collector.drain()
    assert len(messages) >= len(records)

    # every value of data and metadata, except those the notice carries by design
    # anyway (stream ids are made of ids and dates: "duty_day-main-gate-2026-05-01")
    by_design = " ".join(f"{r.stream_id} {r.event_id} {r.type} {r.occurred_at} {r.recorded_at}" for r in records)
    secrets = {str(value) for value in leaves([[r.data, r.metadata] for r in records])
               if str(value) not in by_design}
    assert {"王秘密", "李秘密", "13912345678", "clerk-7731", "corr-5519", "伞柄刻有字母 QZ"} <= secrets
    for body, headers in messages:
        text = body + repr(headers)
        assert not [secret for secret in secrets if secret in text]
    for body, _headers in messages:
        notice = EventEnvelope().loads(body)  # exactly the envelope's fields: unknown ones are refused
        assert {"data", "metadata"}.isdisjoint(notice)
