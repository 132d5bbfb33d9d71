"""`vsc privacy`: personal data on request and by retention (lead or admin),
through the ``privacy`` service with the cached principal (`vsc login`).

    vsc privacy erase (--subject ID | --phone N | --id-number N) --reason TEXT
    vsc privacy sweep [--today YYYY-MM-DD]
    vsc privacy export (--subject ID | --phone N | --id-number N)     subject access (lead)

Give both the phone and the ID number when the person has both: each finds
the subjects it was recorded with.
"""
from __future__ import annotations

import json
import sys

from services.cli.staff import cached_token, call


def _person(args) -> dict:
    return {key: value for key, value in (("subject_id", args.subject), ("phone", args.phone),
                                          ("id_number", args.id_number)) if value}


def cmd_erase(args, config) -> int:
    reply = call(config, "erase", {**_person(args), "reason": args.reason}, token=cached_token(config),
                 service="privacy")
    print(f"erased {len(reply['erased'])} subject(s) now, {len(reply['already'])} erased before; "
          f"recorded at positions {reply['positions']}")
    return 0


def cmd_sweep(args, config) -> int:
    reply = call(config, "sweep", {"today": args.today} if args.today else {}, token=cached_token(config),
                 service="privacy")
    print(f"retention sweep: {len(reply['erased'])} subject(s) erased")
    for subject in reply["erased"]:
        print(f"  {subject}")
    return 0


def cmd_export(args, config) -> int:
    reply = call(config, "subject_access", _person(args), token=cached_token(config), service="privacy")
    sys.stdout.write(json.dumps(reply, ensure_ascii=False, indent=2) + "\n")
    return 0


def add_parsers(groups) -> None:
    privacy = groups.add_parser("privacy", help="erasure, retention sweep, subject access").add_subparsers(
        dest="command", required=True)
    for name, run, help_text in (("erase", cmd_erase, "erase a person's data (lead, admin)"),
                                 ("export", cmd_export, "what is held about a person (lead)")):
        parser = privacy.add_parser(name, help=help_text)
        parser.add_argument("--subject")
        parser.add_argument("--phone")
        parser.add_argument("--id-number")
        if name == "erase":
            parser.add_argument("--reason", required=True, help="why, without personal data")
        parser.set_defaults(run=run)
    sweep = privacy.add_parser("sweep", help="erase what the retention period no longer keeps (lead, admin)")
    sweep.add_argument("--today", help="YYYY-MM-DD (default today at the site)")
    sweep.set_defaults(run=cmd_sweep)
