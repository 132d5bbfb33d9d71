"""Fields and small schemas shared by several contracts."""
from marshmallow import fields, validate

from contracts.base import ContractSchema

DESK = dict(required=True, validate=validate.Length(min=1, max=40))
ID = dict(required=True, validate=validate.Length(min=1, max=80))


def Desk(**kwargs):
    """The desk (service point) a clerk works at, e.g. ``main-gate``."""
    return fields.String(**{**DESK, **kwargs})


def Id(**kwargs):
    return fields.String(**{**ID, **kwargs})


def Moment(**kwargs):
    """A timezone-aware ISO-8601 time, e.g. ``2026-05-01T08:30:00+08:00``."""
    return fields.AwareDateTime(format="iso", **kwargs)


class CommandFields(ContractSchema):
    """Fields every command RPC accepts besides its own."""

    command_id = fields.String(load_default=None, validate=validate.Length(min=8, max=80),
                               metadata={"description": "makes a retried call a no-op that returns the first result"})
    correlation_id = fields.String(load_default=None, validate=validate.Length(max=80))


class AppendReply(ContractSchema):
    """What every command RPC returns about the append it made."""

    stream_id = fields.String(required=True)
    version = fields.Integer(required=True)
    positions = fields.List(fields.Integer(), required=True)
    event_ids = fields.List(fields.String(), required=True)
    duplicate = fields.Boolean(required=True,
                               metadata={"description": "true when this command id was seen before"})
