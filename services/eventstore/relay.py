"""The relay: tails the event store by position and publishes every event to
RabbitMQ in nameko's event format, so ``@event_handler`` consumers get it.

- exchange ``<source service>.events`` (topic, durable, as nameko declares it),
  routing key = event type, body = the JSON envelope (``contracts.envelope``),
  ``message_id`` = event id, persistent delivery;
- publisher confirms: the checkpoint (kept in the store's database) moves only
  past events the broker has confirmed. A crash or a broker restart therefore
  loses nothing; it may publish an event again (consumers deduplicate by
  position or event id);
- a lease in the store lets a second relay stand by and take over when the
  first stops renewing it.

Runs without eventlet (pika is blocking): ``python -m services.eventstore.relay``.
"""
from __future__ import annotations

import argparse
import signal
import socket
import threading
import time
import uuid

import orjson
import pika
import pika.exceptions

from contracts.envelope import EventEnvelope
from services.chassis import logging as vsc_logging
from services.chassis.config import load_config, pika_url
from services.eventstore import EventStore, EventStoreError, StoredEvent

CHECKPOINT = "relay"
LEASE = "relay"

_AMQP_ERRORS = (pika.exceptions.AMQPError, socket.error, OSError)


class Relay:
    def __init__(self, store: EventStore, amqp_url: str, source_of, *, batch_size: int = 500,
                 poll_interval: float = 0.2, lease_ttl: float = 10.0, owner: str | None = None,
                 log=None):
        self.store = store
        self.amqp_url = pika_url(amqp_url)
        self.source_of = source_of  # event type -> publishing service name
        self.batch_size, self.poll_interval, self.lease_ttl = batch_size, poll_interval, lease_ttl
        self.owner = owner or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self.log = log or vsc_logging.get_logger(service="relay", owner=self.owner)
        self.stopping = threading.Event()
        self._connection = None
        self._channel = None
        self._declared: set[str] = set()
        self._envelope = EventEnvelope()
        self.published = 0

    # -- AMQP ------------------------------------------------------------------
    def _connect(self):
        params = pika.URLParameters(self.amqp_url)
        params.heartbeat = 30
        params.blocked_connection_timeout = 30
        self._connection = pika.BlockingConnection(params)
        self._channel = self._connection.channel()
        self._channel.confirm_delivery()
        self._declared.clear()
        self.log.info("relay.connected")

    def _disconnect(self):
        try:
            if self._connection is not None and self._connection.is_open:
                self._connection.close()
        except _AMQP_ERRORS:
            pass
        self._connection = self._channel = None

    def _exchange(self, event_type: str) -> str:
        exchange = f"{self.source_of(event_type)}.events"
        if exchange not in self._declared:
            # the same arguments nameko's EventDispatcher/EventHandler use
            self._channel.exchange_declare(exchange, exchange_type="topic", durable=True, auto_delete=False)
            self._declared.add(exchange)
        return exchange

    def _publish(self, record: StoredEvent) -> None:
        body = orjson.dumps(self._envelope.dump(record._asdict()))
        self._channel.basic_publish(
            exchange=self._exchange(record.type),
            routing_key=record.type,
            body=body,
            properties=pika.BasicProperties(
                content_type="application/json", content_encoding="utf-8",
                delivery_mode=pika.DeliveryMode.Persistent, message_id=record.event_id,
                headers={"vsc.position": record.position, "vsc.stream_id": record.stream_id},
            ),
        )

    # -- the loop --------------------------------------------------------------
    def relay_once(self) -> int:
        """Publish the next batch after the checkpoint; returns how many."""
        checkpoint = self.store.get_checkpoint(CHECKPOINT)
        batch = list(self.store.read_all(after=checkpoint, limit=self.batch_size))
        if not batch:
            return 0
        if self._channel is None:
            self._connect()
        for record in batch:
            # with confirms on, basic_publish returns once the broker has the
            # message (or raises): then the checkpoint may move past it
            self._publish(record)
            self.published += 1
        self.store.save_checkpoint(CHECKPOINT, batch[-1].position)
        self.log.info("relay.published", count=len(batch), position=batch[-1].position)
        return len(batch)

    def run(self) -> None:
        """Publish until :meth:`stop`; stand by while another relay holds the lease."""
        backoff, leading = 0.5, False
        renew_at = 0.0
        while not self.stopping.is_set():
            now = time.monotonic()
            if now >= renew_at:
                holds = self.store.acquire_lease(LEASE, self.owner, self.lease_ttl)
                if holds != leading:
                    self.log.info("relay.lease", holds=holds)
                    leading = holds
                    if not holds:
                        self._disconnect()
                renew_at = now + self.lease_ttl / 3
            if not leading:
                self.stopping.wait(self.lease_ttl / 3)
                continue
            try:
                if self.relay_once() == 0:
                    self.stopping.wait(self.poll_interval)
                backoff = 0.5
            except _AMQP_ERRORS as exc:
                self.log.warning("relay.broker_unavailable", error=type(exc).__name__, detail=str(exc)[:200],
                                 retry_in=backoff)
                self._disconnect()
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 10.0)
            except EventStoreError as exc:
                self.log.warning("relay.store_unavailable", error=type(exc).__name__, detail=str(exc)[:200],
                                 retry_in=backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        self._disconnect()
        self.store.release_lease(LEASE, self.owner)
        self.log.info("relay.stopped", published=self.published)

    def stop(self, *_args) -> None:
        self.stopping.set()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Publish the event store's events to RabbitMQ.")
    parser.add_argument("--config", default=None, help="YAML config (default: environment only)")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    vsc_logging.configure(config.get("LOG_LEVEL", "INFO"))
    import contracts
    from services.chassis.wiring import store_from_config
    store = store_from_config(config)
    relay = Relay(store, config["AMQP_URI"], contracts.registry.source_of,
                  lease_ttl=float(config.get("RELAY_LEASE_TTL", 10)),
                  batch_size=int(config.get("RELAY_BATCH_SIZE", 500)))
    signal.signal(signal.SIGTERM, relay.stop)
    signal.signal(signal.SIGINT, relay.stop)
    relay.run()
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
