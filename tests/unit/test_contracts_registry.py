"""The contract registry: validation at append, upcasting on read, personal data."""
import pytest
from marshmallow import fields

import contracts
from contracts.base import EventSchema, Personal, Registry
from contracts.common import Integer
from services.eventstore import InvalidEvent


@pytest.fixture
def registry():
    registry = Registry()

    @registry.event
    class ItemLent(EventSchema):
        event_type = "ItemLent"
        schema_version = 2
        source = "assets_checkout"
        item = fields.String(required=True)
        borrower_name = Personal("name", "borrower", required=True)
        deposit_fen = Integer(required=True)

    @registry.upcaster("ItemLent", 1)
    def deposit_in_fen(data):
        # v1 stored the deposit in yuan as a float
        data["deposit_fen"] = round(data.pop("deposit_yuan") * 100)
        return data

    return registry


def test_an_old_version_is_upcast_on_read_and_never_rewritten(registry):
    stored = {"item": "wheelchair", "borrower_name": "张三", "deposit_yuan": 200.0}
    assert registry.load("ItemLent", 1, stored) == {"item": "wheelchair", "borrower_name": "张三",
                                                    "deposit_fen": 20000}
    assert "deposit_yuan" in stored  # the caller's (stored) data is untouched


def test_only_the_current_version_may_be_appended(registry):
    with pytest.raises(InvalidEvent) as raised:
        registry.validate("ItemLent", 1, {"item": "x", "borrower_name": "y", "deposit_fen": 1})
    assert raised.value.field == "schema_version"


def test_bad_data_names_every_bad_field(registry):
    with pytest.raises(InvalidEvent) as raised:
        registry.validate("ItemLent", 2, {"item": "x", "deposit_fen": "lots", "colour": "red"})
    assert set(raised.value.problems) == {"data.borrower_name", "data.deposit_fen", "data.colour"}


def test_an_unknown_event_type_is_refused_by_name(registry):
    with pytest.raises(InvalidEvent, match="unknown event type 'ItemSold'"):
        registry.validate("ItemSold", 1, {})


def test_a_missing_upcaster_is_a_clear_error(registry):
    with pytest.raises(InvalidEvent, match="no upcaster for ItemLent v0"):
        registry.load("ItemLent", 0, {})


def test_personal_fields_are_marked_in_the_contract(registry):
    assert registry.personal_fields("ItemLent") == {"borrower_name"}
    assert contracts.registry.personal_fields("LostItemReported") == {"visitor_name", "visitor_phone"}
    # a staff member's name comes from the staff directory, which names every staff member in clear
    assert contracts.registry.personal_fields("ClerkSignedIn") == set()


def test_a_personal_field_of_an_event_must_say_whose_data_it_is():
    registry = Registry()

    class Anonymous(EventSchema):
        event_type, source = "Anonymous", "svc"
        name = Personal("name", required=True)
    with pytest.raises(TypeError, match="need a subject label"):
        registry.event(Anonymous)
    with pytest.raises(TypeError, match="personal kind 'favourite'"):
        Personal("favourite")


def test_every_registered_event_names_its_source_service_and_version():
    for event_type, schema in contracts.registry.events.items():
        assert schema.source and schema.schema_version >= 1 and schema.event_type == event_type
