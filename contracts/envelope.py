"""The message the relay publishes for every stored event: a thin notice that
something new is in the store, never the event's ``data`` or ``metadata``
(personal data must not reach the broker in clear). Consumers read the
record itself from the store, from their own position onwards."""
from marshmallow import fields

from contracts.base import ContractSchema
from contracts.common import Integer


class EventEnvelope(ContractSchema):
    position = Integer(required=True, metadata={"description": "global position in the log"})
    event_id = fields.String(required=True)
    stream_id = fields.String(required=True)
    version = Integer(required=True, metadata={"description": "version in its stream"})
    type = fields.String(required=True, metadata={"description": "event type (also the routing key)"})
    schema_version = Integer(required=True)
    occurred_at = fields.String(required=True, metadata={"description": "business time, store UTC text"})
    recorded_at = fields.String(required=True, metadata={"description": "store time, store UTC text"})
