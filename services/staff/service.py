"""staff: accounts, login and principals. The only process that holds the
principal signing key (``PRINCIPAL_SIGNING_KEY_FILE``).

Passwords are checked with argon2id in eventlet's thread pool: a hash takes
a tenth of a second of CPU, which on the hub would stall every other call
of the process (and its broker heartbeats)."""
from __future__ import annotations

import datetime as dt
import math
import re
import time
from zoneinfo import ZoneInfo

from eventlet import tpool
from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider

from contracts.staff import (
    ADD_STAFF, CHANGE_OWN_PASSWORD, DISABLE_STAFF, ENABLE_STAFF, LIST_STAFF, LOGIN, REFRESH, RESET_PASSWORD,
    SET_ROLES, WHOAMI,
)
from services.chassis.decider import NotFound
from services.chassis.dependencies import EventSourced, ReadModel
from services.chassis.errors import Throttled, Unauthenticated, ValidationFailed
from services.chassis.principal import load_signer
from services.chassis.service import ServiceBase, append_reply, contract_rpc
from services.staff import domain, passwords
from services.staff.directory import StaffDirectory
from services.staff.throttle import LoginThrottle

SOURCE_KEY = "source"  # context data: the terminal or address a login comes from
_SOURCE_CHARS = re.compile(r"[^A-Za-z0-9._:@/-]")


