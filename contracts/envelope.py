"""The message the relay publishes for every stored event: the record as
stored (consumers upcast its data with ``contracts.registry.load``)."""
from marshmallow import fields

from contracts.base import ContractSchema
from contracts.common import Integer


class EventEnvelope(ContractSchema):
    position = Integer(required=True)
    event_id = fields.String(required=True)
    stream_id = fields.String(required=True)
    version = Integer(required=True)
    type = fields.String(required=True)
    schema_version = Integer(required=True)
    data = fields.Dict(required=True)
    metadata = fields.Dict(required=True)
    occurred_at = fields.String(required=True)
    recorded_at = fields.String(required=True)
