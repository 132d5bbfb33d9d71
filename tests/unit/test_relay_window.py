"""The relay's publisher confirms without a broker: which positions the
checkpoint may move past (:class:`ConfirmWindow`), and the relay itself on a
fake channel over a real SQLite store (acks in any order, nacks, the window's
limit, the notices it publishes)."""
import contextlib

import orjson
import pytest
from hypothesis import given, settings, strategies as st
from pika import frame, spec

import contracts
from contracts.envelope import EventEnvelope
from services.eventstore import NewEvent, open_store
from services.eventstore.interface import utc_now
from services.eventstore.relay import CoalescingConnection, ConfirmWindow, Relay, notice, relay_settings


def window_with(count, confirmed=10):
    """Tags 1..count sent for positions confirmed+1..confirmed+count."""
    window = ConfirmWindow(confirmed)
    for tag in range(1, count + 1):
        window.sent(tag, confirmed + tag)
    return window


# -- ConfirmWindow ---------------------------------------------------------------------------------
def test_given_acks_in_publish_order_then_confirmed_follows_each():
    window = window_with(3)
    assert window.ack(1) is True and window.confirmed == 11
    assert window.ack(2) is True and window.confirmed == 12
    assert window.ack(3) is True and window.confirmed == 13
    assert len(window) == 0


def test_given_acks_out_of_order_then_confirmed_stops_at_the_first_unconfirmed():
    window = window_with(5)
    assert window.ack(3) is False and window.confirmed == 10
    assert window.ack(5) is False and window.confirmed == 10
    assert window.ack(1) is True and window.confirmed == 11  # 2 still open
    assert window.ack(2) is True and window.confirmed == 13  # 3 was confirmed before
    assert window.ack(4) is True and window.confirmed == 15
    assert len(window) == 0


def test_given_a_multiple_ack_then_every_tag_up_to_it_is_confirmed():
    window = window_with(6)
    assert window.ack(5) is False  # single, out of order
    assert window.ack(3, multiple=True) is True and window.confirmed == 13
    assert window.ack(4, multiple=True) is True and window.confirmed == 15  # 5 was acked alone
    assert len(window) == 1
    assert window.ack(6, multiple=True) is True and window.confirmed == 16


def test_given_a_nack_then_the_window_empties_and_confirmed_stays_at_the_prefix():
    window = window_with(5)
    window.ack(1)
    window.ack(3)
    assert window.nack(2) is True
    assert window.confirmed == 11 and len(window) == 0


def test_given_a_reset_then_late_confirms_of_the_old_tags_change_nothing():
    window = window_with(5)
    window.ack(1)
    window.nack(2)  # republish from position 12 on, with new tags
    window.sent(6, 12)
    window.sent(7, 13)
    assert window.ack(3) is False and window.ack(5, multiple=True) is False
    assert window.nack(4) is False, "a stale nack must not start a second republish"
    assert window.confirmed == 11 and len(window) == 2
    assert window.ack(7, multiple=True) is True and window.confirmed == 13


def test_a_reset_to_a_newer_stored_checkpoint_moves_confirmed_up_never_down():
    window = window_with(2, confirmed=10)
    window.reset(25)
    assert window.confirmed == 25
    window.reset(20)
    assert window.confirmed == 25


def test_tags_and_positions_must_increase():
    window = window_with(2)
    with pytest.raises(ValueError):
        window.sent(2, 20)
    with pytest.raises(ValueError):
        window.sent(3, 12)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_confirmed_is_always_the_end_of_the_contiguous_confirmed_prefix(data):
    count = data.draw(st.integers(1, 40))
    window = window_with(count, confirmed=0)  # tag n is position n
    acked = set()
    for tag in data.draw(st.permutations(range(1, count + 1))):
        multiple = data.draw(st.booleans())
        window.ack(tag, multiple)
        acked |= set(range(1, tag + 1)) if multiple else {tag}
        prefix = 0
        while prefix + 1 in acked:
            prefix += 1
        assert window.confirmed == prefix
        assert len(window) == count - prefix
    assert window.confirmed == count


