"""Read-only RPCs of the ``forms`` service that the desk console needs and
the services did not have: the open cases of lost and found (the desk's
unclaimed-items list, the lead's day at a glance) and, for the auditor and
the lead, a stream's history, the verification of the log, and a found
item's form as it stood at a past moment.

Nothing here changes anything. A stream's history shows event data as
stored: personal leaves are sealed tokens (``pd:...``), never clear text.
"""
from marshmallow import fields, validate

from contracts import roles
from contracts.base import ContractSchema, registry
from contracts.common import Boolean, Day, Id, Integer, Moment
from contracts.lost_and_found import FoundItemForm

SERVICE = "forms"
#: who reads the log itself: internal audit and the center's lead
AUDITING = frozenset({roles.AUDITOR, roles.LEAD})


class OpenCasesRequest(ContractSchema):
    desk = fields.String(load_default=None, validate=validate.Length(min=1, max=40),
                         metadata={"description": "only this desk's cases; all desks when absent"})


class OpenItemRow(ContractSchema):
    item_id = fields.String(required=True)
    short_code = fields.String(required=True)
    desk = fields.String(required=True)
    item_name = fields.String(required=True)
    category = fields.String(required=True)
    found_place = fields.String(required=True)
    found_at = Moment(required=True)
    turned_in_at = Moment(required=True)
    business_date = Day(required=True)
    valuable = Boolean(required=True)
    status = fields.String(required=True, metadata={"description": "held or in_custody"})
    retain_until = Day(required=True)
    matched_report_id = fields.String(allow_none=True)
    position = Integer(required=True)


class OpenReportRow(ContractSchema):
    report_id = fields.String(required=True)
    desk = fields.String(required=True)
    item_name = fields.String(required=True)
    category = fields.String(required=True)
    lost_place = fields.String(required=True)
    reported_at = Moment(required=True)
    business_date = Day(required=True)
    status = fields.String(required=True, metadata={"description": "reported, matched or contacted"})
    matched_item_id = fields.String(allow_none=True)
    matched_short_code = fields.String(allow_none=True)
    contact_task_id = fields.String(allow_none=True)
    contact_task_open = Boolean(required=True)
    position = Integer(required=True)


class OpenCases(ContractSchema):
    desk = fields.String(allow_none=True)
    items = fields.List(fields.Nested(OpenItemRow), required=True)
    reports = fields.List(fields.Nested(OpenReportRow), required=True)
    as_of_position = Integer(required=True)


class FindItemRequest(ContractSchema):
    short_code = fields.String(required=True, validate=validate.Regexp(r"^[Ll][Ff]-[A-Za-z2-7]{6}$",
                                                                         error="not an item short code"),
                               metadata={"description": "as printed on the card, any case"})


class FoundItemRef(ContractSchema):
    item_id = fields.String(required=True)
    short_code = fields.String(required=True)
    open = Boolean(required=True, metadata={"description": "neither claimed nor handed to finance"})


class StreamHistoryRequest(ContractSchema):
    stream_id = fields.String(required=True, validate=validate.Length(min=1, max=200))


class StoredField(ContractSchema):
    name = fields.String(required=True)
    value = fields.String(required=True, metadata={"description": "as stored, as JSON (personal leaves sealed)"})


class HistoryRow(ContractSchema):
    position = Integer(required=True)
    version = Integer(required=True)
    event_id = fields.String(required=True)
    type = fields.String(required=True)
    occurred_at = Moment(required=True)
    recorded_at = Moment(required=True)
    actor = fields.String(allow_none=True, metadata={"description": "who acted (the signed principal's staff id)"})
    cosigner = fields.String(allow_none=True, metadata={"description": "the second person's staff id, if any"})
    desk = fields.String(allow_none=True)
    command_id = fields.String(allow_none=True)
    correlation_id = fields.String(allow_none=True)
    fields_ = fields.List(fields.Nested(StoredField), required=True, data_key="fields")


class StreamHistory(ContractSchema):
    stream_id = fields.String(required=True)
    rows = fields.List(fields.Nested(HistoryRow), required=True)
    as_of_position = Integer(required=True)


class Empty(ContractSchema):
    pass


class LogVerification(ContractSchema):
    """What ``vsc audit verify`` reports (services.eventstore.witness.audit),
    from the forms service's store and the witness copy in AUDIT_DIR."""
    ok = Boolean(required=True)
    checked = Integer(required=True, metadata={"description": "records whose chain was checked"})
    head_position = Integer(required=True)
    head_hash = fields.String(required=True)
    first_bad_position = Integer(allow_none=True)
    problem = fields.String(allow_none=True)
    witnessed = Integer(required=True, metadata={"description": "records the witness copy holds"})
    signed = Integer(required=True, metadata={"description": "records covered by the newest signed head"})
    signed_at = fields.String(allow_none=True)
    unwitnessed = Integer(required=True)
    warning = fields.String(allow_none=True)
    checked_at = Moment(required=True)


class FoundItemFormAsOfRequest(ContractSchema):
    item_id = Id()
    as_of = Moment(required=True, metadata={"description": "the form as the log stood at this moment"})


class FoundItemFormAsOf(FoundItemForm):
    as_of = Moment(required=True)


OPEN_CASES = registry.rpc(SERVICE, "open_cases", OpenCasesRequest, OpenCases,
                          "Unclaimed found items and open lost-item reports (a desk's lists, the lead's day).",
                          roles=roles.READERS)
FIND_ITEM = registry.rpc(SERVICE, "find_item", FindItemRequest, FoundItemRef,
                         "The found item a short code names (a scanned or typed card).", roles=roles.READERS)
STREAM_HISTORY = registry.rpc(SERVICE, "stream_history", StreamHistoryRequest, StreamHistory,
                              "Every event of one stream with actors and times, data as stored.",
                              roles=AUDITING)
LOG_VERIFICATION = registry.rpc(SERVICE, "log_verification", Empty, LogVerification,
                                "The hash chain and the witness copy checked, as vsc audit verify does.",
                                roles=AUDITING)
FOUND_ITEM_FORM_AS_OF = registry.rpc(SERVICE, "found_item_form_as_of", FoundItemFormAsOfRequest, FoundItemFormAsOf,
                                     "Form 3.3, 3.4 or 3.5 of one found item as it stood at a past moment.",
                                     roles=AUDITING)
