"""`vsc` commands for people: keys, the first admin, login, staff accounts.

    vsc keys init                              create the principal key pair (once per installation)
    vsc staff bootstrap --staff-id ID --name N the first admin; prints a one-time password
    vsc login --staff-id ID [--desk D]         ask the password, cache a principal (mode 0600)
    vsc logout | vsc whoami
    vsc staff add ID --name N --roles clerk,custodian [--desks main-gate]
    vsc staff roles ID --roles ... [--desks ...] | passwd [ID] | disable ID --reason R | enable ID | list

Everything but ``keys init`` and ``bootstrap`` (which run on the host, next
to the store) goes through the ``staff`` service's RPCs with the cached
principal in nameko's context data, as a desk terminal would.
"""
from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import socket
import sys
import warnings

from services.chassis.principal import (
    CONTEXT_KEY, DEFAULT_PUBLIC_KEY_FILE, DEFAULT_SIGNING_KEY_FILE, key_path, write_keypair,
)

DEFAULT_TOKEN_FILE = os.path.join("~", ".config", "vsc", "principal.json")
RPC_TIMEOUT = 30


class CliError(Exception):
    """Printed as ``vsc: <message>``, exit 2."""


def token_file(config: dict) -> str:
    return os.path.expanduser(os.environ.get("VSC_TOKEN_FILE") or config.get("VSC_TOKEN_FILE")
                              or DEFAULT_TOKEN_FILE)


def save_principal(config: dict, reply: dict) -> None:
    path = token_file(config)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    cached = {key: reply[key] for key in ("token", "staff_id", "name", "roles", "desk", "expires_at")}
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        json.dump(cached, handle)
    os.chmod(path, 0o600)  # an older file keeps its mode through O_TRUNC


def cached_token(config: dict) -> str:
    """The cached principal, or a clear request to log in."""
    path = token_file(config)
    try:
        with open(path, encoding="utf-8") as handle:
            cached = json.load(handle)
    except (OSError, ValueError):
        raise CliError("not logged in: run `vsc login --staff-id <your id>`") from None
    expires = dt.datetime.fromisoformat(cached["expires_at"])
    if expires <= dt.datetime.now(dt.timezone.utc):
        raise CliError(f"your login expired at {expires.isoformat()}: run `vsc login` again")
    return cached["token"]


def rpc_proxy(config: dict, token: str | None, **context):
    warnings.simplefilter("ignore")  # nameko imports pkg_resources
    from nameko.standalone.rpc import ClusterRpcProxy
    data = dict(context, **({CONTEXT_KEY: token} if token else {}))
    return ClusterRpcProxy({"AMQP_URI": config["AMQP_URI"], "serializer": "json"}, context_data=data,
                           timeout=RPC_TIMEOUT)


def call(config: dict, method: str, payload: dict, *, token: str | None = None, service: str = "staff",
         **context) -> dict:
    """``<service>.<method>(payload)``; a refusal becomes a CliError with its message."""
    from nameko.exceptions import RemoteError
    from services.chassis.errors import error_body
    try:
        with rpc_proxy(config, token, **context) as rpc:
            return getattr(getattr(rpc, service), method)(payload)
    except RemoteError as exc:
        body = error_body(exc)
        fields = "; ".join(f"{name}: {', '.join(map(str, problems))}"
                           for name, problems in (body.get("fields") or {}).items())
        raise CliError(f"{body.get('code')}: {body.get('message')}" + (f" ({fields})" if fields else "")) from None
    except (OSError, TimeoutError) as exc:
        raise CliError(f"the {service} service does not answer ({type(exc).__name__}): is the system running?") \
            from None


def _ask(prompt: str, args) -> str:
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\n")
    return getpass.getpass(prompt)


def _print(value) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


# -- commands -------------------------------------------------------------------------
def cmd_keys_init(args, config) -> int:
    private = key_path(config, "PRINCIPAL_SIGNING_KEY_FILE", DEFAULT_SIGNING_KEY_FILE)
    public = key_path(config, "PRINCIPAL_PUBLIC_KEY_FILE", DEFAULT_PUBLIC_KEY_FILE)
    existed = os.path.exists(private) and os.path.exists(public)
    write_keypair(private, public)
    print(f"principal keys {'already exist' if existed else 'written'}: {private} (private, 0600), {public}")
    return 0


def cmd_bootstrap(args, config) -> int:
    from services.chassis.wiring import store_from_config
    from services.staff.bootstrap import bootstrap_admin
    with store_from_config(config) as store:
        one_time = bootstrap_admin(store, args.staff_id, args.name, config)
    print(f"admin {args.staff_id} created. One-time password (shown once, change it at first login):")
    print(f"  {one_time}")
    print(f"next: vsc login --staff-id {args.staff_id}")
    return 0


