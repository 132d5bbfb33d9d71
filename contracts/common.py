"""Fields and small schemas shared by several contracts.

Use these (or the classes in ``contracts.base``) rather than marshmallow's
own Boolean, Integer, Date and DateTime: those accept ``"yes"``, ``"10"``,
``1.5`` or year 1, and the registry refuses a contract that uses them.
"""
from marshmallow import fields, validate

from contracts.base import (MULTILINE, ContractSchema, DayField, MomentField, MonthField, StrictBoolean,
                            StrictInteger)

DESK = dict(required=True, validate=validate.Length(min=1, max=40))
ID = dict(required=True, validate=validate.Length(min=1, max=80))


def Desk(**kwargs):
    """The desk (service point) a clerk works at, e.g. ``main-gate``."""
    return fields.String(**{**DESK, **kwargs})


def Id(**kwargs):
    return fields.String(**{**ID, **kwargs})


def Moment(**kwargs):
    """A timezone-aware ISO-8601 time, e.g. ``2026-05-01T08:30:00+08:00``,
    from 2000-01-01 to 2100-01-01 and, in a request, not in the future.
    Stored in UTC; a reply shows it in the site's time zone."""
    return MomentField(**kwargs)


def Day(**kwargs):
    """An ISO-8601 date, e.g. ``2026-05-01``, from 2000-01-01 to 2100-01-01
    and, in a request, not after tomorrow."""
    return DayField(**kwargs)


def Month(**kwargs):
    """A month ``YYYY-MM`` from 2000-01 and, in a request, not after next month."""
    return MonthField(**kwargs)


def Boolean(**kwargs):
    """``true`` or ``false`` only."""
    return StrictBoolean(**kwargs)


def Integer(**kwargs):
    """A JSON integer only."""
    return StrictInteger(**kwargs)


def Multiline(**kwargs):
    """A string that may hold tabs and line breaks (a description)."""
    metadata = dict(kwargs.pop("metadata", {}), **{MULTILINE: True})
    return fields.String(metadata=metadata, **kwargs)


class CommandFields(ContractSchema):
    """Fields every command RPC accepts besides its own."""

    command_id = fields.String(load_default=None, validate=validate.Length(min=8, max=80),
                               metadata={"description": "makes a retried call a no-op that returns the first result"})
    correlation_id = fields.String(load_default=None, validate=validate.Length(max=80))


class AppendReply(ContractSchema):
    """What every command RPC returns about the append it made."""

    stream_id = fields.String(required=True)
    version = Integer(required=True)
    positions = fields.List(Integer(), required=True)
    event_ids = fields.List(fields.String(), required=True)
    duplicate = Boolean(required=True,
                        metadata={"description": "true when this command id was seen before"})
