"""Personal data on request and by retention (``privacy`` service): erasure
(crypto-shredding: the subject's key is deleted), the retention sweep and
subject access. See docs/privacy.md."""
from marshmallow import ValidationError, fields, validate, validates_schema

from contracts import roles
from contracts.base import ContractSchema, EventSchema, Personal, registry
from contracts.common import Boolean, Day, Integer, Moment

SERVICE = "privacy"
SubjectId = validate.Regexp(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
                            error="not a subject id")


@registry.event
class PersonalDataErased(EventSchema):
    event_type = "PersonalDataErased"
    schema_version = 1
    source = SERVICE
    description = ("A data subject's key was deleted: every field encrypted for them reads erased (已删除) from "
                   "now on; the log itself is unchanged, so its hash chain still verifies.")

    subject_id = fields.String(required=True, validate=SubjectId)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200),
                           metadata={"description": "why (a request, the retention period); never personal data"})
    by_retention = Boolean(required=True)
    erased_at = Moment(required=True)


class _Person(ContractSchema):
    """One of: the subject id, the person's phone, their ID number."""
    subject_id = fields.String(load_default=None, validate=SubjectId)
    phone = Personal("phone", load_default=None, validate=validate.Length(min=5, max=20))
    id_number = Personal("id_number", load_default=None, validate=validate.Length(min=4, max=30))

    @validates_schema
    def one_way_to_find(self, data, **kwargs):
        if not any(data.get(key) for key in ("subject_id", "phone", "id_number")):
            raise ValidationError("give the subject id, the phone or the ID number", "subject_id")


class EraseRequest(_Person):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200),
                           metadata={"description": "why, without personal data (e.g. 'request of 2026-12-01')"})


class ErasedReply(ContractSchema):
    erased = fields.List(fields.String(), required=True, metadata={"description": "subjects erased now"})
    already = fields.List(fields.String(), required=True, metadata={"description": "subjects erased before"})
    positions = fields.List(Integer(), required=True, metadata={"description": "the erasure events"})


class SweepRequest(ContractSchema):
    today = Day(load_default=None, metadata={"description": "defaults to today at the site"})


class SubjectAccessRequest(_Person):
    pass


class HeldValue(ContractSchema):
    subject_id = fields.String(required=True)
    position = Integer(required=True)
    stream_id = fields.String(required=True)
    event_type = fields.String(required=True)
    field = fields.String(required=True)
    occurred_at = fields.String(required=True)
    value = Personal("other", required=True, metadata={"description": "decrypted, or 已删除 when erased"})


class SubjectAccessReply(ContractSchema):
    subjects = fields.List(fields.String(), required=True)
    retention = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.String()),
                            required=True, metadata={"description": "subject -> purpose -> kept until"})
    values = fields.List(fields.Nested(HeldValue), required=True)
    as_of_position = Integer(required=True)


ERASE = registry.rpc(SERVICE, "erase", EraseRequest, ErasedReply,
                     "Erase a person's data on request (crypto-shredding) and record it.",
                     roles=frozenset({roles.LEAD, roles.ADMIN}))
SWEEP = registry.rpc(SERVICE, "sweep", SweepRequest, ErasedReply,
                     "Erase every subject whose retention period is over (the service also runs it hourly).",
                     roles=frozenset({roles.LEAD, roles.ADMIN}))
SUBJECT_ACCESS = registry.rpc(SERVICE, "subject_access", SubjectAccessRequest, SubjectAccessReply,
                              "What is held about a person, decrypted, for the lead to hand over.",
                              roles=frozenset({roles.LEAD}))