# -- the relay on a fake channel ---------------------------------------------------------------------
class FakeLoop:
    """Just enough of pika's IOLoop: timers that the test fires by hand."""

    def __init__(self):
        self.timers = []

    def call_later(self, delay, callback):
        handle = [delay, callback]
        self.timers.append(handle)
        return handle

    def remove_timeout(self, handle):
        self.timers.remove(handle)

    def run_ready(self):
        """Fire every timer due now (delay 0), and those they schedule."""
        while ready := [t for t in self.timers if t[0] == 0]:
            for handle in ready:
                self.timers.remove(handle)
                handle[1]()

    def stop(self):
        pass


class FakeConnection:
    is_closing = is_closed = False

    def batched(self):
        return contextlib.nullcontext()


class FakeChannel:
    def __init__(self):
        self.published = []  # (tag, exchange, routing_key, body, properties)
        self.exchanges = []

    def add_on_close_callback(self, callback):
        pass

    def confirm_delivery(self, ack_nack_callback, callback):
        callback(None)

    def exchange_declare(self, exchange, exchange_type, durable, auto_delete, callback):
        assert (exchange_type, durable, auto_delete) == ("topic", True, False)  # as nameko declares it
        self.exchanges.append(exchange)
        callback(None)

    def basic_publish(self, exchange, routing_key, body, properties):
        self.published.append((len(self.published) + 1, exchange, routing_key, body, properties))

    def positions(self, since=0):
        return [orjson.loads(body)["position"] for _, _, _, body, _ in self.published[since:]]


def ack(relay, tag, multiple=False):
    relay._on_confirm(frame.Method(1, spec.Basic.Ack(delivery_tag=tag, multiple=multiple)))


def nack(relay, tag, multiple=False):
    relay._on_confirm(frame.Method(1, spec.Basic.Nack(delivery_tag=tag, multiple=multiple)))


SECRET_NAME, SECRET_ID = "王秘密", "clerk-secret-7731"


@pytest.fixture
def store(event_store_uri):
    with open_store(event_store_uri, validator=contracts.registry) as store:
        events = [NewEvent("ClerkSignedIn", {"desk": "main-gate", "shift_date": "2026-05-01",
                                             "clerk_id": f"{SECRET_ID}-{n}", "clerk_name": SECRET_NAME,
                                             "signed_in_at": "2026-05-01T07:00:00+08:00"}, utc_now(),
                           metadata={"actor": f"{SECRET_ID}-{n}", "desk": "main-gate"})
                  for n in range(10)]
        store.append("duty_day-main-gate-2026-05-01", events, expected_version=0)
        yield store


@pytest.fixture
def relay(store):
    """A leading relay whose channel has just opened in confirm mode."""
    relay = Relay(store, "amqp://guest:guest@localhost:5672/", contracts.registry.source_of, window=4,
                  batch_size=4, checkpoint_interval=0)
    relay.leading = True
    relay._ioloop = FakeLoop()
    relay._connection = FakeConnection()
    relay.channel = FakeChannel()
    relay._on_channel_open(relay.channel)
    relay._ioloop.run_ready()
    return relay


def test_the_relay_publishes_no_more_than_its_window_before_confirms(relay, store):
    assert relay.channel.positions() == [1, 2, 3, 4]
    assert relay.channel.exchanges == ["duty_log.events"]
    assert store.get_checkpoint("relay") == 0


def test_out_of_order_and_multiple_confirms_move_the_checkpoint_to_the_confirmed_prefix_only(relay, store):
    ack(relay, 2)
    ack(relay, 4)
    relay._ioloop.run_ready()
    assert store.get_checkpoint("relay") == 0, "position 1 is not confirmed yet"
    ack(relay, 1)
    relay._ioloop.run_ready()
    assert store.get_checkpoint("relay") == 2, "3 is still open"
    assert relay.channel.positions()[4:] == [5, 6], "two places free in the window: two more"
    ack(relay, 5, multiple=True)  # 3 and 5 (4 was acked before)
    relay._ioloop.run_ready()
    assert store.get_checkpoint("relay") == 5
    ack(relay, 8, multiple=True)
    relay._ioloop.run_ready()
    ack(relay, 10, multiple=True)
    relay._ioloop.run_ready()
    assert store.get_checkpoint("relay") == 10
    assert relay.channel.positions() == list(range(1, 11))


