"""Benchmark: how long a service takes, started as a real process (``python -m
services.chassis.run``, as ``make run`` and compose start it) on a year-old
store, until it answers its first real request.

    .venv/bin/python bench/restart.py                 # the simulated year of 200,000 events, seed 1

On a private copy of the simulated year (bench/simstore.py) and a RabbitMQ
vhost of its own (made through the management API, removed afterwards):

- forms, cold: no snapshot beside the store; the first ``found_item_form``
  waits for a rebuild of every fold from the log (the code before snapshots
  did this at every start);
- forms, warm: the same after a clean stop wrote the snapshot
  (``var/...readmodels.db``); the answer needs the item's form folds read
  back, the rest are read in the background;
- lost_and_found ``item`` (reads one stream): cold (no snapshot: the case
  index is rebuilt from the log in the background meanwhile) and warm
  (resumed from the snapshot the cold run's clean stop wrote); then
  ``suggest_matches`` after a warm start (it needs the index whole, and the
  items with hidden features analysed again: their profiles are not kept).

Each figure is the median of ``--reps`` starts: from ``Popen`` until the
reply to the real request, sent as soon as the service's ``health`` RPC
answers (asked every 10 ms; a request sent before the service listens waits
in its queue, so the figure is at most a few ms late). Both clients are
connected before the clock starts, as the gateway's are when a service
restarts. ``python_import_s`` is how long ``import`` of the service module
alone takes in a fresh interpreter (part of every start). Fields of the
last line (JSON): ``forms_cold_s``, ``forms_warm_s``, ``lost_and_found_item_cold_s``,
``lost_and_found_item_s``, ``lost_and_found_suggest_s``, each also as ``..._health_s`` (until the
process answered ``health``: the start-up floor), ``python_import_s``, ``events``.

Every RPC but ``health`` needs a signed principal: the run makes its own
key pair (``services.chassis.principal``), gives the services its key files
and signs one clerk's principal; ``CONTEXT`` is what every call carries.
"""
from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import eventlet
eventlet.monkey_patch()  # noqa: E402  (the standalone RPC proxy is a nameko client)

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

import requests  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from bench.simstore import copy_of, simulated_year  # noqa: E402
from services.chassis.principal import CONTEXT_KEY, load_signer, write_keypair  # noqa: E402
from services.eventstore import open_store  # noqa: E402
from services.privacy import generate_master_key  # noqa: E402

