"""Lost-and-found contracts: personal data is marked, claimant-facing
replies have no place for hidden features, bad input names its field."""
import pytest
from marshmallow import ValidationError

import contracts
from contracts import lost_and_found as c
from contracts.base import personal_fields

TURN_IN = {"desk": "main-gate", "item_name": "black phone", "category": "phone", "description": "black phone",
           "found_place": "north gate", "found_at": "2026-05-01T09:10:00+08:00", "finder_name": "路人甲",
           "storage_place": "drawer 2"}


@pytest.mark.parametrize("event_type, expected", [
    ("FoundItemTurnedIn", {"finder_name", "finder_phone", "hidden_features"}),
    ("FoundItemReceiptIssued", set()),          # the finder is staff: a name from the staff directory
    ("FoundItemClaimed", {"claimant_name", "claimant_phone", "claimant_id_number"}),
    ("LostItemReported", {"visitor_name", "visitor_phone"}),
    ("FinanceHandoverSignedOff", set()),        # finance signs with its own login
    ("ItemInformationCardIssued", set()),
])
def test_visitors_names_phones_id_numbers_and_hidden_features_are_marked_personal(event_type, expected):
    assert contracts.registry.personal_fields(event_type) == expected


@pytest.mark.parametrize("event_type, subjects", [
    ("FoundItemTurnedIn", {"finder_name": ("name", "finder"), "finder_phone": ("phone", "finder"),
                           "hidden_features.*.1": ("hidden", "item")}),
    ("FoundItemClaimed", {"claimant_name": ("name", "claimant"), "claimant_phone": ("phone", "claimant"),
                          "claimant_id_number": ("id_number", "claimant")}),
    ("LostItemReported", {"visitor_name": ("name", "visitor"), "visitor_phone": ("phone", "visitor")}),
])
def test_each_personal_leaf_says_what_it_is_and_whose(event_type, subjects):
    from contracts.personal import schema_leaves
    leaves = schema_leaves(contracts.registry.events[event_type])
    assert {leaf.name: (leaf.kind, leaf.subject) for leaf in leaves} == subjects


def test_the_claimant_view_card_and_receipt_have_no_field_for_hidden_features_finders_or_descriptions():
    for schema in (c.ClaimantView, c.ItemInformationCard, c.FoundItemReceipt):
        names = set(schema().fields)
        assert not names & {"hidden_features", "matched_features", "description"}, schema
    assert not set(c.ClaimantView().fields) & {"finder_name", "finder_phone"}
    assert not personal_fields(c.ItemInformationCard())


def test_a_turn_in_request_loads_with_defaults():
    loaded = c.TurnInByVisitorRequest().load(TURN_IN)
    assert (loaded["hidden_features"], loaded["item_id"], loaded["at"], loaded["finder_phone"]) == ([], None, None,
                                                                                                     None)


@pytest.mark.parametrize("change, field", [
    ({"description": "x" * 501}, "description"),
    ({"category": "spaceship"}, "category"),
    ({"finder_phone": "call me"}, "finder_phone"),
    ({"found_at": "2026-05-01T09:10:00"}, "found_at"),  # no time zone
    ({"surprise": 1}, "surprise"),
])
def test_bad_turn_in_input_names_the_field(change, field):
    with pytest.raises(ValidationError) as raised:
        c.TurnInByVisitorRequest().load(dict(TURN_IN, **change))
    assert field in raised.value.messages


def test_suggestions_need_exactly_one_subject_and_summaries_exactly_one_period():
    with pytest.raises(ValidationError):
        c.SuggestMatchesRequest().load({})
    with pytest.raises(ValidationError):
        c.SuggestMatchesRequest().load({"item_id": "a", "report_id": "b"})
    with pytest.raises(ValidationError):
        c.SummaryRequest().load({"date": "2026-05-01", "month": "2026-05"})
    assert c.SummaryRequest().load({"month": "2026-05"})["date"] is None
