"""Benchmark: how well lost-and-found matching ranks the right found item.

Run from the repository root (RabbitMQ on localhost with its management
API, as for ``make test``)::

    .venv/bin/python bench/matching.py                     # ../shared/matching/dev_cases.jsonl
    .venv/bin/python bench/matching.py --cases FILE.jsonl  # the same format

Each line of the cases file is one case: a visitor's ``report`` (item_name,
category, description, features, lost_place, lost_from, lost_until), a
``pool`` of found items (ref, item_name, category, description,
hidden_features as [label, detail] pairs, found_place, found_at) and the
``expected`` ref. Every case runs through the RPCs of a real
``lost_and_found`` service on a fresh SQLite store (on a RabbitMQ vhost of
its own): each item is turned in (``turn_in_by_visitor``), the report is
filed (``report_lost_item``), then ``suggest_matches`` for the report gives
the ranking. A report without features is filed with ``-`` (the contract
wants at least one character; the matcher reads nothing in it).

Every RPC needs a signed principal and the service a privacy master key: the
run makes its own key pair and key (never the local secrets) and calls as
one clerk.

Prints one line per case, then one JSON object on the last line: ``cases``,
``top1``, ``top5``, ``mrr`` (mean reciprocal rank, 0 when the item is not
among the 10 suggestions), the ids ranked wrong and the time taken.
"""
from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import eventlet

eventlet.monkey_patch()  # noqa: E402

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from nameko.runners import ServiceRunner  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402
from nameko.testing.rabbit import Client as RabbitManager  # noqa: E402

from services.chassis.principal import CONTEXT_KEY, load_signer, write_keypair  # noqa: E402
from services.lost_and_found.service import LostAndFoundService  # noqa: E402
from services.privacy import generate_master_key  # noqa: E402

DEFAULT_CASES = os.path.join(ROOT, "..", "shared", "matching", "dev_cases.jsonl")
LIMIT = 10
DESK, CLERK = "bench-desk", "c-bench"


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def run_keys(folder: str) -> tuple[dict, dict]:
    """The run's own principal key pair and privacy master key (config), and
    the context every call carries: one clerk's signed principal."""
    keys = {"PRINCIPAL_SIGNING_KEY_FILE": os.path.join(folder, "principal.key"),
            "PRINCIPAL_PUBLIC_KEY_FILE": os.path.join(folder, "principal.pub"),
            "PRIVACY_MASTER_KEY": generate_master_key()}
    write_keypair(keys["PRINCIPAL_SIGNING_KEY_FILE"], keys["PRINCIPAL_PUBLIC_KEY_FILE"])
    return keys, {CONTEXT_KEY: load_signer(keys).issue(CLERK, "基准客服", {"clerk"}, DESK)[0]}


def run_case(case: dict, amqp_uri: str, store_dir: str, keys: dict, context: dict) -> list[str]:
    """Load one case into a fresh store through the RPCs; the refs suggested, best first."""
    config = {"AMQP_URI": amqp_uri, "EVENT_STORE_URI": f"sqlite:///{store_dir}/{case['id']}.db",
              "LOG_LEVEL": "WARNING", "TIMEZONE": "Asia/Shanghai", "serializer": "json", **keys}
    runner = ServiceRunner(config)
    runner.add_service(LostAndFoundService)
    runner.start()
    try:
        with ClusterRpcProxy(config, context_data=context) as cluster:
            service = cluster.lost_and_found
            latest = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
            for item in case["pool"]:
                found_at = _moment(item["found_at"])
                latest = max(latest, found_at)
                service.turn_in_by_visitor({
                    "desk": DESK, "item_id": f"{case['id']}-{item['ref']}", "item_name": item["item_name"],
                    "category": item["category"], "description": item["description"],
                    "found_place": item["found_place"], "found_at": item["found_at"],
                    "finder_name": "拾得人", "finder_phone": None,
                    "storage_place": "desk drawer", "at": (found_at + dt.timedelta(minutes=10)).isoformat(),
                    "hidden_features": [{"label": label, "detail": detail}
                                        for label, detail in item["hidden_features"]],
                    # cash is registered with its counted amount (not used by matching)
                    **({"cash_amount": "100", "currency": "CNY"} if item["category"] == "cash" else {})})
            report = case["report"]
            filed_at = max(_moment(report["lost_until"]), latest) + dt.timedelta(minutes=30)
            report_id = f"{case['id']}-report"
            service.report_lost_item({
                "desk": DESK, "report_id": report_id, "item_name": report["item_name"],
                "category": report["category"], "description": report["description"],
                "features": report["features"] or "-", "lost_place": report["lost_place"],
                "lost_from": report["lost_from"], "lost_until": report["lost_until"],
                "visitor_name": "失主", "visitor_phone": "13800000000",
                "at": filed_at.isoformat()})
            reply = service.suggest_matches({"report_id": report_id, "limit": LIMIT})
            return [s["id"].removeprefix(f"{case['id']}-") for s in reply["suggestions"]]
    finally:
        runner.stop()


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=DEFAULT_CASES, help="JSON lines file of cases (default: %(default)s)")
    parser.add_argument("--amqp", default=os.environ.get("AMQP_URI", "pyamqp://guest:guest@localhost:5672/"))
    parser.add_argument("--management", default="http://guest:guest@localhost:15672")
    args = parser.parse_args(argv)
    if not os.path.exists(args.cases):
        parser.error(f"no cases file at {os.path.abspath(args.cases)}; give one with --cases")
    with open(args.cases, encoding="utf-8") as handle:
        cases = [json.loads(line) for line in handle if line.strip()]

    manager = RabbitManager(args.management)
    vhost = f"bench_matching_{uuid.uuid4().hex[:8]}"
    manager.create_vhost(vhost)
    manager.set_vhost_permissions(vhost, "guest", ".*", ".*", ".*")
    amqp_uri = f"{args.amqp.rstrip('/')}/{vhost}"
    started = time.monotonic()
    top1 = top5 = 0
    reciprocal = 0.0
    wrong = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-matching-") as store_dir:
            keys, context = run_keys(store_dir)
            for case in cases:
                ranked = run_case(case, amqp_uri, store_dir, keys, context)
                rank = ranked.index(case["expected"]) + 1 if case["expected"] in ranked else None
                top1 += rank == 1
                top5 += rank is not None and rank <= 5
                reciprocal += 1 / rank if rank else 0.0
                if rank != 1:
                    wrong.append(case["id"])
                print(f"{case['id']:<10} {case.get('difficulty', ''):<22} rank {rank or '-':>2}  "
                      f"expected {case['expected']}, ranked {' '.join(ranked)}", flush=True)
    finally:
        manager.delete_vhost(vhost)
    n = len(cases)
    result = {"cases": n, "top1": round(top1 / n, 4) if n else 0.0, "top5": round(top5 / n, 4) if n else 0.0,
              "mrr": round(reciprocal / n, 4) if n else 0.0, "not_first": wrong,
              "cases_file": os.path.relpath(os.path.abspath(args.cases), ROOT),
              "seconds": round(time.monotonic() - started, 1)}
    print(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
