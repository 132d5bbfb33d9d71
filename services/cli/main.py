"""`vsc`: the command line for auditors and operators (no eventlet, no broker).

    vsc audit verify [--checkpoint FILE]   the chain from the stored bytes, and every record against the
                                           witness copy; exit 1 naming the first bad position
    vsc audit checkpoint [--out FILE]      the witness's newest signed tree head, to keep elsewhere
    vsc audit keygen                       create the witness's Ed25519 key pair (once)
    vsc audit export [--as-of TIME | --until N]   the log as JSON lines, as it was at a moment
    vsc store head                         position, hash and time of the newest record

The store comes from EVENT_STORE_URI (or deploy/config.yaml); the witness copy
from AUDIT_DIR (default $XDG_DATA_HOME/vsc-audit, i.e. ~/.local/share/vsc-audit),
its keys from AUDIT_KEY_FILE and AUDIT_PUBLIC_KEY_FILE (default: in AUDIT_DIR).
None of them may be inside the database's directory. The witness process is
``python -m services.eventstore.witness`` (docs/tamper-evidence.md).

Exit codes: 0 fine, 1 the log (or the witness copy) does not verify or holds
damaged records, 2 bad arguments or configuration.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import zoneinfo

import orjson

from services.chassis.config import load_config
from services.chassis.decider import Rejected
from services.cli import privacy as privacy_cli
from services.cli import staff as staff_cli
from services.chassis.wiring import store_from_config
from services.chassis.principal import KeyConfigError
from services.eventstore import EventStoreError
from services.eventstore.chain import check_record
from services.eventstore.interface import GENESIS_HASH
from services.eventstore.witness import (
    AuditError, audit, audit_paths, check_witness, generate_keys, load_public_key, read_witness,
)

DEFAULT_CONFIG = os.path.join("deploy", "config.yaml")
DEFAULT_TIMEZONE = "Asia/Shanghai"


class UsageError(Exception):
    """Bad arguments or configuration: exit 2 with the message."""


def _config(args) -> dict:
    path = args.config or (DEFAULT_CONFIG if os.path.exists(DEFAULT_CONFIG) else None)
    return load_config(path)


def _print(value) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def _paths(config):
    try:
        return audit_paths(config)
    except AuditError as exc:
        raise UsageError(str(exc)) from None


# -- times ---------------------------------------------------------------------------------
_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|[+-]\d\d:?\d\d)")


def _store_text(moment: dt.datetime) -> str:
    utc = moment.astimezone(dt.timezone.utc)
    return (f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
            f"{utc.second:02d}.{utc.microsecond:06d}Z")


def parse_as_of(text: str, timezone: str) -> str:
    """``--as-of`` as the store's UTC text: a time with its offset (``Z``,
    ``+08:00``), or a date, meaning local midnight at its start in
    ``timezone``. Anything else (a time without an offset, ``yesterday``)
    is a :class:`UsageError`."""
    try:
        zone = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"TIMEZONE {timezone!r} is not a time zone (e.g. Asia/Shanghai)") from None
    hint = (f"give a date (2026-05-01: local midnight in {timezone}) or a time with its offset "
            f"(2026-05-01T12:00:00+08:00, 2026-05-01T04:00:00Z)")
    try:
        if _DATE.fullmatch(text):
            return _store_text(dt.datetime.combine(dt.date.fromisoformat(text), dt.time(0), tzinfo=zone))
        if _TIME.fullmatch(text):
            return _store_text(dt.datetime.fromisoformat(text))
    except (ValueError, OverflowError) as exc:
        raise UsageError(f"--as-of {text!r} is not a valid time ({exc}): {hint}") from None
    raise UsageError(f"--as-of {text!r} is not a date or a time with an offset: {hint}")


# -- commands ---------------------------------------------------------------------------------
def cmd_verify(args, config) -> int:
    paths = _paths(config)
    checkpoint = None
    if args.checkpoint:
        try:
            with open(args.checkpoint, encoding="utf-8") as handle:
                checkpoint = json.load(handle)
            if not isinstance(checkpoint, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read the checkpoint {args.checkpoint}: {exc}") from None
    try:
        heads, entries = read_witness(paths.directory)
    except AuditError as exc:
        _print({"ok": False, "problem": str(exc), "witness_dir": paths.directory})
        return 1
    public_key = None
    if heads or entries or checkpoint is not None:
        try:
            public_key = load_public_key(paths.public_key_file)
        except AuditError as exc:
            raise UsageError(str(exc)) from None
    with store_from_config(config) as store:
        result = audit(store, heads, entries, public_key, checkpoint)
    _print(dict(result._asdict(), witness_dir=paths.directory))
    return 0 if result.ok else 1


def cmd_checkpoint(args, config) -> int:
    paths = _paths(config)
    try:
        public_key = load_public_key(paths.public_key_file)
        state = check_witness(*read_witness(paths.directory), public_key)
    except AuditError as exc:
        raise UsageError(str(exc)) from None
    if state.problem is not None:
        print(f"vsc: the witness copy in {paths.directory} does not check out: {state.problem}", file=sys.stderr)
        return 1
    if not state.heads:
        print(f"vsc: the witness has signed no tree head in {paths.directory} yet "
              f"(is `python -m services.eventstore.witness` running?)", file=sys.stderr)
        return 1
    head = {key: value for key, value in state.heads[-1].items() if key != "consistency"}  # not signed
    text = json.dumps(head, indent=2) + "\n"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
    sys.stdout.write(text)
    return 0


def cmd_keygen(args, config) -> int:
    paths = _paths(config)
    try:
        generate_keys(paths)
    except AuditError as exc:
        print(f"vsc: {exc}", file=sys.stderr)
        return 1
    print(f"witness key written to {paths.key_file} (for the witness only) "
          f"and its public key to {paths.public_key_file} (for auditors)")
    return 0


_HEADER = ("position", "stream_id", "version", "event_id", "type", "schema_version", "occurred_at",
           "recorded_at", "prev_hash", "hash")


def _export_line(record) -> tuple[bytes, str | None]:
    """One JSON line with data and metadata exactly as stored; a field that
    is not valid JSON is given as its stored text under ``damaged``."""
    header = {name: getattr(record, name) for name in _HEADER}
    try:
        line = orjson.dumps(header)
    except TypeError:
        line = orjson.dumps({name: value if isinstance(value, (int, type(None))) else repr(value)
                             for name, value in header.items()})
    parts, damaged = [line[:-1]], {}
    for name in ("data", "metadata"):
        text = getattr(record, name)
        try:
            orjson.loads(text)
            parts.append(b',"%s":%s' % (name.encode(), text))
        except (TypeError, ValueError):
            parts.append(b',"%s":null' % name.encode())
            damaged[name] = text.decode("utf-8", "replace") if isinstance(text, bytes) else repr(text)
    if damaged:
        parts.append(b',"damaged":' + orjson.dumps(damaged))
    return b"".join(parts) + b"}\n", (f"{', '.join(damaged)} not valid JSON" if damaged else None)


def cmd_export(args, config) -> int:
    until = args.until
    if until is not None and until < 0:
        raise UsageError(f"--until {until} is not a position (0 or more)")
    as_of = parse_as_of(args.as_of, config.get("TIMEZONE") or DEFAULT_TIMEZONE) if args.as_of else None
    damaged = 0
    with store_from_config(config) as store:
        if as_of is not None:
            until = store.position_at(as_of)
        out = sys.stdout.buffer
        expected, prev_hash = 1, GENESIS_HASH
        for record in store.read_raw(until=until):
            line, problem = _export_line(record)
            chain_problem = check_record(record, expected, prev_hash)
            problem = problem or chain_problem
            if problem is not None:
                damaged += 1
                print(f"vsc: position {record.position}: {problem}", file=sys.stderr)
            out.write(line)
            expected = record.position + 1 if isinstance(record.position, int) else expected + 1
            prev_hash = record.hash
        out.flush()
    if damaged:
        print(f"vsc: {damaged} damaged record(s) exported as stored; run `vsc audit verify`", file=sys.stderr)
        return 1
    return 0


def cmd_head(args, config) -> int:
    with store_from_config(config) as store:
        _print(store.head()._asdict())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vsc", description="Visitor Service Center command line")
    parser.add_argument("--config", help=f"YAML config (default {DEFAULT_CONFIG} when present)")
    groups = parser.add_subparsers(dest="group", required=True)
    audit_commands = groups.add_parser("audit", help="verify and export the log").add_subparsers(
        dest="command", required=True)
    verify = audit_commands.add_parser("verify", help="the chain, and the log against the witness copy")
    verify.add_argument("--checkpoint", help="a signed tree head saved earlier (vsc audit checkpoint --out)")
    verify.set_defaults(run=cmd_verify)
    checkpoint = audit_commands.add_parser("checkpoint", help="the witness's newest signed tree head")
    checkpoint.add_argument("--out", help="write it to this file as well")
    checkpoint.set_defaults(run=cmd_checkpoint)
    audit_commands.add_parser("keygen", help="create the witness's key pair").set_defaults(run=cmd_keygen)
    export = audit_commands.add_parser("export", help="the log as JSON lines, data as stored")
    moment = export.add_mutually_exclusive_group()
    moment.add_argument("--as-of", help="recorded at or before this time: 2026-05-01T12:00:00+08:00, "
                                        "...Z, or a date meaning local midnight at its start (TIMEZONE)")
    moment.add_argument("--until", type=int, help="last position")
    export.set_defaults(run=cmd_export)
    store = groups.add_parser("store", help="the event store").add_subparsers(dest="command", required=True)
    store.add_parser("head", help="the newest record").set_defaults(run=cmd_head)
    staff_cli.add_parsers(groups)
    privacy_cli.add_parsers(groups)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    config = _config(args)
    try:
        return args.run(args, config)
    except UsageError as exc:
        print(f"vsc: {exc}", file=sys.stderr)
        return 2
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