def cmd_login(args, config) -> int:
    source = f"cli:{socket.gethostname()}"[:64]
    password = _ask("password: ", args)
    reply = call(config, "login", {"staff_id": args.staff_id, "password": password, "desk": args.desk},
                 source=source)
    if reply["password_change_required"]:
        print("this is a one-time password: choose your own (at least 10 characters)", file=sys.stderr)
        new = _ask("new password: ", args)
        if not getattr(args, "password_stdin", False) and getpass.getpass("new password again: ") != new:
            raise CliError("the two new passwords differ")
        reply = call(config, "change_own_password", {"current_password": password, "new_password": new},
                     token=reply["token"])
    save_principal(config, reply)
    print(f"logged in as {reply['staff_id']} ({', '.join(reply['roles'])}) until {reply['expires_at']}")
    return 0


def cmd_logout(args, config) -> int:
    try:
        os.remove(token_file(config))
    except FileNotFoundError:
        pass
    print("logged out")
    return 0


def cmd_whoami(args, config) -> int:
    _print(call(config, "whoami", {}, token=cached_token(config)))
    return 0


def _roles(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def cmd_staff_add(args, config) -> int:
    reply = call(config, "add_staff", {"staff_id": args.staff_id, "display_name": args.name,
                                       "roles": _roles(args.roles), "desks": _roles(args.desks or "")},
                 token=cached_token(config))
    print(f"{reply['staff_id']} added. One-time password (shown once): {reply['one_time_password']}")
    return 0


def cmd_staff_roles(args, config) -> int:
    call(config, "set_roles", {"staff_id": args.staff_id, "roles": _roles(args.roles),
                               "desks": _roles(args.desks or "")}, token=cached_token(config))
    print(f"{args.staff_id}: roles {args.roles}")
    return 0


def cmd_staff_passwd(args, config) -> int:
    token = cached_token(config)
    if args.staff_id:
        reply = call(config, "reset_password", {"staff_id": args.staff_id}, token=token)
        print(f"{args.staff_id}: new one-time password (shown once): {reply['one_time_password']}")
        return 0
    current = _ask("current password: ", args)
    new = _ask("new password: ", args)
    save_principal(config, call(config, "change_own_password", {"current_password": current, "new_password": new},
                                token=token))
    print("password changed")
    return 0


def cmd_staff_disable(args, config) -> int:
    call(config, "disable_staff", {"staff_id": args.staff_id, "reason": args.reason}, token=cached_token(config))
    print(f"{args.staff_id}: disabled")
    return 0


def cmd_staff_enable(args, config) -> int:
    call(config, "enable_staff", {"staff_id": args.staff_id}, token=cached_token(config))
    print(f"{args.staff_id}: enabled")
    return 0


def cmd_staff_list(args, config) -> int:
    for row in call(config, "list_staff", {}, token=cached_token(config))["rows"]:
        print(f"{row['staff_id']:<20} {row['display_name']:<12} {','.join(row['roles']):<30} "
              f"{','.join(row['desks']) or '(any desk)':<20} {'active' if row['active'] else 'disabled'}")
    return 0


def add_parsers(groups) -> None:
    keys = groups.add_parser("keys", help="principal signing keys").add_subparsers(dest="command", required=True)
    keys.add_parser("init", help="create the key pair unless it exists").set_defaults(run=cmd_keys_init)

    login = groups.add_parser("login", help="log in and cache a principal")
    login.add_argument("--staff-id", required=True)
    login.add_argument("--desk", help="the desk this terminal is at")
    login.add_argument("--password-stdin", action="store_true", help="read passwords from stdin (scripts)")
    login.set_defaults(run=cmd_login)
    groups.add_parser("logout", help="forget the cached principal").set_defaults(run=cmd_logout)
    groups.add_parser("whoami", help="the logged-in account").set_defaults(run=cmd_whoami)

    staff = groups.add_parser("staff", help="staff accounts").add_subparsers(dest="command", required=True)
    boot = staff.add_parser("bootstrap", help="create the first admin (on the host, once)")
    boot.add_argument("--staff-id", required=True)
    boot.add_argument("--name", required=True, help="display name, e.g. 管理员")
    boot.set_defaults(run=cmd_bootstrap)
    add = staff.add_parser("add", help="add an account (admin)")
    add.add_argument("staff_id")
    add.add_argument("--name", required=True)
    add.add_argument("--roles", required=True, help="comma-separated, e.g. clerk,custodian")
    add.add_argument("--desks", help="comma-separated; default any desk")
    add.set_defaults(run=cmd_staff_add)
    roles = staff.add_parser("roles", help="set roles and desks (admin)")
    roles.add_argument("staff_id")
    roles.add_argument("--roles", required=True)
    roles.add_argument("--desks")
    roles.set_defaults(run=cmd_staff_roles)
    passwd = staff.add_parser("passwd", help="change your password, or reset another's (admin)")
    passwd.add_argument("staff_id", nargs="?")
    passwd.add_argument("--password-stdin", action="store_true")
    passwd.set_defaults(run=cmd_staff_passwd)
    disable = staff.add_parser("disable", help="disable an account (admin)")
    disable.add_argument("staff_id")
    disable.add_argument("--reason", required=True)
    disable.set_defaults(run=cmd_staff_disable)
    enable = staff.add_parser("enable", help="enable an account (admin)")
    enable.add_argument("staff_id")
    enable.set_defaults(run=cmd_staff_enable)
    staff.add_parser("list", help="every account (admin, lead)").set_defaults(run=cmd_staff_list)