MANAGEMENT = "http://localhost:15672/api"
AUTH = ("guest", "guest")
#: the RPC context every call carries: a clerk's signed principal (set in main)
CONTEXT: dict = {}


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Vhost:
    def __init__(self):
        self.name = f"vsc_bench_restart_{uuid.uuid4().hex[:8]}"

    def __enter__(self):
        requests.put(f"{MANAGEMENT}/vhosts/{self.name}", auth=AUTH, timeout=10).raise_for_status()
        requests.put(f"{MANAGEMENT}/permissions/{self.name}/guest", auth=AUTH, timeout=10,
                     json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
        return f"pyamqp://guest:guest@localhost:5672/{self.name}"

    def __exit__(self, *exc_info):
        requests.delete(f"{MANAGEMENT}/vhosts/{self.name}", auth=AUTH, timeout=10)


def rpc_config(amqp_uri: str) -> dict:
    return {"AMQP_URI": amqp_uri, "serializer": "json"}


def wait_healthy(amqp_uri: str, service: str, cluster, deadline_s: float = 180.0) -> float:
    """When the service first answered ``health`` (asked every 10 ms, each
    with a 200 ms timeout: a request sent before the service listened waits
    in its queue and is answered the moment it does)."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            getattr(cluster, service).health()
            return time.perf_counter()
        except RuntimeError:  # the proxy lost the broker (restarted by someone): a new proxy
            with ClusterRpcProxy(rpc_config(amqp_uri), context_data=CONTEXT, timeout=0.2) as fresh:
                return wait_healthy(amqp_uri, service, fresh, deadline - time.monotonic())
        except Exception:  # not listening yet: no queue yet, or the request timed out
            if time.monotonic() > deadline:
                raise TimeoutError(f"{service} did not answer within {deadline_s} s")
            eventlet.sleep(0.01)


def start(service: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "services.chassis.run", "--config",
                             os.path.join("deploy", "config.yaml"), f"services.{service}.service"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(process: subprocess.Popen) -> None:
    # SIGTERM: nameko's handler stops the runner in a greenlet of its own (the read models write
    # their snapshots). Not SIGINT: its KeyboardInterrupt lands in whatever greenlet is running, and
    # a busy service's worker then dies with it while the runner never stops.
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def timed_start(service: str, env: dict, method: str, payload: dict) -> tuple[float, float]:
    """(seconds until the request was answered, seconds until health answered).
    Both clients connect before the clock starts, as the gateway's are when
    a service restarts: the figure is the service's, not a client's connect."""
    config = rpc_config(env["AMQP_URI"])
    with ClusterRpcProxy(config, context_data=CONTEXT, timeout=0.2) as polling, \
            ClusterRpcProxy(config, context_data=CONTEXT, timeout=180) as asking:
        began = time.perf_counter()
        process = start(service, env)
        try:
            healthy = wait_healthy(env["AMQP_URI"], service, polling) - began
            getattr(getattr(asking, service), method)(payload)
            seconds = time.perf_counter() - began
        finally:
            stop(process)
    return seconds, healthy


def import_seconds(module: str) -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-W", "ignore", "-c", f"import eventlet; eventlet.monkey_patch(); import {module}"],
                   cwd=ROOT, check=True)
    return time.perf_counter() - began


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    year = simulated_year(args.events, args.seed, progress=log)
    scratch = tempfile.mkdtemp(prefix="vsc-restart-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        path = copy_of(year, scratch)
        store = open_store(f"sqlite:///{path}")
        events = store.head().position
        item_id = next(r.data["item_id"] for r in store.read_all(after=events - 5000) if r.type == "FoundItemTurnedIn")
        report_id = next(r.data["report_id"] for r in store.read_all(after=events - 5000)
                         if r.type == "LostItemReported")
        store.close()
        readmodels = path[:-3] + ".readmodels.db"
        keys = {"PRINCIPAL_SIGNING_KEY_FILE": os.path.join(scratch, "principal.key"),
                "PRINCIPAL_PUBLIC_KEY_FILE": os.path.join(scratch, "principal.pub"),
                "PRIVACY_MASTER_KEY": generate_master_key()}  # the run's own: never the local secrets
        write_keypair(keys["PRINCIPAL_SIGNING_KEY_FILE"], keys["PRINCIPAL_PUBLIC_KEY_FILE"])
        CONTEXT[CONTEXT_KEY] = load_signer(keys).issue("c-n01", "王芳", {"clerk"}, "north-gate")[0]
        results: dict[str, list[float]] = {}
        with Vhost() as amqp_uri:
            env = dict(os.environ, EVENT_STORE_URI=f"sqlite:///{path}", AMQP_URI=amqp_uri, LOG_LEVEL="WARNING",
                       PYTHONPATH=ROOT,  # and no green DNS, as make run (deploy/run_local.py child_env)
                       EVENTLET_NO_GREENDNS=os.environ.get("EVENTLET_NO_GREENDNS", "yes"),
                       READMODEL_STORE_URI=f"sqlite:///{readmodels}", **keys)
            form = ("found_item_form", {"item_id": item_id})
            for rep in range(args.reps):
                for leftover in (readmodels, readmodels + "-wal", readmodels + "-shm"):
                    if os.path.exists(leftover):
                        os.remove(leftover)
                # each run's clean stop writes its service's snapshot, which the next run of it resumes from
                runs = {"forms_cold": ("forms", *form),
                        "forms_warm": ("forms", *form),
                        # the case index rebuilt from the log in the background meanwhile
                        "lost_and_found_item_cold": ("lost_and_found", "item", {"item_id": item_id}),
                        "lost_and_found_item": ("lost_and_found", "item", {"item_id": item_id}),
                        "lost_and_found_suggest": ("lost_and_found", "suggest_matches", {"report_id": report_id})}
                for name, (service, method, payload) in runs.items():
                    answered, healthy = timed_start(service, env, method, payload)
                    results.setdefault(f"{name}_s", []).append(answered)
                    results.setdefault(f"{name}_health_s", []).append(healthy)
                log(f"rep {rep + 1}: " + ", ".join(f"{key} {values[-1]:.2f}" for key, values in results.items()))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    summary = {key: round(statistics.median(values), 3) for key, values in results.items()}
    summary |= {"python_import_s": round(import_seconds("services.forms.service"), 3), "events": events,
                "reps": args.reps, "date": dt.date.today().isoformat(),
                "load_average": round(os.getloadavg()[0], 2)}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