class Signer(DependencyProvider):
    def setup(self):
        self.signer = load_signer(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.signer


class Passwords(DependencyProvider):
    """Hash and check passwords off the hub (``tpool``)."""

    def setup(self):
        self.hasher = passwords.hasher(self.container.config)
        # checked when the staff id is unknown, so that a wrong id costs the
        # same time as a wrong password and ids cannot be probed
        self.decoy = self.hasher.hash(passwords.one_time_password())

    def get_dependency(self, worker_ctx):
        return self

    def hash(self, password: str) -> str:
        return tpool.execute(self.hasher.hash, password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        return tpool.execute(passwords.verify, self.hasher, password_hash or self.decoy, password)


class Throttle(DependencyProvider):
    def setup(self):
        config = self.container.config
        self.throttle = LoginThrottle(per_account=int(config.get("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)),
                                      per_source=int(config.get("LOGIN_MAX_FAILURES_PER_SOURCE", 20)),
                                      window_seconds=float(config.get("LOGIN_THROTTLE_WINDOW_SECONDS", 900)))

    def get_dependency(self, worker_ctx):
        return self.throttle


class StaffService(ServiceBase):
    name = "staff"
    ledger = EventSourced(domain, domain.EVENTS)
    directory = ReadModel(StaffDirectory)
    signer = Signer()
    passwords = Passwords()
    throttle = Throttle()
    config = Config()

    # -- helpers ---------------------------------------------------------------------
    def _account(self, staff_id: str) -> domain.StaffAccount | None:
        state = self.ledger.state(domain.stream_id(staff_id))
        return state if isinstance(state, domain.StaffAccount) else None

    def _known(self, staff_id: str) -> domain.StaffAccount:
        account = self._account(staff_id)
        if account is None:
            raise NotFound(f"no staff account {staff_id}", field="staff_id")
        return account

    def _staff_directory(self) -> StaffDirectory:
        self.directory.catch_up()
        return self.directory.fold(StaffDirectory)

    def _source(self) -> str:
        source = self.auth.context.get(SOURCE_KEY)
        return _SOURCE_CHARS.sub("_", source)[:64] if isinstance(source, str) and source else "rpc"

    def _issue(self, account: domain.StaffAccount, desk: str | None) -> tuple[str, object]:
        return self.signer.issue(account.staff_id, account.display_name, account.roles, desk,
                                 password_change_required=account.password_change_required)

    @staticmethod
    def _principal_reply(token: str, principal) -> dict:
        return {"token": token, "staff_id": principal.staff_id, "name": principal.name,
                "roles": sorted(principal.roles), "desk": principal.desk,
                "issued_at": dt.datetime.fromtimestamp(principal.issued_at, dt.timezone.utc),
                "expires_at": dt.datetime.fromtimestamp(principal.expires_at, dt.timezone.utc),
                "password_change_required": principal.password_change_required}

    def _local_day(self, at: dt.datetime) -> dt.date:
        return at.astimezone(ZoneInfo(self.config.get("TIMEZONE", "Asia/Shanghai"))).date()

    def _check_new_password(self, password: str, staff_id: str, field: str) -> None:
        problem = passwords.weakness(password, staff_id)
        if problem:
            raise ValidationFailed(f"{field}: {problem}", {field: [problem]})

    # -- login -----------------------------------------------------------------------
    @contract_rpc(LOGIN)
    def login(self, request):
        staff_id, source, now = request["staff_id"], self._source(), time.time()
        wait = self.throttle.retry_after(staff_id, source, now)
        if wait is not None:
            self.log.info("login.throttled", source=source)
            raise Throttled("too many failed logins: wait before trying again", retry_after=math.ceil(wait))
        account = self._account(staff_id) if domain.STAFF_ID.fullmatch(staff_id) else None
        if not self.passwords.verify(account.password_hash if account else None, request["password"]) \
                or account is None:
            self.throttle.failed(staff_id, source, time.time())
            self.log.info("login.failed", known_account=account is not None, source=source)
            raise Unauthenticated("wrong staff id or password")
        self.throttle.succeeded(staff_id)
        token, principal = self._issue(account, request["desk"])
        at = self.clock()
        result = self.ledger.execute(domain.logins_stream_id(staff_id, self._local_day(at)),
                                     domain.RecordLogin(account, request["desk"], source, at),
                                     occurred_at=at, desk=request["desk"], as_principal=principal)
        self.log.info("login.done", stream=result.stream_id, position=result.last_position)
        return self._principal_reply(token, principal)

    @contract_rpc(REFRESH)
    def refresh(self, request):
        principal = self.auth.principal
        account = self._account(principal.staff_id)
        if account is None or not account.active:
            raise Unauthenticated("this staff account is disabled")
        token, fresh = self._issue(account, principal.desk)
        return self._principal_reply(token, fresh)

    @contract_rpc(WHOAMI)
    def whoami(self, request):
        account = self._known(self.auth.principal.staff_id)
        return {"staff_id": account.staff_id, "display_name": account.display_name, "roles": sorted(account.roles),
                "desks": sorted(account.desks), "active": account.active}

    @contract_rpc(CHANGE_OWN_PASSWORD)
    def change_own_password(self, request):
        principal = self.auth.principal
        account = self._known(principal.staff_id)
        if not self.passwords.verify(account.password_hash, request["current_password"]):
            raise ValidationFailed("the current password is wrong", {"current_password": ["wrong password"]})
        self._check_new_password(request["new_password"], account.staff_id, "new_password")
        if request["new_password"] == request["current_password"]:
            raise ValidationFailed("choose a new password", {"new_password": ["same as the current one"]})
        at = self.clock()
        self.ledger.execute(domain.stream_id(account.staff_id),
                            domain.SetStaffPassword(account.staff_id, self.passwords.hash(request["new_password"]),
                                                    False, at), occurred_at=at)
        token, fresh = self._issue(self._known(account.staff_id), principal.desk)
        self.log.info("password.changed")
        return self._principal_reply(token, fresh)

    # -- administration ----------------------------------------------------------------
    @contract_rpc(ADD_STAFF)
    def add_staff(self, request):
        one_time = passwords.one_time_password()
        at = self.clock()
        command = domain.CreateStaffAccount(request["staff_id"], request["display_name"], frozenset(request["roles"]),
                                            frozenset(request["desks"]), self.passwords.hash(one_time), at)
        result = self.ledger.execute(domain.stream_id(command.staff_id), command, occurred_at=at,
                                     command_id=request["command_id"])
        self.log.info("staff.added", stream=result.stream_id, position=result.last_position,
                      duplicate=result.duplicate)
        # a retried call created nothing: its password was shown the first time only
        return {**append_reply(result), "staff_id": command.staff_id,
                "one_time_password": None if result.duplicate else one_time}

    @contract_rpc(RESET_PASSWORD)
    def reset_password(self, request):
        self._known(request["staff_id"])
        one_time = passwords.one_time_password()
        at = self.clock()
        result = self.ledger.execute(domain.stream_id(request["staff_id"]),
                                     domain.SetStaffPassword(request["staff_id"], self.passwords.hash(one_time),
                                                             True, at),
                                     occurred_at=at, command_id=request["command_id"])
        self.log.info("staff.password_reset", stream=result.stream_id, position=result.last_position)
        return {**append_reply(result), "staff_id": request["staff_id"],
                "one_time_password": None if result.duplicate else one_time}

    @contract_rpc(SET_ROLES)
    def set_roles(self, request):
        at = self.clock()
        others = self._staff_directory().active_admins(besides=request["staff_id"])
        command = domain.ChangeStaffRoles(request["staff_id"], frozenset(request["roles"]),
                                          frozenset(request["desks"]), others, at)
        result = self.ledger.execute(domain.stream_id(request["staff_id"]), command, occurred_at=at,
                                     command_id=request["command_id"])
        self.log.info("staff.roles_set", stream=result.stream_id, position=result.last_position)
        return append_reply(result)

    @contract_rpc(DISABLE_STAFF)
    def disable_staff(self, request):
        at = self.clock()
        others = self._staff_directory().active_admins(besides=request["staff_id"])
        result = self.ledger.execute(domain.stream_id(request["staff_id"]),
                                     domain.DisableStaffAccount(request["staff_id"], request["reason"], others, at),
                                     occurred_at=at, command_id=request["command_id"])
        self.log.info("staff.disabled", stream=result.stream_id, position=result.last_position)
        return append_reply(result)

    @contract_rpc(ENABLE_STAFF)
    def enable_staff(self, request):
        at = self.clock()
        result = self.ledger.execute(domain.stream_id(request["staff_id"]),
                                     domain.EnableStaffAccount(request["staff_id"], at), occurred_at=at,
                                     command_id=request["command_id"])
        self.log.info("staff.enabled", stream=result.stream_id, position=result.last_position)
        return append_reply(result)

    @contract_rpc(LIST_STAFF)
    def list_staff(self, request):
        directory = self._staff_directory()
        return {"rows": [{"staff_id": e.staff_id, "display_name": e.display_name, "roles": sorted(e.roles),
                          "desks": sorted(e.desks), "active": e.active} for e in directory.rows()],
                "as_of_position": self.directory.position}