def test_a_nack_republishes_from_the_first_unconfirmed_message(relay, store):
    ack(relay, 1)
    ack(relay, 3)
    nack(relay, 2)
    relay._ioloop.run_ready()
    assert store.get_checkpoint("relay") == 1
    assert relay.channel.positions(since=4) == [2, 3, 4, 5], "everything after the confirmed prefix, again"
    ack(relay, 4)  # a late ack of the old tag 4 (position 4): not taken for the new tag of position 4
    relay._ioloop.run_ready()
    assert store.get_checkpoint("relay") == 1
    ack(relay, 8, multiple=True)  # tags 5-8 are positions 2-5 now
    relay._ioloop.run_ready()
    assert store.get_checkpoint("relay") == 5


def test_a_lost_channel_republishes_everything_unconfirmed_on_the_next_one(relay, store):
    ack(relay, 1)
    relay._ioloop.run_ready()
    relay._connection = None
    relay._lost_connection(ConnectionError("broker gone"))
    second = FakeChannel()
    relay._connection = FakeConnection()
    relay._on_channel_open(second)
    relay._ioloop.run_ready()
    assert second.positions() == [2, 3, 4, 5]
    assert store.get_checkpoint("relay") == 1


def test_the_notices_carry_no_data_and_no_metadata(relay, store):
    for tag, exchange, routing_key, body, properties in relay.channel.published:
        text = body.decode()
        assert SECRET_NAME not in text and SECRET_ID not in text
        assert SECRET_NAME not in str(properties.headers) and SECRET_ID not in str(properties.headers)
        notice_ = orjson.loads(body)
        assert set(notice_) == set(EventEnvelope().fields)
        assert (exchange, routing_key, properties.delivery_mode) == ("duty_log.events", "ClerkSignedIn", 2)
        assert properties.message_id == notice_["event_id"]


def test_a_notice_is_what_the_envelope_contract_dumps_and_loads(store):
    schema = EventEnvelope()
    for record in store.read_all():
        body = orjson.loads(notice(record))
        assert body == schema.dump(record._asdict())
        assert schema.load(body)["position"] == record.position


def test_relay_settings_come_from_the_config_keys_or_else_the_environment():
    settings = relay_settings({"RELAY_WINDOW": 50, "RELAY_LEASE_TTL": "3"}, environ={"RELAY_WINDOW": "7",
                                                                                       "RELAY_LEASE_RENEW": "1"})
    assert (settings["window"], settings["lease_ttl"], settings["lease_renew"]) == (50, 3.0, 1.0)


def test_a_lease_renewal_slower_than_its_ttl_is_refused(store):
    with pytest.raises(ValueError, match="lease_renew"):
        Relay(store, "amqp://localhost/", contracts.registry.source_of, lease_ttl=1, lease_renew=1)


def test_the_coalescing_connection_writes_a_message_at_once_and_a_batch_at_once_in_order():
    connection = object.__new__(CoalescingConnection)  # no socket: only the output path is tested
    connection.frames_sent = connection.bytes_sent = 0
    writes = []
    connection._adapter_emit_data = writes.append
    connection._transport = object()
    connection._output_marshaled_frames([b"m1", b"h1", b"b1"])
    assert writes == [b"m1h1b1"]
    with connection.batched():
        connection._output_marshaled_frames([b"m2", b"h2", b"b2"])
        connection._output_marshaled_frames([b"m3"])
        assert writes == [b"m1h1b1"], "held until the end of the batch"
    assert writes == [b"m1h1b1", b"m2h2b2m3"]
    assert (connection.frames_sent, connection.bytes_sent) == (7, 14)
