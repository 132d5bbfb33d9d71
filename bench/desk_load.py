"""Benchmark: a busy holiday counter. K clients (default 16) send a mix of
desk commands over RPC on the real broker for a while, against the
lost-and-found and forms services running as real processes (`python -m services.chassis.run`,
with the relay), first on a fresh store and then on a simulated year
(bench/simulate.py), and beside a bare nameko `echo` service with the same
clients in the same run.

    .venv/bin/python bench/desk_load.py [--seconds 60] [--clients 16] [--events 200000]

The mix (one table, MIX, below): turn-ins by visitors, lost-item reports,
suggestions for a report, the clerk's view of an item, the claimant's view
by short code. Latency is per command, from the call to its reply; the
projection lag is from a turn-in's reply until the forms service's own state
holds it (its ``health`` says how far it has projected: asking it does not
catch it up).

The last line is one JSON object: fresh_/aged_/echo_commands_per_s, their
p50 and p99 in ms, aged_over_fresh_p50, p50_over_echo and
throughput_vs_echo (the aged store's figures against echo's: the year-old
desk is the one that must keep up), the fresh ones too, and
projection_lag_p50_ms/p99_ms on each store.

The year-old store is set up as a year-old desk's is: its relay has published
everything (checkpoint at the head), and the services start from the
snapshots a first start and clean stop wrote; the clients start once both
answer and forms has every fold in memory (``health`` ``warm``). What a cold
start and a snapshot cost is measured by restart.py and said in RESULTS.md.
"""
from __future__ import annotations

import eventlet

eventlet.monkey_patch()  # noqa: E402

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from bench.restart import Vhost, log  # noqa: E402
from bench.restart import CONTEXT as RESTART_CONTEXT  # noqa: E402
from bench.simstore import copy_of, simulated_year  # noqa: E402
from services.chassis.principal import CONTEXT_KEY, load_signer, write_keypair  # noqa: E402
from services.eventstore import open_store  # noqa: E402
from services.eventstore.relay import CHECKPOINT as RELAY_CHECKPOINT  # noqa: E402
from services.privacy import generate_master_key  # noqa: E402

SERVICES = ("lost_and_found", "forms")
DESKS = ("north-gate", "south-gate", "cableway-top", "lake-pier")
PLACES = ("北门检票口", "索道下站", "玻璃栈道", "观景台", "小吃街", "码头", "儿童乐园", "游客服务中心")
THINGS = (("黑色手机", "phone", "黑色苹果手机，透明壳"), ("蓝色雨伞", "umbrella", "蓝色折叠伞"),
          ("充电宝", "electronics", "白色充电宝，两万毫安"), ("钱包", "wallet", "棕色皮钱包，有几张卡"),
          ("儿童水壶", "other", "粉色儿童水壶，印着小熊"), ("墨镜", "glasses", "黑框墨镜，茶色镜片"))


def now_minus(minutes: float) -> str:
    return (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes)).isoformat()


class Desk:
    """One client: a clerk at a desk, remembering what it registered."""

    def __init__(self, number: int, rng: random.Random):
        self.number, self.rng = number, rng
        self.desk = DESKS[number % len(DESKS)]
        self.items: list[tuple[str, str]] = []   # (item id, short code)
        self.reports: list[str] = []
        self.serial = 0

    def next_id(self, kind: str) -> str:
        self.serial += 1
        return f"load-{kind}-{self.number}-{self.serial}-{self.rng.randrange(10 ** 9)}"

    def turn_in(self) -> tuple[str, str, dict]:
        name, category, description = self.rng.choice(THINGS)
        return "lost_and_found", "turn_in_by_visitor", {
            "desk": self.desk, "item_id": self.next_id("item"), "item_name": name, "category": category,
            "description": description, "found_place": self.rng.choice(PLACES), "found_at": now_minus(30),
            "finder_name": "游客", "finder_phone": f"139{self.rng.randrange(10 ** 8):08d}",
            "storage_place": "前台抽屉", "at": now_minus(1),
            "hidden_features": [{"label": "标记", "detail": f"背面贴纸{self.rng.randrange(100)}"}]}

    def report(self) -> tuple[str, str, dict]:
        name, category, description = self.rng.choice(THINGS)
        return "lost_and_found", "report_lost_item", {
            "desk": self.desk, "report_id": self.next_id("report"), "item_name": name, "category": category,
            "description": description, "features": "背面有贴纸", "lost_place": self.rng.choice(PLACES),
            "lost_from": now_minus(240), "lost_until": now_minus(60), "visitor_name": "游客",
            "visitor_phone": f"138{self.rng.randrange(10 ** 8):08d}", "at": now_minus(1)}

    def suggest(self):
        return ("lost_and_found", "suggest_matches", {"report_id": self.rng.choice(self.reports)}) \
            if self.reports else self.report()

    def look_up(self):
        return ("lost_and_found", "item", {"item_id": self.rng.choice(self.items)[0]}) \
            if self.items else self.turn_in()

    def claimant_view(self):
        return ("lost_and_found", "claimant_view", {"short_code": self.rng.choice(self.items)[1]}) \
            if self.items else self.turn_in()


