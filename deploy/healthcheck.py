"""Health probe for one process: exit 0 when healthy, 1 when not.

    python deploy/healthcheck.py duty_log [--config deploy/config.yaml] [--timeout 5]

- a nameko service: calls its ``health`` RPC over RabbitMQ (a standalone
  ClusterRpcProxy) and wants ``status == "ok"`` back;
- ``relay`` (not a nameko service, it has no RPC): a relay holds the relay
  lease in the event store and keeps renewing it (the lease is unexpired; the
  leader renews it every ``RELAY_LEASE_RENEW`` seconds, it lapses after
  ``RELAY_LEASE_TTL``), and the broker accepts a connection. A standby relay
  passes while the leader is alive: the relays as a whole are publishing.

``AMQP_URI`` and ``EVENT_STORE_URI`` come from the config file's
placeholders, so the environment decides, as for the process probed.
Used by docker-compose healthchecks and by ``make run`` (deploy/run_local.py).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

DEFAULT_CONFIG = os.path.join(ROOT, "deploy", "config.yaml")


class Deadline(BaseException):  # not swallowed by a library's "except Exception"
    pass


def _on_alarm(_signum, _frame):
    raise Deadline()


def check_service(name: str, config: dict, timeout: float) -> dict:
    warnings.simplefilter("ignore")  # nameko imports pkg_resources
    from nameko.standalone.rpc import ClusterRpcProxy

    with ClusterRpcProxy({"AMQP_URI": config["AMQP_URI"], "serializer": "json"}, timeout=timeout) as rpc:
        reply = getattr(rpc, name).health()
    if not isinstance(reply, dict) or reply.get("status") != "ok":
        raise RuntimeError(f"unhealthy reply: {reply!r}")
    return reply


def check_relay(config: dict, timeout: float) -> dict:
    import time

    import pika

    from services.chassis.config import pika_url
    from services.chassis.wiring import store_from_config
    from services.eventstore.relay import CHECKPOINT, LEASE

    store = store_from_config(config)
    try:
        head = store.head().position
        lease = store.lease(LEASE)
        checkpoint = store.get_checkpoint(CHECKPOINT)
    finally:
        store.close()
    now = time.time()
    if lease is None:
        raise RuntimeError("no relay holds the relay lease: none is running")
    if lease.expires_at <= now:
        raise RuntimeError(f"the relay lease of {lease.owner} expired {now - lease.expires_at:.1f}s ago: "
                           "no relay is renewing it")
    params = pika.URLParameters(pika_url(config["AMQP_URI"]))
    params.socket_timeout = params.blocked_connection_timeout = timeout
    params.connection_attempts = 1
    pika.BlockingConnection(params).close()
    return {"service": "relay", "status": "ok", "leader": lease.owner,
            "lease_expires_in_s": round(lease.expires_at - now, 2),
            "store_head": head, "checkpoint": checkpoint, "behind": head - checkpoint}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Probe one service's health (exit 0 = healthy).")
    parser.add_argument("service", help="nameko service name (duty_log, forms, ...) or 'relay'")
    parser.add_argument("--config", default=DEFAULT_CONFIG if os.path.exists(DEFAULT_CONFIG) else None)
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds in all (default 5)")
    args = parser.parse_args(argv)

    from services.chassis.config import load_config
    config = load_config(args.config)

    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, args.timeout)
    try:
        if args.service == "relay":
            reply = check_relay(config, args.timeout)
        else:
            reply = check_service(args.service, config, args.timeout)
    except Deadline:
        print(f"{args.service}: no answer within {args.timeout:g}s", file=sys.stderr)
        return 1
    except Exception as exc:  # any failure is "unhealthy"; say which, briefly
        print(f"{args.service}: unhealthy: {type(exc).__name__}: {str(exc)[:200]}", file=sys.stderr)
        return 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    print(json.dumps(reply, sort_keys=True, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
