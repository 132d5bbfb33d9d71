"""Staff accounts and login (``staff`` service): events and RPCs.

Passwords travel only in the login and password RPCs (marked ``Secret``:
never logged, never in a reply); the log keeps argon2id hashes only.
"""
from marshmallow import fields, validate

from contracts import roles
from contracts.base import ContractSchema, EventSchema, Secret, registry
from contracts.common import AppendReply, Boolean, Desk, Integer, Moment

SERVICE = "staff"

StaffId = validate.Regexp(r"^[a-z0-9][a-z0-9._-]{1,39}$",
                          error="2-40 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")


def _staff_id(**kwargs):
    return fields.String(required=True, validate=StaffId, **kwargs)


def _roles(**kwargs):
    return fields.List(fields.String(validate=validate.OneOf(sorted(roles.ALL))), required=True,
                       validate=validate.Length(min=1, max=len(roles.ALL)), **kwargs)


def _desks(**kwargs):
    return fields.List(fields.String(validate=validate.Length(min=1, max=40)), load_default=list,
                       validate=validate.Length(max=20),
                       metadata={"description": "desks this person works at; empty: any desk"}, **kwargs)


DisplayName = validate.Length(min=1, max=40)


class _Event(EventSchema):
    schema_version = 1
    source = SERVICE


@registry.event
class StaffAccountCreated(_Event):
    event_type = "StaffAccountCreated"
    description = "A staff account was created, with a one-time password to change at first login."

    staff_id = _staff_id()
    display_name = fields.String(required=True, validate=DisplayName)
    roles = _roles()
    desks = fields.List(fields.String(), required=True)
    password_hash = Secret(required=True)
    password_change_required = Boolean(required=True)
    created_at = Moment(required=True)


@registry.event
class StaffRolesChanged(_Event):
    event_type = "StaffRolesChanged"
    description = "An admin changed a staff member's roles or desks."

    staff_id = _staff_id()
    roles = _roles()
    desks = fields.List(fields.String(), required=True)
    changed_at = Moment(required=True)


@registry.event
class StaffPasswordSet(_Event):
    event_type = "StaffPasswordSet"
    description = "A password was changed by its owner, or reset by an admin to a one-time password."

    staff_id = _staff_id()
    password_hash = Secret(required=True)
    password_change_required = Boolean(required=True)
    set_at = Moment(required=True)


@registry.event
class StaffAccountDisabled(_Event):
    event_type = "StaffAccountDisabled"
    description = "A staff account may no longer log in."

    staff_id = _staff_id()
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))
    disabled_at = Moment(required=True)


@registry.event
class StaffAccountEnabled(_Event):
    event_type = "StaffAccountEnabled"
    description = "A disabled staff account may log in again."

    staff_id = _staff_id()
    enabled_at = Moment(required=True)


@registry.event
class StaffLoggedIn(_Event):
    event_type = "StaffLoggedIn"
    description = "A staff member logged in (password checked) and got a principal."

    staff_id = _staff_id()
    desk = fields.String(required=True, allow_none=True)
    source = fields.String(required=True, validate=validate.Length(max=64),
                           metadata={"description": "the terminal or address the login came from"})
    logged_in_at = Moment(required=True)


# -- RPCs -----------------------------------------------------------------------------
class LoginRequest(ContractSchema):
    staff_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    password = Secret(required=True, validate=validate.Length(min=1, max=128))
    desk = Desk(load_default=None, required=False, allow_none=True,
                metadata={"description": "the desk this terminal is at"})


class PrincipalReply(ContractSchema):
    token = fields.String(required=True, metadata={"description": "pass in nameko context data as `principal`"})
    staff_id = fields.String(required=True)
    name = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    desk = fields.String(allow_none=True)
    issued_at = Moment(required=True)
    expires_at = Moment(required=True)
    password_change_required = Boolean(required=True)


class Empty(ContractSchema):
    pass


class ChangeOwnPasswordRequest(ContractSchema):
    current_password = Secret(required=True, validate=validate.Length(min=1, max=128))
    new_password = Secret(required=True, validate=validate.Length(min=1, max=128))


class AddStaffRequest(ContractSchema):
    command_id = fields.String(load_default=None, validate=validate.Length(min=8, max=80))
    staff_id = _staff_id()
    display_name = fields.String(required=True, validate=DisplayName)
    roles = _roles()
    desks = _desks()


class OneTimePasswordReply(AppendReply):
    staff_id = fields.String(required=True)
    one_time_password = fields.String(required=True, allow_none=True, metadata={
        "description": "shown once; the staff member must change it at first login "
                       "(null on a retried call: reset the password to get a new one)"})


class SetRolesRequest(ContractSchema):
    command_id = fields.String(load_default=None, validate=validate.Length(min=8, max=80))
    staff_id = _staff_id()
    roles = _roles()
    desks = _desks()


class StaffIdRequest(ContractSchema):
    command_id = fields.String(load_default=None, validate=validate.Length(min=8, max=80))
    staff_id = _staff_id()


class DisableStaffRequest(StaffIdRequest):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))


class StaffRow(ContractSchema):
    staff_id = fields.String(required=True)
    display_name = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    desks = fields.List(fields.String(), required=True)
    active = Boolean(required=True)


class StaffList(ContractSchema):
    rows = fields.List(fields.Nested(StaffRow), required=True)
    as_of_position = Integer(required=True)


LOGIN = registry.rpc(SERVICE, "login", LoginRequest, PrincipalReply,
                     "Check a staff member's password and issue a signed principal.", roles=roles.OPEN)
REFRESH = registry.rpc(SERVICE, "refresh", Empty, PrincipalReply,
                       "A fresh principal for a still valid one, while the account is active.",
                       roles=roles.ALL, while_password_change=True)
WHOAMI = registry.rpc(SERVICE, "whoami", Empty, StaffRow, "The calling principal's account.",
                      roles=roles.ALL, while_password_change=True)
CHANGE_OWN_PASSWORD = registry.rpc(SERVICE, "change_own_password", ChangeOwnPasswordRequest, PrincipalReply,
                                   "A staff member changes their own password (also the one-time one).",
                                   roles=roles.ALL, while_password_change=True)
ADD_STAFF = registry.rpc(SERVICE, "add_staff", AddStaffRequest, OneTimePasswordReply,
                         "An admin creates a staff account; its one-time password is shown once.",
                         roles=frozenset({roles.ADMIN}))
SET_ROLES = registry.rpc(SERVICE, "set_roles", SetRolesRequest, AppendReply,
                         "An admin sets a staff member's roles and desks.", roles=frozenset({roles.ADMIN}))
RESET_PASSWORD = registry.rpc(SERVICE, "reset_password", StaffIdRequest, OneTimePasswordReply,
                              "An admin gives a staff member a new one-time password.",
                              roles=frozenset({roles.ADMIN}))
DISABLE_STAFF = registry.rpc(SERVICE, "disable_staff", DisableStaffRequest, AppendReply,
                             "An admin disables a staff account.", roles=frozenset({roles.ADMIN}))
ENABLE_STAFF = registry.rpc(SERVICE, "enable_staff", StaffIdRequest, AppendReply,
                            "An admin enables a disabled staff account.", roles=frozenset({roles.ADMIN}))
LIST_STAFF = registry.rpc(SERVICE, "list_staff", Empty, StaffList, "Every staff account (no passwords).",
                          roles=frozenset({roles.ADMIN, roles.LEAD}))