#: the counter's mix: (share, what a desk does)
MIX = ((0.30, Desk.turn_in), (0.30, Desk.report), (0.15, Desk.suggest), (0.15, Desk.look_up),
       (0.10, Desk.claimant_view))


def pick(desk: Desk):
    roll, total = desk.rng.random(), 0.0
    for share, action in MIX:
        total += share
        if roll < total:
            return action(desk)
    return MIX[-1][1](desk)


def run_clients(config: dict, clients: int, seconds: float, commands: bool, watch_lag: bool) -> dict:
    """K clients for ``seconds``: each call's latency; with ``watch_lag``,
    the time from a turn-in's reply until the forms service holds it."""
    latencies: list[float] = []
    replies: list[tuple[float, int]] = []     # (reply time, last position) of turn-ins
    errors: list[str] = []
    stop_at = time.monotonic() + seconds

    def client(number: int):
        desk = Desk(number, random.Random(number))
        with ClusterRpcProxy(config, context_data=RESTART_CONTEXT, timeout=60) as cluster:
            while time.monotonic() < stop_at:
                if commands:
                    service, method, payload = pick(desk)
                else:
                    service, method, payload = "echo", "echo", desk.turn_in()[2]
                began = time.perf_counter()
                try:
                    reply = getattr(getattr(cluster, service), method)(payload)
                except Exception as exc:  # a refusal counts as an answer, but is reported
                    errors.append(f"{method}: {type(exc).__name__}")
                    reply = None
                latencies.append(time.perf_counter() - began)
                if commands and reply and method == "turn_in_by_visitor":
                    desk.items.append((reply["item_id"], reply["short_code"]))
                    replies.append((time.perf_counter(), reply["positions"][-1]))
                elif commands and reply and method == "report_lost_item":
                    desk.reports.append(reply["report_id"])

    lags: list[float] = []

    def watcher():
        pending = 0
        with ClusterRpcProxy(config, context_data=RESTART_CONTEXT, timeout=10) as cluster:
            while time.monotonic() < stop_at + 5 and (pending < len(replies) or time.monotonic() < stop_at):
                projected = cluster.forms.health()["projected_position"]
                seen = time.perf_counter()
                while pending < len(replies) and replies[pending][1] <= projected:
                    lags.append(seen - replies[pending][0])
                    pending += 1
                eventlet.sleep(0.005)

    threads = [eventlet.spawn(client, number) for number in range(clients)]
    lag_thread = eventlet.spawn(watcher) if watch_lag else None
    began = time.perf_counter()
    for thread in threads:
        thread.wait()
    elapsed = time.perf_counter() - began
    if lag_thread is not None:
        lag_thread.wait()
    result = {"calls": len(latencies), "per_s": len(latencies) / elapsed,
              "p50_ms": statistics.median(latencies) * 1000,
              "p99_ms": statistics.quantiles(latencies, n=100)[98] * 1000, "errors": len(errors)}
    if errors:
        result["first_errors"] = sorted(set(errors))[:5]
    if lags:
        result["lag_p50_ms"] = statistics.median(lags) * 1000
        result["lag_p99_ms"] = statistics.quantiles(lags, n=100)[98] * 1000 if len(lags) >= 2 else lags[0] * 1000
    return result


def start(module: str, env: dict, log_path: str) -> subprocess.Popen:
    with open(log_path, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "services.chassis.run", "--config",
                                 os.path.join("deploy", "config.yaml"), module], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def stop_all(processes) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # not SIGINT: see bench/restart.py stop()
    for process in processes:
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()


