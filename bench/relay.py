"""Benchmark: the relay against a bare pika publisher, store to consumer.

Run from the repository root (RabbitMQ on localhost with its management API)::

    .venv/bin/python bench/relay.py                 # 20,000 events, 5 repetitions, 3 takeovers
    .venv/bin/python bench/relay.py --events 5000 --reps 5 --takeovers 0

Everything runs in a vhost of its own, made through the management API and
deleted afterwards, so other users of the broker see none of it.

- **relay**: ``--events`` ClerkSignedIn events are appended to a fresh SQLite
  store first (not timed). Then a :class:`services.eventstore.relay.Relay`
  (the real one: lease, store reads, notices, windowed confirms, checkpoint)
  runs in this process until everything has reached the consumer.
- **bare**: a minimal pika ``SelectConnection`` publisher sends the same
  number of messages, the very same bodies (the relay's notices of the same
  records, built before timing) with the same properties, exchange and routing
  key, in the same confirm mode (publisher confirms, ``--window`` messages
  outstanding, topped up as the relay does), on stock pika.
- **bare_coalescing**: the same bare publisher on the relay's
  ``CoalescingConnection`` (each top-up one socket write, as each relay batch
  is): what is left is the relay's own cost (store reads, notices, checkpoint,
  lease), without the transport's gain. Reported beside, not instead.
- **consumer**: a separate process (pika ``BlockingConnection``, auto-ack,
  prefetch ``--window``) on a durable queue bound to the exchange; it says
  when the last message arrived. A side's rate = messages / (last arrival -
  moment the side started, before it connected). Each side's publishing
  thread's CPU time per message is reported too (``*_cpu_us_per_event``):
  less disturbed than the rates by other processes on a shared machine.

The sides take turns (who goes first rotates); the rates are the median of
``--reps`` repetitions, ``relay_ratio`` the median of the per-repetition
ratios relay / bare (``relay_ratio_to_bare_coalescing`` likewise).

**Takeover**: a relay process leads, a standby relay process waits; the leader
is killed with SIGKILL (at a random moment of its renewal cycle), one event is
appended at once, and the time until that event reaches the consumer is the
takeover time (``takeover_s``: median of ``--takeovers``; ``takeover_max_s``).
Then the same after a clean stop (SIGTERM), which releases the lease
(``handover_after_stop_s``). Both use the relay's configured defaults.

The last line of output is one JSON object.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import pika  # noqa: E402
import pika.exceptions  # noqa: E402
from pika import spec  # noqa: E402

import contracts  # noqa: E402
from services.chassis import logging as vsc_logging  # noqa: E402
from services.eventstore import NewEvent, open_store  # noqa: E402
from services.eventstore.interface import utc_now  # noqa: E402
from services.eventstore.relay import DEFAULTS, LEASE, CoalescingConnection, Relay, notice  # noqa: E402

EXCHANGE = "duty_log.events"  # ClerkSignedIn's source is duty_log


# -- the broker: a vhost of our own ----------------------------------------------------------------
class Vhost:
    def __init__(self, management: str, user: str, password: str, host: str, port: int):
        self.name = f"bench-relay-{uuid.uuid4().hex[:8]}"
        self.management, self.auth = management.rstrip("/"), base64.b64encode(f"{user}:{password}".encode()).decode()
        quoted = urllib.parse.quote(self.name, safe="")
        self.amqp_uri = f"amqp://{user}:{password}@{host}:{port}/{quoted}"

    def _call(self, method: str, path: str, body=None):
        request = urllib.request.Request(f"{self.management}/api/{path}", method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Authorization": f"Basic {self.auth}",
                                                  "content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.read()

    def __enter__(self):
        quoted = urllib.parse.quote(self.name, safe="")
        for attempt in range(60):  # the shared broker may be restarting (a reliability test does that)
            try:
                self._call("PUT", f"vhosts/{quoted}")
                break
            except OSError:
                if attempt == 59:
                    raise
                time.sleep(1)
        user = base64.b64decode(self.auth).decode().split(":", 1)[0]
        self._call("PUT", f"permissions/{quoted}/{urllib.parse.quote(user, safe='')}",
                   {"configure": ".*", "write": ".*", "read": ".*"})
        return self

    def __exit__(self, *exc_info):
        self._call("DELETE", f"vhosts/{urllib.parse.quote(self.name, safe='')}")


# -- the consumer (a separate process) -------------------------------------------------------------
def consume(amqp_uri: str, queue: str, expect: int, until_position: int, prefetch: int) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    channel = connection.channel()
    channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True, auto_delete=False)
    channel.queue_declare(queue, durable=True)
    channel.queue_bind(queue, EXCHANGE, routing_key="#")
    channel.basic_qos(prefetch_count=prefetch)
    print("ready", flush=True)
    count, first = 0, None
    for _method, _properties, body in channel.consume(queue, auto_ack=True):
        count += 1
        if first is None:
            first = time.monotonic()
        if count >= expect or (until_position and json.loads(body)["position"] >= until_position):
            break
    last = time.monotonic()
    channel.cancel()
    channel.queue_delete(queue)
    connection.close()
    print(json.dumps({"count": count, "first": first, "last": last}), flush=True)


class Consumer:
    def __init__(self, amqp_uri: str, expect: int = 0, until_position: int = 0, prefetch: int = 1000):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--consume", amqp_uri, "--queue", f"q-{uuid.uuid4().hex[:8]}",
             "--expect", str(expect or 10**12), "--until-position", str(until_position),
             "--prefetch", str(prefetch)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the consumer did not start")

    def result(self, timeout: float = 300) -> dict:
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        if self.proc.returncode != 0:
            raise RuntimeError(f"the consumer failed (exit {self.proc.returncode})")
        return json.loads(out.strip().splitlines()[-1])


# -- the bare publisher ---------------------------------------------------------------------------
def bare_publish(amqp_uri: str, messages: list[tuple[str, bytes, str, int, str]], window: int, batch: int,
                 coalescing: bool = False) -> None:
    """Publish every message with confirms, at most ``window`` unconfirmed, topped up
    once ``min(batch, window // 4)`` are free (as the relay does). ``coalescing``:
    on the relay's CoalescingConnection, each top-up one write, as the relay's batches."""
    refill = max(1, min(batch, window // 4))
    state = {"next": 0, "tag": 0, "confirmed": 0, "outstanding": set()}
    total = len(messages)
    ioloop_holder = {}  # the channel, once open

    def publish(channel):
        with connection.batched() if coalescing else contextlib.nullcontext():
            publish_some(channel)

    def publish_some(channel):
        room = window - len(state["outstanding"])
        while room > 0 and state["next"] < total:
            routing_key, body, event_id, position, stream_id = messages[state["next"]]
            channel.basic_publish(EXCHANGE, routing_key, body, pika.BasicProperties(
                content_type="application/json", content_encoding="utf-8", delivery_mode=2,
                message_id=event_id, headers={"vsc.position": position, "vsc.stream_id": stream_id}))
            state["next"] += 1
            state["tag"] += 1
            state["outstanding"].add(state["tag"])
            room -= 1

    def on_confirm(frame):
        method = frame.method
        if not isinstance(method, spec.Basic.Ack):
            raise RuntimeError("the broker refused a message")
        tag = method.delivery_tag
        if method.multiple:
            done = {t for t in state["outstanding"] if t <= tag}
            state["outstanding"] -= done
        else:
            state["outstanding"].discard(tag)
        if state["next"] >= total and not state["outstanding"]:
            connection.close()
        elif window - len(state["outstanding"]) >= refill:
            publish(ioloop_holder["channel"])

    def on_channel(channel):
        ioloop_holder["channel"] = channel
        channel.confirm_delivery(on_confirm, callback=lambda _frame: publish(channel))

    failures = []

    def on_open_error(c, error):
        failures.append(error)
        c.ioloop.stop()

    connection = (CoalescingConnection if coalescing else pika.SelectConnection)(
        pika.URLParameters(amqp_uri), on_open_callback=lambda c: c.channel(on_open_callback=on_channel),
        on_open_error_callback=on_open_error, on_close_callback=lambda c, _reason: c.ioloop.stop())
    connection.ioloop.start()
    if failures:
        raise RuntimeError(f"the bare publisher could not connect: {failures[0]!r}")


# -- one repetition of each side ------------------------------------------------------------------
def run_relay(store, amqp_uri: str, total: int, window: int, batch: int, rep: int) -> tuple[float, float]:
    consumer = Consumer(amqp_uri, expect=total, prefetch=window)
    name = f"bench-{rep}-{uuid.uuid4().hex[:6]}"  # a fresh checkpoint and lease for every attempt
    relay = Relay(store, amqp_uri, contracts.registry.source_of, window=window, batch_size=batch,
                  checkpoint_name=name, lease_name=name)
    cpu = {}

    def run():
        started_cpu = time.thread_time()
        relay.run()
        cpu["s"] = time.thread_time() - started_cpu
    thread = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    thread.start()
    try:
        result = consumer.result()
    finally:
        relay.stop()
        thread.join(30)
    assert result["count"] == total, result
    assert store.get_checkpoint(name) == total
    return total / (result["last"] - started), cpu["s"] / total


def run_bare(messages, amqp_uri: str, window: int, batch: int, coalescing: bool = False) -> tuple[float, float]:
    consumer = Consumer(amqp_uri, expect=len(messages), prefetch=window)
    started, started_cpu = time.monotonic(), time.thread_time()
    bare_publish(amqp_uri, messages, window, batch, coalescing)
    cpu = time.thread_time() - started_cpu
    result = consumer.result()
    assert result["count"] == len(messages), result
    return len(messages) / (result["last"] - started), cpu / len(messages)


# -- takeover --------------------------------------------------------------------------------------
def relay_process(store_uri: str, amqp_uri: str) -> subprocess.Popen:
    env = dict(os.environ, EVENT_STORE_URI=store_uri, AMQP_URI=amqp_uri, PYTHONPATH=ROOT, LOG_LEVEL="WARNING")
    for key in [k for k in env if k.startswith("RELAY_")]:
        del env[key]  # the relay's own defaults
    return subprocess.Popen([sys.executable, "-m", "services.eventstore.relay"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.01)


def takeovers(store, store_uri: str, amqp_uri: str, count: int, append_one) -> tuple[list[float], float | None]:
    """SIGKILL the leader ``count`` times, then stop one with SIGTERM; seconds until
    the next event reached a consumer each time."""
    leader = relay_process(store_uri, amqp_uri)
    processes = [leader]
    try:
        wait(lambda: store.lease(LEASE) is not None, 30, "a leader")
        wait(lambda: store.get_checkpoint("relay") == store.head().position, 60, "the leader to catch up")
        results = {}
        for index in range(count + 1):
            standby = relay_process(store_uri, amqp_uri)
            processes.append(standby)
            time.sleep(1.5)  # the standby is up and polling
            wait(lambda: store.get_checkpoint("relay") == store.head().position, 60, "the leader to catch up")
            time.sleep(random.uniform(0, DEFAULTS["lease_renew"]))
            consumer = Consumer(amqp_uri, until_position=store.head().position + 1)
            killed = time.monotonic()
            if index < count:
                leader.send_signal(signal.SIGKILL)
            else:
                leader.send_signal(signal.SIGTERM)
            append_one()
            result = consumer.result(timeout=60)
            results.setdefault("kill" if index < count else "stop", []).append(result["last"] - killed)
            leader.wait(30)
            leader = standby
        times = results.get("kill", [])
        stop = results.get("stop", [None])[0]
    finally:
        for proc in processes:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
    return times, stop


# -- main ------------------------------------------------------------------------------------------
def sign_in(n: int) -> NewEvent:
    return NewEvent("ClerkSignedIn", {"desk": f"desk{n % 10}", "shift_date": "2026-05-01",
                                      "clerk_id": f"clerk-{n:06d}", "clerk_name": "王小明",
                                      "signed_in_at": "2026-05-01T07:00:00+08:00"}, utc_now(),
                    metadata={"actor": f"clerk-{n:06d}", "desk": f"desk{n % 10}"})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--takeovers", type=int, default=3, help="SIGKILL takeovers to time (0: none)")
    parser.add_argument("--window", type=int, default=DEFAULTS["window"])
    parser.add_argument("--batch", type=int, default=DEFAULTS["batch_size"])
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=5672)
    parser.add_argument("--user", default="guest")
    parser.add_argument("--password", default="guest")
    parser.add_argument("--management", default="http://localhost:15672")
    parser.add_argument("--consume", metavar="AMQP_URI", help=argparse.SUPPRESS)
    parser.add_argument("--queue", help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--until-position", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--prefetch", type=int, default=1000, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.consume:
        consume(args.consume, args.queue, args.expect, args.until_position, args.prefetch)
        return 0

    vsc_logging.configure("WARNING")
    load_before = os.getloadavg()
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S %z')}, {platform.node()}, {os.cpu_count()} CPUs, "
          f"load {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}", flush=True)
    figures = {side: {"rate": [], "cpu": []} for side in ("relay", "bare", "bare_coalescing")}
    ratios, ratios_coalescing = [], []
    with tempfile.TemporaryDirectory() as tmp, Vhost(args.management, args.user, args.password, args.host,
                                                     args.port) as vhost:
        store_uri = f"sqlite:///{tmp}/events.db"
        with open_store(store_uri, validator=contracts.registry) as store:
            for first in range(0, args.events, 100):
                stream = f"duty_day-desk{first // 1000}-2026-05-01"
                store.append(stream, [sign_in(n) for n in range(first, min(first + 100, args.events))],
                             expected_version=store.stream_version(stream))
            records = list(store.read_all())
            messages = [(r.type, notice(r), r.event_id, r.position, r.stream_id) for r in records]
            size = statistics.mean(len(m[1]) for m in messages)
            print(f"# {len(messages)} events, notices of {size:.0f} bytes, window {args.window}, "
                  f"batch {args.batch}", flush=True)
            rep, failures = 0, 0
            while rep < args.reps:
                sides = [("relay", lambda: run_relay(store, vhost.amqp_uri, args.events, args.window, args.batch,
                                                     rep)),
                         ("bare", lambda: run_bare(messages, vhost.amqp_uri, args.window, args.batch)),
                         ("bare_coalescing", lambda: run_bare(messages, vhost.amqp_uri, args.window, args.batch,
                                                              coalescing=True))]
                sides = sides[rep % 3:] + sides[:rep % 3]  # who goes first rotates
                rates = {}
                try:
                    for name, side in sides:
                        rates[name] = side()
                except (pika.exceptions.AMQPError, RuntimeError, OSError) as exc:
                    # the broker is shared: another user's test may restart it under us
                    failures += 1
                    if failures > 3:
                        raise
                    print(f"rep {rep + 1} failed ({type(exc).__name__}: {str(exc)[:100]}); again in 10 s", flush=True)
                    time.sleep(10)
                    continue
                for side, (rate, cpu) in rates.items():
                    figures[side]["rate"].append(rate)
                    figures[side]["cpu"].append(cpu * 1e6)
                ratios.append(rates["relay"][0] / rates["bare"][0])
                ratios_coalescing.append(rates["relay"][0] / rates["bare_coalescing"][0])
                print(f"rep {rep + 1}: " + ", ".join(
                    f"{side} {rate:,.0f}/s ({cpu * 1e6:.0f} us CPU each)" for side, (rate, cpu) in rates.items())
                    + f"; ratio {ratios[-1]:.3f} (to bare_coalescing {ratios_coalescing[-1]:.3f}), "
                    f"load {os.getloadavg()[0]:.2f}", flush=True)
                rep += 1

            kills, stop = [], None
            if args.takeovers:
                counter = [args.events]

                def append_one():
                    counter[0] += 1
                    stream = f"duty_day-takeover-{counter[0]}"
                    return store.append(stream, [sign_in(counter[0])], expected_version=0).last_position
                kills, stop = takeovers(store, store_uri, vhost.amqp_uri, args.takeovers, append_one)
                print("takeover after SIGKILL: " + ", ".join(f"{t:.2f}s" for t in kills)
                      + (f"; after a clean stop: {stop:.2f}s" if stop is not None else ""), flush=True)
    load_after = os.getloadavg()
    print(json.dumps({
        "events": args.events, "reps": args.reps, "window": args.window, "batch": args.batch,
        "notice_bytes": round(size),
        "relay_events_per_s": round(statistics.median(figures["relay"]["rate"])),
        "bare_events_per_s": round(statistics.median(figures["bare"]["rate"])),
        "relay_ratio": round(statistics.median(ratios), 3),
        "bare_coalescing_events_per_s": round(statistics.median(figures["bare_coalescing"]["rate"])),
        "relay_ratio_to_bare_coalescing": round(statistics.median(ratios_coalescing), 3),
        **{f"{side}_rates": [round(r) for r in figures[side]["rate"]] for side in figures},
        **{f"{side}_cpu_us_per_event": round(statistics.median(figures[side]["cpu"]), 1) for side in figures},
        "takeover_s": round(statistics.median(kills), 2) if kills else None,
        "takeover_max_s": round(max(kills), 2) if kills else None,
        "takeovers_s": [round(t, 2) for t in kills],
        "handover_after_stop_s": round(stop, 2) if stop is not None else None,
        "lease_ttl_s": DEFAULTS["lease_ttl"], "lease_renew_s": DEFAULTS["lease_renew"],
        "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in load_after],
        "python": platform.python_version(), "pika": pika.__version__,
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
