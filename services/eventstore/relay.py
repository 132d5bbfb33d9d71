"""The relay: tails the event store by position and publishes a thin notice of
every event to RabbitMQ in nameko's event format, so ``@event_handler``
consumers get it.

- exchange ``<source service>.events`` (topic, durable, as nameko declares it),
  routing key = event type, body = the JSON notice (``contracts.envelope``:
  position, ids, type, times; never ``data`` or ``metadata``, so no personal
  data reaches the broker), ``message_id`` = event id, persistent delivery;
- publisher confirms with a window: up to ``window`` messages are out
  unconfirmed at once. The broker confirms them in any order, several at a
  time; the checkpoint (kept in the store's database) moves only to the end of
  the confirmed prefix (:class:`ConfirmWindow`). A nack republishes from the
  first unconfirmed message; a lost connection or a crash republishes what was
  not confirmed. Nothing is lost; an event may be published again (consumers
  deduplicate by position or event id);
- a lease in the store lets a second relay stand by: the leader renews it every
  ``lease_renew`` seconds, a standby asks as often and takes over once it has
  expired (``lease_ttl``); a relay that stops cleanly releases it at once.

Runs without eventlet, on pika's asynchronous ``SelectConnection``
(:class:`CoalescingConnection`: a batch of publishes is one socket write): one
thread, one I/O loop, store calls made from its callbacks (each is short):
``python -m services.eventstore.relay``. Settings: the RELAY_* keys of
``deploy/config.yaml`` (docs/operations.md, "The relay").
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import operator
import os
import signal
import socket
import threading
import time
import uuid

import orjson
import pika
import pika.exceptions
from pika import spec
from pika.adapters.select_connection import IOLoop

from contracts.envelope import EventEnvelope
from services.chassis import logging as vsc_logging
from services.chassis.config import load_config, pika_url
from services.eventstore import EventStore, EventStoreError, StoredEvent

CHECKPOINT = "relay"
LEASE = "relay"

DEFAULTS = {  # deploy/config.yaml's RELAY_* keys
    "window": 1000, "batch_size": 500, "poll_interval": 0.1, "lease_ttl": 2.0, "lease_renew": 0.4,
    "checkpoint_interval": 0.2,
}

_MAX_BACKOFF = 5.0
_STOP_GRACE = 5.0  # seconds a stopping relay waits for outstanding confirms
_PROGRESS_EVERY = 10.0  # seconds between relay.progress log lines while publishing


class ConfirmWindow:
    """Which published positions the broker has confirmed.

    Messages go out on one channel in position order, the n-th with delivery
    tag n. The broker confirms in any order, a single tag or every tag up to
    one (``multiple``). :attr:`confirmed` is the highest position at or below
    which everything is confirmed: the only place a checkpoint may move to.
    Pure bookkeeping, no I/O."""

    def __init__(self, confirmed: int = 0):
        self.confirmed = confirmed
        self._pending: collections.deque[tuple[int, int]] = collections.deque()  # (tag, position)
        self._acked: set[int] = set()  # tags confirmed out of order, still behind an unconfirmed one

    def __len__(self) -> int:
        """Messages published after :attr:`confirmed` (some may be confirmed)."""
        return len(self._pending)

    def sent(self, tag: int, position: int) -> None:
        if self._pending and (tag <= self._pending[-1][0] or position <= self._pending[-1][1]):
            raise ValueError("tags and positions must increase")
        self._pending.append((tag, position))

    def _mine(self, tag: int) -> bool:
        # a tag of a message published before the last reset is not ours any more
        return bool(self._pending) and self._pending[0][0] <= tag <= self._pending[-1][0]

    def ack(self, tag: int, multiple: bool = False) -> bool:
        """Record a Basic.Ack; True when :attr:`confirmed` moved."""
        before = self.confirmed
        pending, acked = self._pending, self._acked
        if multiple:
            while pending and pending[0][0] <= tag:
                done, self.confirmed = pending.popleft()
                acked.discard(done)
        elif self._mine(tag):
            acked.add(tag)
        while pending and pending[0][0] in acked:
            acked.discard(pending[0][0])
            self.confirmed = pending.popleft()[1]
        return self.confirmed != before

    def nack(self, tag: int, multiple: bool = False) -> bool:
        """Record a Basic.Nack. True when messages of ours were refused: then
        everything after :attr:`confirmed` must be published again (and the
        window is empty); False for a stale tag from before a reset."""
        if not self._pending or tag < self._pending[0][0] or (not multiple and not self._mine(tag)):
            return False
        self.reset()
        return True

    def reset(self, confirmed: int | None = None) -> None:
        """Forget every unconfirmed message (a new channel; or after a nack);
        :attr:`confirmed` stays, or moves up to ``confirmed``."""
        self._pending.clear()
        self._acked.clear()
        if confirmed is not None:
            self.confirmed = max(self.confirmed, confirmed)


_NOTICE_FIELDS = tuple(EventEnvelope().dump_fields)
_notice_values = operator.attrgetter(*_NOTICE_FIELDS)


def notice(record: StoredEvent) -> bytes:
    """The message body for one record: the fields of ``contracts.envelope``,
    taken straight from the record (plain ints and strings already, so this is
    what the schema's ``dump`` gives, at a twentieth of its cost)."""
    return orjson.dumps(dict(zip(_NOTICE_FIELDS, _notice_values(record))))


class CoalescingConnection(pika.SelectConnection):
    """pika's ``SelectConnection`` with fewer writes to the socket. Stock pika
    1.4 hands every frame to the socket alone: three system calls per message
    (method, header, body), which on this kind of VM cost more CPU than all
    the rest the relay does for a message (bench/RESULTS.md). Here a message's
    frames are one write, and inside :meth:`batched` a whole batch is.
    Overrides one private hook of pika 1.4 (pinned in requirements.lock)."""

    _held: list | None = None

    def _output_marshaled_frames(self, marshaled_frames) -> None:
        self.frames_sent += len(marshaled_frames)
        self.bytes_sent += sum(map(len, marshaled_frames))
        if self._held is not None:
            self._held.extend(marshaled_frames)
        else:
            self._adapter_emit_data(b"".join(marshaled_frames))

    @contextlib.contextmanager
    def batched(self):
        """Frames output inside the block go out as one write at its end, in order."""
        self._held = held = []
        try:
            yield
        finally:
            self._held = None
            if held and getattr(self, "_transport", None) is not None:
                self._adapter_emit_data(b"".join(held))


class Relay:
    def __init__(self, store: EventStore, amqp_url: str, source_of, *, window: int = DEFAULTS["window"],
                 batch_size: int = DEFAULTS["batch_size"], poll_interval: float = DEFAULTS["poll_interval"],
                 lease_ttl: float = DEFAULTS["lease_ttl"], lease_renew: float = DEFAULTS["lease_renew"],
                 checkpoint_interval: float = DEFAULTS["checkpoint_interval"], owner: str | None = None,
                 checkpoint_name: str = CHECKPOINT, lease_name: str = LEASE, log=None):
        if window < 1 or batch_size < 1:
            raise ValueError("window and batch_size must be at least 1")
        if not 0 < lease_renew < lease_ttl:
            raise ValueError("lease_renew must be above 0 and below lease_ttl")
        self.store = store
        self.amqp_url = pika_url(amqp_url)
        self.source_of = source_of  # event type -> publishing service name
        self.window_size, self.batch_size, self.poll_interval = window, batch_size, poll_interval
        # top the window up once this much room is free, not for every confirm
        self._refill = max(1, min(batch_size, window // 4))
        self.lease_ttl, self.lease_renew, self.checkpoint_interval = lease_ttl, lease_renew, checkpoint_interval
        self.checkpoint_name, self.lease_name = checkpoint_name, lease_name
        self.owner = owner or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self.log = log or vsc_logging.get_logger(service="relay", owner=self.owner)
        self.stopping = threading.Event()
        self.published = 0  # messages sent (republished ones counted again)
        self.window = ConfirmWindow()
        self.leading = False
        self._ioloop: IOLoop | None = None
        self._connection = self._channel = None
        self._ready = False  # a channel in confirm mode is open
        self._closing_on_purpose = False
        self._close_error = None  # why this relay closed its connection, if for a failure
        self._tag = 0
        self._read_after = 0
        self._declared: set[str] = set()
        self._declaring: str | None = None
        self._timers: dict[str, object] = {}
        self._backoff = 0.5
        self._saved, self._saved_at = 0, 0.0
        self._progress_at, self._progress_count = 0.0, 0
        self._shutting_down = False

    # -- timers ------------------------------------------------------------------
    def _later(self, name: str, delay: float, callback) -> None:
        """Run ``callback`` after ``delay``, once: a sooner request replaces a later one."""
        timer = self._timers.get(name)
        due = time.monotonic() + delay
        if timer is not None:
            if timer[1] <= due:
                return
            self._ioloop.remove_timeout(timer[0])

        def fire():
            self._timers.pop(name, None)
            callback()
        self._timers[name] = (self._ioloop.call_later(delay, fire), due)

    def _cancel_timers(self, *names: str) -> None:
        for name in names or list(self._timers):
            timer = self._timers.pop(name, None)
            if timer is not None:
                self._ioloop.remove_timeout(timer[0])

    # -- the lease ---------------------------------------------------------------
    def _check_lease(self) -> None:
        if self._shutting_down:
            return
        try:
            holds = self.store.acquire_lease(self.lease_name, self.owner, self.lease_ttl)
        except EventStoreError as exc:
            self.log.warning("relay.store_unavailable", error=type(exc).__name__, cause=str(exc)[:200])
        else:
            if holds and not self.leading:
                self.log.info("relay.lease", holds=True)
                self.leading = True
                self._connect()
            elif not holds and self.leading:
                self.log.info("relay.lease", holds=False)
                self.leading = False
                self._save_checkpoint()
                self._close_connection()
        self._later("lease", self.lease_renew, self._check_lease)

    # -- the broker ----------------------------------------------------------------
    def _connect(self) -> None:
        if self._connection is not None or not self.leading or self._shutting_down:
            return
        params = pika.URLParameters(self.amqp_url)
        params.heartbeat = 30
        params.blocked_connection_timeout = 30
        params.connection_attempts = 1
        self._closing_on_purpose = False
        self._connection = CoalescingConnection(
            params, on_open_callback=self._on_connection_open, on_open_error_callback=self._on_connection_closed,
            on_close_callback=self._on_connection_closed, custom_ioloop=self._ioloop)

    def _close_connection(self, error: BaseException | None = None) -> None:
        """Close the connection; with ``error``, reconnect after a backoff (if leading)."""
        self._ready = False
        self.window.reset()
        if self._connection is not None and not (self._connection.is_closing or self._connection.is_closed):
            self._closing_on_purpose, self._close_error = True, error
            self._connection.close()  # while still opening, pika aborts it (then the open-error callback)

    def _on_connection_open(self, connection) -> None:
        connection.channel(on_open_callback=self._on_channel_open)

    def _on_channel_open(self, channel) -> None:
        self._channel = channel
        channel.add_on_close_callback(self._on_channel_closed)
        channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=self._on_confirm_mode)

    def _on_confirm_mode(self, _frame) -> None:
        try:
            stored = self.store.get_checkpoint(self.checkpoint_name)
        except EventStoreError as exc:
            self.log.warning("relay.store_unavailable", error=type(exc).__name__, cause=str(exc)[:200])
            self._close_connection(exc)  # and try again after a backoff
            return
        # another relay may have moved on while this one stood by
        self.window.reset(stored)
        self._saved = max(self._saved, stored)
        self._read_after = self.window.confirmed
        self._tag = 0
        self._declared.clear()
        self._declaring = None
        self._ready = True
        self._backoff = 0.5
        self.log.info("relay.connected", position=self._read_after)
        self._later("pump", 0, self._pump)

    def _on_channel_closed(self, _channel, reason) -> None:
        self._channel = None
        self._ready = False
        connection = self._connection
        if connection is not None and not (connection.is_closing or connection.is_closed):
            # the broker closed the channel alone (e.g. a refused declare)
            self.log.warning("relay.channel_closed", cause=str(reason)[:200])
            self._close_connection(reason)

    def _on_connection_closed(self, _connection, reason) -> None:
        if self._closing_on_purpose:
            self._lost_connection(self._close_error, logged=True)
        else:
            self._lost_connection(reason)

    def _lost_connection(self, error, logged: bool = False) -> None:
        self._connection = self._channel = None
        self._ready = False
        self._closing_on_purpose, self._close_error = False, None
        self.window.reset()
        self._cancel_timers("pump")
        if self._shutting_down:
            self._ioloop.stop()
            return
        delay = 0.0
        if error is not None:
            if not logged:
                self.log.warning("relay.broker_unavailable", error=type(error).__name__,
                                 cause=str(error)[:200], retry_in=self._backoff)
            delay, self._backoff = self._backoff, min(self._backoff * 2, _MAX_BACKOFF)
        if self.leading:
            self._later("connect", delay, self._connect)

    # -- publishing ------------------------------------------------------------------
    def _pump(self) -> None:
        """Publish what is after the read position until the window is full."""
        if not (self.leading and self._ready) or self._shutting_down:
            return
        room = self.window_size - len(self.window)
        if room <= 0:
            return  # the next confirm pumps again
        try:
            batch = list(self.store.read_all(after=self._read_after, limit=min(room, self.batch_size)))
        except EventStoreError as exc:
            self.log.warning("relay.store_unavailable", error=type(exc).__name__, cause=str(exc)[:200],
                             retry_in=self._backoff)
            self._later("pump", self._backoff, self._pump)
            self._backoff = min(self._backoff * 2, _MAX_BACKOFF)
            return
        self._backoff = 0.5
        if not batch:
            self._later("pump", self.poll_interval, self._pump)
            return
        channel = self._channel
        try:
            with self._connection.batched():
                self._publish_batch(channel, batch)
        except pika.exceptions.AMQPError as exc:  # the channel closed under us: its callbacks reconnect
            self.log.warning("relay.publish_failed", error=type(exc).__name__, cause=str(exc)[:200])
            return
        self._progress(len(batch))
        self._later("pump", 0, self._pump)  # lets confirms and timers in between batches

    def _publish_batch(self, channel, batch) -> None:
        for record in batch:
            exchange = self._exchange(record.type)
            if exchange is None:
                return  # declaring it; pumps again when declared
            self._tag += 1
            channel.basic_publish(exchange, record.type, notice(record), pika.BasicProperties(
                content_type="application/json", content_encoding="utf-8",
                delivery_mode=2, message_id=record.event_id,
                headers={"vsc.position": record.position, "vsc.stream_id": record.stream_id}))
            self.window.sent(self._tag, record.position)
            self._read_after = record.position
            self.published += 1

    def _exchange(self, event_type: str) -> str | None:
        exchange = f"{self.source_of(event_type)}.events"
        if exchange in self._declared:
            return exchange
        if self._declaring is None:
            self._declaring = exchange

            def declared(_frame):
                self._declared.add(exchange)
                self._declaring = None
                self._later("pump", 0, self._pump)
            # the same arguments nameko's EventDispatcher/EventHandler use
            self._channel.exchange_declare(exchange, exchange_type="topic", durable=True, auto_delete=False,
                                           callback=declared)
        return exchange if exchange in self._declared else None

    def _on_confirm(self, frame) -> None:
        method = frame.method
        if isinstance(method, spec.Basic.Ack):
            if self.window.ack(method.delivery_tag, method.multiple):
                self._checkpoint_soon()
        elif self.window.nack(method.delivery_tag, method.multiple):
            self.log.warning("relay.nacked", republish_after=self.window.confirmed)
            self._read_after = self.window.confirmed
        if self.window_size - len(self.window) >= self._refill:
            self._later("pump", 0, self._pump)

    # -- the checkpoint ------------------------------------------------------------------
    def _checkpoint_soon(self) -> None:
        wait = self._saved_at + self.checkpoint_interval - time.monotonic()
        if wait <= 0:
            self._save_checkpoint()
        else:
            self._later("checkpoint", wait, self._save_checkpoint)

    def _save_checkpoint(self) -> None:
        confirmed = self.window.confirmed
        if confirmed <= self._saved:
            return
        try:
            self.store.save_checkpoint(self.checkpoint_name, confirmed)
        except EventStoreError as exc:
            self.log.warning("relay.store_unavailable", error=type(exc).__name__, cause=str(exc)[:200])
            if self._ioloop is not None and not self._shutting_down:
                self._later("checkpoint", max(self.checkpoint_interval, 0.5), self._save_checkpoint)
            return
        self._saved, self._saved_at = confirmed, time.monotonic()

    def _progress(self, count: int) -> None:
        self._progress_count += count
        now = time.monotonic()
        if now - self._progress_at >= _PROGRESS_EVERY:
            self.log.info("relay.progress", published=self._progress_count, position=self._read_after,
                          confirmed=self.window.confirmed)
            self._progress_at, self._progress_count = now, 0

    # -- running and stopping ----------------------------------------------------------
    def run(self) -> None:
        """Publish until :meth:`stop`; stand by while another relay holds the lease."""
        self._ioloop = IOLoop()
        try:
            if self.stopping.is_set():
                return
            self._ioloop.call_later(0, self._check_lease)
            self._ioloop.start()
        finally:
            self._cancel_timers()
            self._ioloop.close()
            self._ioloop = None
        self.log.info("relay.stopped", published=self.published, position=self._saved)

    def stop(self, *_args) -> None:
        """Stop soon (safe from a signal handler or another thread): wait a little
        for outstanding confirms, save the checkpoint, release the lease."""
        if self.stopping.is_set():
            return  # a second signal must not re-enter the I/O loop's waker
        self.stopping.set()
        ioloop = self._ioloop
        if ioloop is not None:
            ioloop.add_callback_threadsafe(self._shutdown)

    def _shutdown(self) -> None:
        if self._shutting_down:
            return
        self._shutting_down = True
        self._cancel_timers()
        deadline = time.monotonic() + _STOP_GRACE

        def finish():
            if len(self.window) and self._ready and time.monotonic() < deadline:
                self._later("finish", 0.02, finish)
                return
            self._save_checkpoint()
            if self.leading:
                try:
                    self.store.release_lease(self.lease_name, self.owner)
                except EventStoreError as exc:
                    self.log.warning("relay.store_unavailable", error=type(exc).__name__, cause=str(exc)[:200])
            if self._connection is not None and not self._connection.is_closed:
                self._close_connection()
                self._later("finish", _STOP_GRACE, self._ioloop.stop)  # in case the close never completes
            else:
                self._ioloop.stop()
        finish()


def relay_settings(config: dict, environ=None) -> dict:
    """Relay keyword arguments from the RELAY_* config keys; without a config
    file, from the environment variables of the same names."""
    environ = os.environ if environ is None else environ
    config = {**{key: value for key, value in environ.items() if key.startswith("RELAY_")}, **config}
    keys = {"window": ("RELAY_WINDOW", int), "batch_size": ("RELAY_BATCH_SIZE", int),
            "poll_interval": ("RELAY_POLL_INTERVAL", float), "lease_ttl": ("RELAY_LEASE_TTL", float),
            "lease_renew": ("RELAY_LEASE_RENEW", float),
            "checkpoint_interval": ("RELAY_CHECKPOINT_INTERVAL", float)}
    return {name: kind(config.get(key, DEFAULTS[name])) for name, (key, kind) in keys.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Publish the event store's events to RabbitMQ.")
    parser.add_argument("--config", default=None, help="YAML config (default: environment only)")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    vsc_logging.configure(config.get("LOG_LEVEL", "INFO"))
    import contracts
    from services.chassis.wiring import store_from_config
    store = store_from_config(config)
    relay = Relay(store, config["AMQP_URI"], contracts.registry.source_of, **relay_settings(config))
    signal.signal(signal.SIGTERM, relay.stop)
    signal.signal(signal.SIGINT, relay.stop)
    relay.run()
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