def measure_store(label: str, store_path: str, scratch: str, keys: dict, args, restarted: bool = False) -> dict:
    """The services and the relay on ``store_path`` in a vhost of their own; K clients.
    ``restarted``: as a year-old desk's services are, started from the snapshots
    their last clean stop wrote (a first start on the year rebuilds every read
    model, and its first timed snapshot would fall into the run)."""
    with Vhost() as amqp_uri:
        env = dict(os.environ, EVENT_STORE_URI=f"sqlite:///{store_path}", AMQP_URI=amqp_uri, LOG_LEVEL="WARNING",
                   PYTHONPATH=ROOT,  # and no green DNS, as make run (deploy/run_local.py child_env)
                   EVENTLET_NO_GREENDNS=os.environ.get("EVENTLET_NO_GREENDNS", "yes"),
                   READMODEL_STORE_URI=f"sqlite:///{store_path[:-3]}.readmodels.db",
                   AUDIT_DIR=os.path.join(scratch, f"audit-{label}"), **keys)
        logs = os.path.join(scratch, f"{label}.log")
        if restarted:
            log(f"{label}: a first start and clean stop, for the snapshots")
            processes = start_services(env, logs)
            try:
                wait_services(amqp_uri)
                prime(amqp_uri, seed=98)
            finally:
                stop_all(processes)
        processes = start_services(env, logs)
        with open(logs, "ab") as out:
            processes.append(subprocess.Popen([sys.executable, "-m", "services.eventstore.relay", "--config",
                                               os.path.join("deploy", "config.yaml")], cwd=ROOT, env=env,
                                              stdout=out, stderr=subprocess.STDOUT))
        try:
            log(f"{label}: waiting for the services (the aged store's read models load first)")
            wait_services(amqp_uri)
            # the lag measured is the steady state's: the run starts once forms has read every fold
            # back from its snapshot (what a restart costs is bench/restart.py's)
            warm_s = wait_warm(amqp_uri)
            log(f"{label}: forms warm after {warm_s:.1f} s")
            prime(amqp_uri)  # the first suggestion builds the case index: not part of the load
            log(f"{label}: {args.clients} clients for {args.seconds} s")
            return run_clients({"AMQP_URI": amqp_uri, "serializer": "json"}, args.clients, args.seconds,
                               commands=True, watch_lag=True) | {"warm_s": warm_s}
        finally:
            stop_all(processes)


def start_services(env: dict, logs: str) -> list:
    return [start(f"services.{service}.service", env, logs) for service in SERVICES]


def wait_services(amqp_uri: str) -> None:
    for service in SERVICES:
        wait_healthy(amqp_uri, service)


def prime(amqp_uri: str, seed: int = 99) -> None:
    """A report (its suggestions analyse the open cases) and a summary."""
    with ClusterRpcProxy({"AMQP_URI": amqp_uri, "serializer": "json"}, context_data=RESTART_CONTEXT,
                         timeout=600) as cluster:
        cluster.lost_and_found.report_lost_item(Desk(seed, random.Random(seed)).report()[2])
        cluster.forms.lost_item_summary({"date": dt.date.today().isoformat()})


def published_copy(year: str, directory: str) -> str:
    """A copy of the simulated year as a year-old desk's store is: its relay
    has published everything (the simulator writes through the deciders, no
    relay ran). With the checkpoint left at 0 the relay would first publish
    the whole year, and the forms service would spend the run on 200,000
    stale notices, seeing the new events only from its 5 s timer."""
    path = copy_of(year, directory)
    store = open_store(f"sqlite:///{path}")
    try:
        store.save_checkpoint(RELAY_CHECKPOINT, store.head().position)
    finally:
        store.close()
    return path


def wait_warm(amqp_uri: str, deadline_s: float = 600) -> float:
    """Seconds until the forms service's health says ``warm``."""
    began = time.monotonic()
    with ClusterRpcProxy({"AMQP_URI": amqp_uri, "serializer": "json"}, timeout=30) as cluster:
        while not cluster.forms.health().get("warm"):
            if time.monotonic() - began > deadline_s:
                raise TimeoutError(f"forms not warm within {deadline_s} s")
            eventlet.sleep(0.2)
    return time.monotonic() - began


def wait_healthy(amqp_uri: str, service: str, deadline_s: float = 600) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            with ClusterRpcProxy({"AMQP_URI": amqp_uri, "serializer": "json"}, timeout=1) as cluster:
                getattr(cluster, service).health()
                return
        except Exception:
            eventlet.sleep(0.2)
    raise TimeoutError(f"{service} did not answer within {deadline_s} s")


