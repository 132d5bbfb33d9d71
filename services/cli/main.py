"""`vsc`: the command line for auditors and operators (no eventlet, no broker).

    vsc audit verify [--checkpoint FILE]   walk the hash chain; exit 1 naming the first bad position
    vsc audit checkpoint [--out FILE]      sign (position, hash) of the head with the audit key
    vsc audit keygen                       create the audit key file (once)
    vsc audit export [--as-of TIME | --until N]   the log as JSON lines, as it was at a moment
    vsc store head                         position, hash and time of the newest record

The store comes from EVENT_STORE_URI (or deploy/config.yaml); the audit key
from AUDIT_KEY_FILE (default var/audit.key). Keep the key and the exported
checkpoints away from the database: that is what makes removal detectable.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import sys

import orjson

from services.chassis.config import load_config
from services.chassis.decider import Rejected
from services.cli import staff as staff_cli
from services.chassis.wiring import store_from_config
from services.chassis.principal import KeyConfigError
from services.eventstore import EventStoreError
from services.eventstore.chain import sign_checkpoint, verify_checkpoint, verify_store

DEFAULT_CONFIG = os.path.join("deploy", "config.yaml")


def _config(args) -> dict:
    path = args.config or (DEFAULT_CONFIG if os.path.exists(DEFAULT_CONFIG) else None)
    return load_config(path)


def _key(config) -> bytes:
    path = config.get("AUDIT_KEY_FILE") or "var/audit.key"
    try:
        with open(path, "rb") as handle:
            return handle.read().strip()
    except FileNotFoundError:
        raise SystemExit(f"no audit key at {path}: create one with `vsc audit keygen` "
                         f"(or set AUDIT_KEY_FILE)") from None


def _print(value) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def cmd_verify(args, config) -> int:
    with store_from_config(config) as store:
        if args.checkpoint:
            with open(args.checkpoint, encoding="utf-8") as handle:
                result = verify_checkpoint(store, json.load(handle), _key(config))
        else:
            result = verify_store(store)
    _print(result._asdict())
    return 0 if result.ok else 1


def cmd_checkpoint(args, config) -> int:
    with store_from_config(config) as store:
        checkpoint = sign_checkpoint(store, _key(config))
    text = json.dumps(checkpoint, indent=2) + "\n"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
    sys.stdout.write(text)
    return 0


def cmd_keygen(args, config) -> int:
    path = config.get("AUDIT_KEY_FILE") or "var/audit.key"
    if os.path.exists(path):
        print(f"{path} exists; not overwritten", file=sys.stderr)
        return 1
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    print(f"audit key written to {path}")
    return 0


def cmd_export(args, config) -> int:
    with store_from_config(config) as store:
        until = args.until
        if args.as_of:
            until = store.position_at(args.as_of)
        out = sys.stdout.buffer
        for record in store.read_all(until=until):
            out.write(orjson.dumps(record._asdict()) + b"\n")
    return 0


def cmd_head(args, config) -> int:
    with store_from_config(config) as store:
        _print(store.head()._asdict())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vsc", description="Visitor Service Center command line")
    parser.add_argument("--config", help=f"YAML config (default {DEFAULT_CONFIG} when present)")
    groups = parser.add_subparsers(dest="group", required=True)
    audit = groups.add_parser("audit", help="verify and export the log").add_subparsers(dest="command", required=True)
    verify = audit.add_parser("verify", help="walk the hash chain")
    verify.add_argument("--checkpoint", help="also check against a signed checkpoint file")
    verify.set_defaults(run=cmd_verify)
    checkpoint = audit.add_parser("checkpoint", help="sign the head's (position, hash)")
    checkpoint.add_argument("--out", help="write the checkpoint to this file as well")
    checkpoint.set_defaults(run=cmd_checkpoint)
    audit.add_parser("keygen", help="create the audit key").set_defaults(run=cmd_keygen)
    export = audit.add_parser("export", help="the log as JSON lines")
    moment = export.add_mutually_exclusive_group()
    moment.add_argument("--as-of", help="recorded time, e.g. 2026-05-01T12:00:00.000000Z")
    moment.add_argument("--until", type=int, help="last position")
    export.set_defaults(run=cmd_export)
    store = groups.add_parser("store", help="the event store").add_subparsers(dest="command", required=True)
    store.add_parser("head", help="the newest record").set_defaults(run=cmd_head)
    staff_cli.add_parsers(groups)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    config = _config(args)
    try:
        return args.run(args, config)
    except EventStoreError as exc:
        print(f"vsc: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except (staff_cli.CliError, KeyConfigError) as exc:
        print(f"vsc: {exc}", file=sys.stderr)
        return 2
    except Rejected as exc:
        print(f"vsc: refused ({exc.code}): {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
