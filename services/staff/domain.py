"""Staff accounts decider: who may log in, with which roles, at which desks.
Pure: the password hash is made and checked by the service; the decider
only records it.

Streams:
- ``staff-<staff_id>``: one account from creation through role changes,
  password changes and disabling (a handful of events, however long the
  account lives);
- ``staff_logins-<staff_id>-<date>``: that account's logins of one day, so
  that logging in never reads a year of earlier logins.
A rule that needs to know about other accounts (never leave the center
without an active admin) gets what it needs in the command
(``other_active_admins``); a login carries the account as it stands.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from contracts.roles import ADMIN, ALL
from services.chassis.decider import NotFound, Rejected

STAFF_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")


def stream_id(staff_id: str) -> str:
    return f"staff-{staff_id}"


def logins_stream_id(staff_id: str, day: dt.date) -> str:
    return f"staff_logins-{staff_id}-{day.isoformat()}"


# -- commands -----------------------------------------------------------------
@dataclass(frozen=True)
class CreateStaffAccount:
    staff_id: str
    display_name: str
    roles: frozenset
    desks: frozenset
    password_hash: str
    at: dt.datetime
    password_change_required: bool = True   # a one-time password was handed out


@dataclass(frozen=True)
class ChangeStaffRoles:
    staff_id: str
    roles: frozenset
    desks: frozenset
    other_active_admins: int
    at: dt.datetime


@dataclass(frozen=True)
class SetStaffPassword:
    staff_id: str
    password_hash: str
    password_change_required: bool
    at: dt.datetime


@dataclass(frozen=True)
class DisableStaffAccount:
    staff_id: str
    reason: str
    other_active_admins: int
    at: dt.datetime


@dataclass(frozen=True)
class EnableStaffAccount:
    staff_id: str
    at: dt.datetime


@dataclass(frozen=True)
class RecordLogin:
    """The password was checked by the service; record the login.
    ``account`` is the account as it stands (None: no such account)."""
    account: "StaffAccount | None"
    desk: str | None
    source: str
    at: dt.datetime


# -- events -------------------------------------------------------------------
@dataclass(frozen=True)
class StaffAccountCreated:
    staff_id: str
    display_name: str
    roles: tuple
    desks: tuple
    password_hash: str
    password_change_required: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class StaffRolesChanged:
    staff_id: str
    roles: tuple
    desks: tuple
    changed_at: dt.datetime


@dataclass(frozen=True)
class StaffPasswordSet:
    staff_id: str
    password_hash: str
    password_change_required: bool
    set_at: dt.datetime


@dataclass(frozen=True)
class StaffAccountDisabled:
    staff_id: str
    reason: str
    disabled_at: dt.datetime


@dataclass(frozen=True)
class StaffAccountEnabled:
    staff_id: str
    enabled_at: dt.datetime


@dataclass(frozen=True)
class StaffLoggedIn:
    staff_id: str
    desk: str | None
    source: str
    logged_in_at: dt.datetime


EVENTS = (StaffAccountCreated, StaffRolesChanged, StaffPasswordSet, StaffAccountDisabled, StaffAccountEnabled,
          StaffLoggedIn)


# -- state --------------------------------------------------------------------
@dataclass(frozen=True)
class NoAccount:
    """A stream with no events yet."""


@dataclass(frozen=True)
class StaffAccount:
    staff_id: str
    display_name: str
    roles: frozenset
    desks: frozenset
    password_hash: str
    password_change_required: bool
    active: bool = True

    def may_work_at(self, desk: str | None) -> bool:
        """No desks listed: any desk."""
        return not self.desks or desk is None or desk in self.desks


initial_state = NoAccount()


# -- rules --------------------------------------------------------------------
def _check_roles(roles: frozenset) -> None:
    if not roles:
        raise Rejected("no_roles", "a staff account needs at least one role", field="roles")
    unknown = sorted(roles - ALL)
    if unknown:
        raise Rejected("unknown_role", f"unknown role {unknown[0]!r}", field="roles")


def _keeps_an_admin(account: StaffAccount, still_admin: bool, other_active_admins: int) -> None:
    if account.active and ADMIN in account.roles and not still_admin and other_active_admins < 1:
        raise Rejected("last_admin", "the center must keep at least one active admin", field="staff_id")


def _create(c: CreateStaffAccount) -> list:
    if not STAFF_ID.fullmatch(c.staff_id):
        raise Rejected("bad_staff_id", "a staff id is 2-40 lower-case letters, digits, '.', '_' or '-'",
                       field="staff_id")
    _check_roles(c.roles)
    return [StaffAccountCreated(c.staff_id, c.display_name, tuple(sorted(c.roles)), tuple(sorted(c.desks)),
                                c.password_hash, c.password_change_required, c.at)]


def _change_roles(c: ChangeStaffRoles, account: StaffAccount) -> list:
    _check_roles(c.roles)
    _keeps_an_admin(account, ADMIN in c.roles, c.other_active_admins)
    if c.roles == account.roles and c.desks == account.desks:
        return []
    return [StaffRolesChanged(c.staff_id, tuple(sorted(c.roles)), tuple(sorted(c.desks)), c.at)]


def _disable(c: DisableStaffAccount, account: StaffAccount) -> list:
    if not account.active:
        raise Rejected("already_disabled", f"staff account {c.staff_id} is already disabled", field="staff_id")
    _keeps_an_admin(account, False, c.other_active_admins)
    return [StaffAccountDisabled(c.staff_id, c.reason, c.at)]


def _enable(c: EnableStaffAccount, account: StaffAccount) -> list:
    if account.active:
        raise Rejected("already_active", f"staff account {c.staff_id} is active", field="staff_id")
    return [StaffAccountEnabled(c.staff_id, c.at)]


def _login(c: RecordLogin) -> list:
    account = c.account
    if account is None:
        raise NotFound("no such staff account", field="staff_id")
    if not account.active:
        raise Rejected("account_disabled", "this staff account is disabled", field="staff_id")
    if not account.may_work_at(c.desk):
        raise Rejected("desk_not_assigned", f"staff {account.staff_id} does not work at desk {c.desk}",
                       field="desk")
    return [StaffLoggedIn(account.staff_id, c.desk, c.source, c.at)]


def decide(command, state) -> list:
    match command, state:
        case RecordLogin(), _:
            return _login(command)
        case CreateStaffAccount(), NoAccount():
            return _create(command)
        case CreateStaffAccount(), _:
            raise Rejected("already_exists", f"staff account {command.staff_id} already exists", field="staff_id")
        case _, NoAccount():
            raise NotFound(f"no staff account {command.staff_id}", field="staff_id")
        case ChangeStaffRoles(), StaffAccount():
            return _change_roles(command, state)
        case SetStaffPassword(), StaffAccount():
            return [StaffPasswordSet(command.staff_id, command.password_hash, command.password_change_required,
                                     command.at)]
        case DisableStaffAccount(), StaffAccount():
            return _disable(command, state)
        case EnableStaffAccount(), StaffAccount():
            return _enable(command, state)
    raise TypeError(f"staff cannot decide {type(command).__name__} on {type(state).__name__}")


def evolve(state, event):
    match event:
        case StaffAccountCreated():
            return StaffAccount(event.staff_id, event.display_name, frozenset(event.roles), frozenset(event.desks),
                                event.password_hash, event.password_change_required)
        case StaffRolesChanged():
            return replace(state, roles=frozenset(event.roles), desks=frozenset(event.desks))
        case StaffPasswordSet():
            return replace(state, password_hash=event.password_hash,
                           password_change_required=event.password_change_required)
        case StaffAccountDisabled():
            return replace(state, active=False)
        case StaffAccountEnabled():
            return replace(state, active=True)
    return state
