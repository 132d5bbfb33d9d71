"""Duty log (客服岗位值班记录表) contracts: events and RPCs of ``duty_log``."""
from marshmallow import fields, validate

from contracts import roles
from contracts.base import ContractSchema, EventSchema, Personal, registry
from contracts.common import AppendReply, CommandFields, Day, Desk, Id, Integer, Moment

SERVICE = "duty_log"


@registry.event
class ClerkSignedIn(EventSchema):
    event_type = "ClerkSignedIn"
    schema_version = 1
    source = SERVICE
    description = "A desk clerk signed in (签到) for a duty day, before the shift."

    desk = Desk()
    shift_date = Day(required=True)
    clerk_id = Id()
    clerk_name = fields.String(required=True, validate=validate.Length(min=1, max=40),
                               metadata={"description": "the clerk's display name (staff directory)"})
    signed_in_at = Moment(required=True)


class SignInRequest(CommandFields):
    """The clerk signs in for themselves: who comes from the principal."""
    desk = Desk(required=False, load_default=None, metadata={"description": "defaults to the principal's desk"})
    shift_date = Day(load_default=None, metadata={"description": "defaults to today at the desk"})
    at = Moment(load_default=None, metadata={"description": "when the clerk signed in; defaults to now"})


class SignInReply(AppendReply):
    signed_in_at = Moment(required=True)
    shift_date = Day(required=True)


class SignInSheetRequest(ContractSchema):
    desk = Desk()
    shift_date = Day(required=True)


class SignInSheetRow(ContractSchema):
    clerk_id = fields.String(required=True)
    clerk_name = fields.String(required=True)
    signed_in_at = Moment(required=True)
    position = Integer(required=True, metadata={"description": "the event this row comes from"})


class SignInSheet(ContractSchema):
    desk = fields.String(required=True)
    shift_date = Day(required=True)
    rows = fields.List(fields.Nested(SignInSheetRow), required=True)
    as_of_position = Integer(required=True)


SIGN_IN = registry.rpc(SERVICE, "sign_in", SignInRequest, SignInReply,
                       "A clerk signs in (签到) for the duty day at a desk.",
                       roles=frozenset({roles.CLERK}))
SIGN_IN_SHEET = registry.rpc("forms", "sign_in_sheet", SignInSheetRequest, SignInSheet,
                             "The sign-in sheet of one desk and duty day, rebuilt from the log.",
                             roles=roles.READERS)