def measure_echo(scratch: str, args) -> dict:
    with Vhost() as amqp_uri:
        env = dict(os.environ, AMQP_URI=amqp_uri, LOG_LEVEL="WARNING", PYTHONPATH=ROOT)
        process = start("bench.echo_service", env, os.path.join(scratch, "echo.log"))
        try:
            wait_healthy_echo(amqp_uri)
            log(f"echo: {args.clients} clients for {args.seconds} s")
            return run_clients({"AMQP_URI": amqp_uri, "serializer": "json"}, args.clients, args.seconds,
                               commands=False, watch_lag=False)
        finally:
            stop_all([process])


def wait_healthy_echo(amqp_uri: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with ClusterRpcProxy({"AMQP_URI": amqp_uri, "serializer": "json"}, timeout=1) as cluster:
                cluster.echo.echo("ping")
                return
        except Exception:
            eventlet.sleep(0.2)
    raise TimeoutError("echo did not answer")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--events", type=int, default=200_000, help="size of the simulated year")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    year = simulated_year(args.events, args.seed, progress=log)
    scratch = tempfile.mkdtemp(prefix="vsc-desk-load-")
    try:
        keys = {"PRINCIPAL_SIGNING_KEY_FILE": os.path.join(scratch, "principal.key"),
                "PRINCIPAL_PUBLIC_KEY_FILE": os.path.join(scratch, "principal.pub"),
                "PRIVACY_MASTER_KEY": generate_master_key(), "BUSINESS_TIME_MAX_AGE_DAYS": "36600"}
        write_keypair(keys["PRINCIPAL_SIGNING_KEY_FILE"], keys["PRINCIPAL_PUBLIC_KEY_FILE"])
        RESTART_CONTEXT[CONTEXT_KEY] = load_signer(keys).issue("c-n01", "王芳", {"clerk"}, "north-gate")[0]
        fresh_dir, aged_dir = os.path.join(scratch, "fresh"), os.path.join(scratch, "aged")
        os.makedirs(fresh_dir)
        os.makedirs(aged_dir)
        fresh = measure_store("fresh", os.path.join(fresh_dir, "events.db"), scratch, keys, args)
        echo = measure_echo(scratch, args)
        aged = measure_store("aged", published_copy(year, aged_dir), scratch, keys, args, restarted=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    summary = {
        "fresh_commands_per_s": round(fresh["per_s"], 1), "aged_commands_per_s": round(aged["per_s"], 1),
        "echo_commands_per_s": round(echo["per_s"], 1),
        "fresh_p50_ms": round(fresh["p50_ms"], 2), "fresh_p99_ms": round(fresh["p99_ms"], 2),
        "aged_p50_ms": round(aged["p50_ms"], 2), "aged_p99_ms": round(aged["p99_ms"], 2),
        "echo_p50_ms": round(echo["p50_ms"], 2), "echo_p99_ms": round(echo["p99_ms"], 2),
        "aged_over_fresh_p50": round(aged["p50_ms"] / fresh["p50_ms"], 3),
        "p50_over_echo": round(aged["p50_ms"] / echo["p50_ms"], 3),
        "throughput_vs_echo": round(aged["per_s"] / echo["per_s"], 3),
        "fresh_p50_over_echo": round(fresh["p50_ms"] / echo["p50_ms"], 3),
        "fresh_throughput_vs_echo": round(fresh["per_s"] / echo["per_s"], 3),
        "projection_lag_p50_ms": round(aged.get("lag_p50_ms", float("nan")), 1),
        "projection_lag_p99_ms": round(aged.get("lag_p99_ms", float("nan")), 1),
        "fresh_projection_lag_p99_ms": round(fresh.get("lag_p99_ms", float("nan")), 1),
        "errors": {"fresh": fresh["errors"], "aged": aged["errors"], "echo": echo["errors"]},
        "clients": args.clients, "seconds": args.seconds, "aged_events": args.events,
        "date": dt.date.today().isoformat(), "load_average": round(os.getloadavg()[0], 2),
    }
    for label, result in (("fresh", fresh), ("aged", aged)):
        if result.get("first_errors"):
            summary[f"{label}_first_errors"] = result["first_errors"]
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
