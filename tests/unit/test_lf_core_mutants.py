"""Lost and found's core decider (turn-in to the finance handover), pinned
exactly: the events each command records, field by field; each refusal's
code, field and the words the clerk reads; the boundaries of the time rules;
the state each event builds (issue 10: at least 90% of mutants killed).

Given events, when a command, then events, a refusal or a state."""
import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from services.chassis.decider import NotFound, Rejected
from services.lost_and_found import domain as d
from tests.unit.test_lost_and_found_domain import (  # the same builders and moments as the decider's other tests
    CST, T0, DAY, NEXT_DAY, VALUABLES, CLAIMANT, LATER, at, given, when, verify, claim, custody, report, draw,
)

CODE = d.short_code("item-1")


def refusal(state, command) -> tuple:
    """(code, field, message) of the refusal, as the desk shows it."""
    with pytest.raises(Rejected) as raised:
        d.decide(command, state)
    return raised.value.code, raised.value.field, raised.value.message


def turn_in(**changes) -> d.TurnInFoundItem:
    base = d.TurnInFoundItem(
        item_id="item-1", desk="main-gate", channel=d.DESK_STAFF, item_name="black phone", category="phone",
        description="black smartphone in a blue case", found_place="north gate", found_at=at(-1),
        finder_kind="staff", finder_id="s-101", finder_name="李雷", finder_phone="13900000001",
        finder_department="security", registered_by="c-017", registered_by_role=d.CLERK,
        storage_place="desk drawer 2", at=T0, business_date=DAY,
        hidden_features=(("wallpaper", "a grey cat"), ("serial number", "SN-77")), valuable_categories=VALUABLES)
    return dataclasses.replace(base, **changes)


def visitor_turn_in(**changes) -> d.TurnInFoundItem:
    return turn_in(**{"channel": d.DESK_VISITOR, "finder_kind": "visitor", "finder_id": None,
                      "finder_name": "路人甲", "finder_department": None, **changes})


def team_lead_turn_in(**changes) -> d.TurnInFoundItem:
    return turn_in(**{"channel": d.ON_SITE, "registered_by": "tl-3", "registered_by_role": d.TEAM_LEAD,
                      "witness_id": "s-205", "witness_name": "张三", "owner_urgent": True, **changes})


def turned_in(**changes):
    return when(d.initial_state, turn_in(**changes))


def verified(turn_in_changes=None, **verify_changes):
    events = when(d.initial_state, turn_in(**(turn_in_changes or {})))
    return [*events, *when(given(*events), verify(**verify_changes))]


def failed(events, count, start=0):
    for n in range(start, start + count):
        events = [*events, *when(given(*events), verify(verification_id=f"v-f{n}", decision=d.NOT_OWNER,
                                                        matched_features=(), claimant_key=f"guesser-{n}"))]
    return events


# -- the card's short code, the receipt number and the command ids ------------------------------
def test_a_card_code_is_lf_and_six_base32_characters_the_desk_can_read_out():
    import re
    for item_id in ("item-1", "item-2", "0f4c-long-uuid-like-id"):
        assert re.fullmatch(r"LF-[A-Z2-7]{6}", d.short_code(item_id))
        assert re.fullmatch(r"LF-[A-Z2-7]{6}", d.short_code(item_id, 3))


def test_the_first_code_of_an_item_is_derived_from_its_id_alone_the_same_on_every_release():
    # cards and receipts printed by earlier releases carry these codes: deriving them again must agree
    assert d.short_code("item-1") == "LF-LGII35"
    assert d.short_code("item-1", 0) == "LF-LGII35"
    assert d.short_code("item-1", 1) == "LF-OWGGEC"


def test_the_receipt_number_is_the_cards_code_behind_r_and_follows_a_code_the_service_chose():
    assert d.receipt_no("item-1") == "R-" + d.short_code("item-1")[3:]
    assert d.receipt_no("item-1", "LF-ZZZZZZ") == "R-ZZZZZZ"
    assert d.receipt_no("item-1", None) == d.receipt_no("item-1")


def test_a_retried_handover_run_uses_the_same_command_ids_as_the_run_that_crashed_even_after_an_upgrade():
    # the store recognises a step already made by its command id: the ids are stored, so their form is fixed
    assert d.finance_transfer_command_id("h-1", "item-1") == "finance-handover:h-1:item-1"
    assert d.finance_step_command_id("h-1", "transferred") == "finance-handover:h-1:transferred"


def test_the_streams_are_named_after_what_they_follow():
    assert (d.item_stream("item-1"), d.report_stream("r-1"), d.handover_stream("h-1"), d.disposal_stream("x-1")) \
        == ("found_item-item-1", "lost_report-r-1", "finance_handover-h-1", "disposal-x-1")


# -- retention ---------------------------------------------------------------------------------
def test_a_category_of_its_own_keeps_its_period_even_for_a_valuable():
    policy = d.RetentionPolicy(default_days=30, valuable_days=90, per_category=(("umbrella", 7), ("phone", 60)))
    assert policy.days("phone", True) == 60
    assert policy.days("umbrella", False) == 7
    assert policy.days("camera", True) == 90
    assert policy.days("bag", False) == 30


def test_a_valuable_with_no_valuables_period_configured_is_kept_the_default_period():
    assert d.RetentionPolicy(default_days=30).days("phone", True) == 30
    assert d.RetentionPolicy(default_days=45, valuable_days=None).days("cash", True) == 45


def test_retention_is_over_from_the_day_after_the_kept_until_day():
    until = dt.date(2026, 5, 31)
    assert d.disposal_from(until) == dt.date(2026, 6, 1)
    assert not d.retention_over(until, dt.date(2026, 5, 30))
    assert not d.retention_over(until, until)
    assert d.retention_over(until, dt.date(2026, 6, 1))
    assert d.retention_over(until, dt.date(2026, 7, 1))


# -- the on-spot claim form's due time -----------------------------------------------------------
def test_a_claim_taken_exactly_at_the_end_of_the_shift_is_due_by_the_end_of_that_day():
    moment = dt.datetime(2026, 5, 1, 18, 0, tzinfo=CST)
    assert d.on_spot_form_due(moment, CST, dt.time(18, 0)) == dt.datetime(2026, 5, 2, 0, 0, tzinfo=CST)
    just_before = moment - dt.timedelta(seconds=1)
    assert d.on_spot_form_due(just_before, CST, dt.time(18, 0)) == moment


def test_the_due_time_is_in_the_areas_zone_and_midnight_ends_the_local_day():
    late_utc = dt.datetime(2026, 5, 1, 15, 30, tzinfo=dt.timezone.utc)   # 23:30 in the area
    due = d.on_spot_form_due(late_utc, CST, dt.time(18, 0))
    assert due == dt.datetime(2026, 5, 2, 0, 0, tzinfo=CST)
    assert due.utcoffset() == dt.timedelta(hours=8)
    assert d.on_spot_form_due(late_utc, CST, None).utcoffset() == dt.timedelta(hours=8)
    shift = d.on_spot_form_due(dt.datetime(2026, 5, 1, 2, 0, tzinfo=dt.timezone.utc), CST, dt.time(18, 0))
    assert (shift, shift.utcoffset()) == (dt.datetime(2026, 5, 1, 18, 0, tzinfo=CST), dt.timedelta(hours=8))
    # 01:00 in the area on 05-02 is still 05-01 in UTC: the form is due at the end of the 05-02 shift
    small_hours = dt.datetime(2026, 5, 1, 17, 0, tzinfo=dt.timezone.utc)
    assert d.on_spot_form_due(small_hours, CST, dt.time(18, 0)) == dt.datetime(2026, 5, 2, 18, 0, tzinfo=CST)


# -- particulars of a turn-in: what the clerk is told ---------------------------------------------
def test_money_is_written_as_the_counted_decimal_never_in_exponent_form():
    assert d.money_text(Decimal("520.50")) == "520.50"
    assert d.money_text(Decimal("5E+2")) == "500"
    assert d.money_text(None) is None


def test_a_valuable_is_one_by_its_category_or_by_something_declared_inside():
    assert d.is_valuable("phone", (), VALUABLES)
    assert d.is_valuable("bag", ("umbrella", "cash"), VALUABLES)
    assert not d.is_valuable("bag", ("umbrella", "book"), VALUABLES)
    assert not d.is_valuable("bag", (), VALUABLES)


@pytest.mark.parametrize("changes, expected", [
    ({"quantity": 0}, ("bad_quantity", "quantity", "the quantity is at least 1")),
    ({"category": "cash"}, ("amount_required", "cash_amount", "cash is registered with its counted amount")),
    ({"cash_amount": Decimal("100"), "currency": "CNY"},
     ("amount_without_cash", "cash_amount",
      "an amount is recorded only for cash (the item, or declared in its contents)")),
    ({"category": "cash", "cash_amount": Decimal("100")},
     ("currency_required", "currency", "an amount and its currency go together")),
    ({"contents": ("cash",), "currency": "CNY"},
     ("currency_required", "cash_amount", "an amount and its currency go together")),
    ({"category": "cash", "cash_amount": Decimal("0"), "currency": "CNY"},
     ("bad_amount", "cash_amount", "the amount is a positive number")),
    ({"category": "cash", "cash_amount": Decimal("NaN"), "currency": "CNY"},
     ("bad_amount", "cash_amount", "the amount is a positive number")),
    ({"category": "cash", "cash_amount": Decimal("Infinity"), "currency": "CNY"},
     ("bad_amount", "cash_amount", "the amount is a positive number")),
    ({"category": "cash", "cash_amount": Decimal("100.5"), "currency": "JPY"},
     ("bad_amount", "cash_amount", "JPY has 0 decimals")),
    ({"category": "cash", "cash_amount": Decimal("1.005"), "currency": "CNY"},
     ("bad_amount", "cash_amount", "CNY has 2 decimals")),
    ({"category": "cash", "cash_amount": Decimal("1.0005"), "currency": "KWD"},
     ("bad_amount", "cash_amount", "KWD has 3 decimals")),
    ({"category": "bag", "contents": ("bag",)},
     ("bad_contents", "contents", "contents name what is inside, not the item itself")),
    ({"category": "bag", "contents": ("phone", "phone")},
     ("bad_contents", "contents", "a category is named twice in the contents")),
])
def test_particulars_the_forms_cannot_carry_are_refused_saying_why(changes, expected):
    assert refusal(d.initial_state, turn_in(**changes)) == expected


def test_the_smallest_amounts_each_currency_can_count_are_accepted():
    assert turned_in(category="cash", cash_amount=Decimal("0.01"), currency="CNY")[0].cash_amount == "0.01"
    assert turned_in(category="cash", cash_amount=Decimal("1"), currency="JPY")[0].cash_amount == "1"
    assert turned_in(category="cash", cash_amount=Decimal("0.001"), currency="KWD")[0].cash_amount == "0.001"
    assert turned_in(category="cash", cash_amount=Decimal("7.25"), currency="USD")[0].cash_amount == "7.25"


def test_one_piece_and_cash_declared_inside_a_bag_are_accepted():
    registered = turned_in(category="bag", quantity=1, contents=("cash",), cash_amount=Decimal("50"),
                           currency="CNY")[0]
    assert (registered.quantity, registered.cash_amount, registered.currency, registered.contents) == \
        (1, "50", "CNY", ("cash",))


# -- turn-in: who may register, and what is recorded ------------------------------------------------
@pytest.mark.parametrize("command, expected", [
    (turn_in(channel="by_post"), ("unknown_channel", "channel", "unknown turn-in channel 'by_post'")),
    (turn_in(found_at=at(0, 0) + dt.timedelta(seconds=1)),
     ("found_after_turn_in", "found_at", "found_at is after the turn-in")),
    (turn_in(finder_kind="visitor"),
     ("finder_required", "finder_id", "an item found by staff needs the finder's staff id")),
    (turn_in(finder_id=""), ("finder_required", "finder_id", "an item found by staff needs the finder's staff id")),
    (turn_in(channel=d.ON_SITE, finder_kind="visitor"),
     ("finder_required", "finder_id", "an item found by staff needs the finder's staff id")),
    (visitor_turn_in(finder_kind="staff"),
     ("finder_required", "finder_kind", "a visitor turn-in needs the visitor who found it")),
    (team_lead_turn_in(channel=d.DESK_STAFF),
     ("team_lead_only_on_site", "registered_by_role", "a team lead may register only on site")),
    (team_lead_turn_in(witness_name=""),
     ("witness_required", "witness_id", "a team lead registers only with a staff witness present")),
    (team_lead_turn_in(witness_id=""),
     ("witness_required", "witness_id", "a team lead registers only with a staff witness present")),
    (team_lead_turn_in(witness_id="s-101"),
     ("witness_required", "witness_id", "the witness must be a third member of staff")),
    (team_lead_turn_in(witness_id="tl-3"),
     ("witness_required", "witness_id", "the witness must be a third member of staff")),
    (team_lead_turn_in(owner_urgent=False),
     ("clerk_must_register", "owner_urgent",
      "a team lead registers only when no clerk can come and the owner urgently asks for the item")),
    (turn_in(registered_by_role=d.CUSTODIAN),
     ("not_allowed", "registered_by_role", "a custodian cannot register a found item")),
    (turn_in(hidden_features=(("mark", "A"), ("mark", "B"))),
     ("duplicate_feature", "hidden_features", "hidden feature labels must differ")),
])
def test_a_turn_in_that_breaks_a_rule_is_refused_saying_which(command, expected):
    assert refusal(d.initial_state, command) == expected


def test_an_item_found_the_moment_it_is_turned_in_is_registered():
    assert turned_in(found_at=T0)[0].found_at == T0


def test_a_staff_turn_in_at_the_desk_records_the_registration_and_a_desk_good_deed_receipt():
    registered, receipt = turned_in(quantity=2, condition="scratched screen")
    assert registered == d.FoundItemTurnedIn(
        item_id="item-1", short_code=CODE, desk="main-gate", channel=d.DESK_STAFF, item_name="black phone",
        category="phone", description="black smartphone in a blue case", found_place="north gate",
        found_at=at(-1), finder_kind="staff", finder_id="s-101", finder_name="李雷", finder_phone="13900000001",
        finder_department="security", registered_by="c-017", registered_by_role=d.CLERK, witness_id=None,
        witness_name=None, owner_urgent=False, storage_place="desk drawer 2",
        hidden_features=(("wallpaper", "a grey cat"), ("serial number", "SN-77")), valuable=True,
        retain_until=DAY + dt.timedelta(days=30), turned_in_at=T0, business_date=DAY, quantity=2,
        cash_amount=None, currency=None, condition="scratched screen", contents=())
    assert receipt == d.FoundItemReceiptIssued(
        item_id="item-1", receipt_no="R-" + CODE[3:], finder_id="s-101", finder_name="李雷",
        finder_department="security", good_deed="desk", issued_by="c-017", issued_at=T0, business_date=DAY)


def test_a_visitor_turn_in_records_the_registration_and_an_information_card_and_no_receipt():
    registered, card = when(d.initial_state, visitor_turn_in(category="umbrella", finder_phone="13900000009"))
    assert (registered.channel, registered.finder_kind, registered.finder_id, registered.finder_name,
            registered.finder_phone, registered.valuable) == \
        (d.DESK_VISITOR, "visitor", None, "路人甲", "13900000009", False)
    assert card == d.ItemInformationCardIssued(item_id="item-1", short_code=CODE, qr_payload="vsc:found-item:item-1",
                                               issued_at=T0)


def test_a_team_leads_on_site_registration_records_the_witness_and_the_urgency_a_receipt_and_a_card():
    registered, receipt, card = when(d.initial_state, team_lead_turn_in(short_code="LF-CHOSEN"))
    assert (registered.short_code, registered.registered_by, registered.registered_by_role, registered.witness_id,
            registered.witness_name, registered.owner_urgent) == ("LF-CHOSEN", "tl-3", d.TEAM_LEAD, "s-205", "张三",
                                                                  True)
    assert receipt == d.FoundItemReceiptIssued("item-1", "R-CHOSEN", "s-101", "李雷", "security", "on_site", "tl-3",
                                               T0, DAY)
    assert card == d.ItemInformationCardIssued("item-1", "LF-CHOSEN", "vsc:found-item:item-1", T0)


def test_what_the_service_hands_in_as_lists_is_recorded_as_tuples():
    registered = when(d.initial_state, turn_in(category="bag", hidden_features=[["inside", "a notebook"]],
                                               contents=["phone"]))[0]
    assert registered.hidden_features == (("inside", "a notebook"),)
    assert registered.contents == ("phone",)
    assert registered.valuable is True


def test_cash_is_recorded_with_its_amount_as_text_and_its_currency():
    registered = turned_in(category="cash", item_name="现金", cash_amount=Decimal("520.00"), currency="CNY")[0]
    assert (registered.cash_amount, registered.currency) == ("520.00", "CNY")


def test_the_kept_until_day_counts_the_categorys_days_from_the_local_turn_in_day():
    policy = d.RetentionPolicy(default_days=30, valuable_days=90, per_category=(("umbrella", 7),))
    assert turned_in(retention=policy)[0].retain_until == dt.date(2026, 7, 30)
    assert turned_in(retention=policy, category="umbrella", business_date=dt.date(2026, 5, 2))[0].retain_until == \
        dt.date(2026, 5, 9)


# -- verification ---------------------------------------------------------------------------------
def test_a_verification_records_what_the_claimant_said_and_who_decided():
    [recorded] = when(given(*turned_in()), verify())
    assert recorded == d.ClaimVerificationRecorded(
        item_id="item-1", verification_id="v-1", claimant_description="black phone, cat wallpaper",
        matched_features=("wallpaper",), description_matched=True, decision=d.OWNER, verified_by="c-017",
        verified_by_role=d.CLERK, verified_at=at(1), claimant_key=CLAIMANT, cosigned_by=None)


def test_matched_features_given_as_a_list_are_recorded_as_a_tuple():
    [recorded] = when(given(*turned_in()), verify(matched_features=["wallpaper", "serial number"]))
    assert recorded.matched_features == ("wallpaper", "serial number")


@pytest.mark.parametrize("command, expected", [
    (verify(verified_by_role="visitor"), ("not_allowed", "verified_by_role", "a visitor cannot verify a claim")),
    (verify(decision="maybe"), ("unknown_decision", "decision", "unknown decision 'maybe'")),
    (verify(claimant_key=""),
     ("claimant_required", "claimant_id_number", "a verification is bound to the claimant's ID number")),
    (verify(matched_features=("wallpaper", "engraving")),
     ("unknown_feature", "matched_features", "matched_features names a feature not recorded at turn-in")),
    (verify(matched_features=()),
     ("insufficient_proof", "decision", "an owner must describe at least one hidden feature")),
    (verify(verified_by_role=d.TEAM_LEAD),
     ("team_lead_only_on_site", "verified_by_role", "a team lead verifies only items found on site")),
])
def test_a_verification_that_breaks_a_rule_is_refused_saying_which(command, expected):
    assert refusal(given(*turned_in()), command) == expected


def test_an_item_without_hidden_features_needs_the_description_matched_to_decide_owner():
    state = given(*turned_in(hidden_features=()))
    assert refusal(state, verify(matched_features=(), description_matched=False)) == \
        ("insufficient_proof", "decision", "an owner must describe the item")
    # features matched do not stand in for the description when none were recorded
    assert refusal(state, verify(matched_features=("wallpaper",), description_matched=False))[0] == \
        "unknown_feature"


def test_a_not_owner_decision_needs_no_proof():
    [recorded] = when(given(*turned_in()), verify(decision=d.NOT_OWNER, matched_features=(),
                                                  description_matched=False))
    assert (recorded.decision, recorded.matched_features) == (d.NOT_OWNER, ())


def test_a_team_lead_verifies_an_item_found_on_site_and_the_custodian_any_item():
    on_site = given(*turned_in(channel=d.ON_SITE))
    assert when(on_site, verify(verified_by="tl-3", verified_by_role=d.TEAM_LEAD))[0].verified_by_role == \
        d.TEAM_LEAD
    assert when(given(*turned_in()), verify(verified_by="k-1", verified_by_role=d.CUSTODIAN))[0].verified_by == "k-1"


def test_a_verification_id_is_recorded_once():
    assert refusal(given(*verified()), verify(at=at(1.5))) == \
        ("verification_exists", "verification_id", "verification v-1 is already recorded")


def test_after_the_configured_failures_the_refusal_counts_them_and_asks_for_the_lead():
    state = given(*failed(turned_in(), 3))
    assert refusal(state, verify(verification_id="v-9")) == (
        "lead_required", "cosigner", f"item {CODE} has 3 failed verifications; a further attempt needs the "
                                     "lead's (or team lead's) own login as cosigner")


def test_the_lead_is_recorded_as_cosigner_only_once_the_failures_reached_the_threshold():
    two_failed = given(*failed(turned_in(), 2))
    assert when(two_failed, verify(verification_id="v-9", lead_cosigner="lead-1"))[0].cosigned_by is None
    assert when(two_failed, verify(verification_id="v-9", lead_cosigner="lead-1",
                                   failed_before_lead=2))[0].cosigned_by == "lead-1"
    assert refusal(two_failed, verify(verification_id="v-9", failed_before_lead=2))[0] == "lead_required"


def test_only_decisions_other_than_owner_count_as_failed_verifications():
    events = failed(turned_in(), 2)
    events += when(given(*events), verify(verification_id="v-ok"))
    state = given(*events)
    assert state.failed_verifications == 2
    assert state.verification("v-ok") == d.Verification("v-ok", d.OWNER, at(1), CLAIMANT)
    assert state.verification("v-f0") == d.Verification("v-f0", d.NOT_OWNER, at(1), "guesser-0")
    assert state.verification("v-none") is None


# -- what is no longer at the desk: the refusal says where it went ----------------------------------
def test_an_item_gone_to_the_police_is_not_verified_and_the_refusal_says_to_whom_and_in_which_list():
    state = given(*turned_in(), d.ItemDisposed("item-1", "disp-7", d.POLICE, "k-1", at(days=40)))
    assert refusal(state, verify()) == ("disposed", "item_id", f"item {CODE} went to the police (公安) in disp-7")


def test_a_voided_registration_is_not_claimed_and_the_refusal_gives_the_reason():
    voided = d.FoundItemVoided("item-1", None, "registered twice by mistake", "lead-1", d.LEAD, at(1))
    state = given(*verified(), voided)
    assert refusal(state, claim()) == ("voided", "item_id", f"item {CODE} was voided: registered twice by mistake")


def test_a_claimed_item_is_not_handed_to_the_custodian_nor_to_finance():
    events = verified()
    state = given(*events, *when(given(*events), claim()))
    message = f"item {CODE} has already been claimed"
    assert refusal(state, custody()) == ("already_claimed", "item_id", message)
    later = d.HandItemToFinance("item-1", "h-1", "k-1", at(days=40), DAY + dt.timedelta(days=40))
    assert refusal(state, later) == ("already_claimed", "item_id", message)


def test_an_item_with_finance_is_refused_naming_the_local_day_and_the_handover():
    # handed at 07:30 in the area on 06-11, which the log keeps as 23:30 UTC on 06-10
    handed_at = dt.datetime(2026, 6, 10, 23, 30, tzinfo=dt.timezone.utc)
    events = verified()
    events += when(given(*events), d.HandItemToFinance("item-1", "h-1", "k-1", handed_at, dt.date(2026, 6, 11)))
    assert refusal(given(*events), verify(verification_id="v-2", at=at(days=41))) == (
        "handed_to_finance", "item_id",
        f"item {CODE} was handed to finance (财务部) on 2026-06-11 in handover h-1; "
        "it can no longer be claimed at the desk, ask finance")


def test_an_item_handed_to_finance_before_the_day_was_kept_shows_the_day_it_was_handed():
    legacy = d.ItemHandedToFinance("item-1", "h-0", "k-1", dt.datetime(2026, 6, 9, 15, 0, tzinfo=CST))
    assert refusal(given(*verified(), legacy), claim(at=at(days=41)))[2] == (
        f"item {CODE} was handed to finance (财务部) on 2026-06-09 in handover h-0; "
        "it can no longer be claimed at the desk, ask finance")


# -- claims -------------------------------------------------------------------------------------------
def test_a_clerks_claim_records_the_claimant_and_the_form_of_the_items_channel():
    [claimed] = when(given(*verified()), claim(custodian_id="k-1", on_spot_form_due=at(8)))
    assert claimed == d.FoundItemClaimed(
        item_id="item-1", claim_id="claim-1", verification_id="v-1", claim_kind=d.UNREPORTED, report_id=None,
        claim_form="3.4", claimant_name="韩梅梅", claimant_phone="13800000000", claimant_id_type="resident_id",
        claimant_id_number="110101199001011234", released_by="c-017", released_by_role=d.CLERK,
        custodian_id=None, on_spot_form_due=None, claimed_at=at(2))


def test_a_claim_of_a_valuable_in_custody_records_the_custodian_who_released_it():
    events = verified()
    events += when(given(*events), custody(at=at(1.5)))
    [claimed] = when(given(*events), claim(custodian_id="k-2"))
    assert (claimed.custodian_id, claimed.released_by) == ("k-2", "c-017")


def test_a_team_leads_on_spot_claim_records_when_its_form_is_due():
    events = verified({"channel": d.ON_SITE}, verified_by="tl-3", verified_by_role=d.TEAM_LEAD)
    due = dt.datetime(2026, 5, 1, 18, 0, tzinfo=CST)
    [claimed] = when(given(*events), claim(claim_kind=d.ON_SPOT, released_by="tl-3", released_by_role=d.TEAM_LEAD,
                                           on_spot_form_due=due))
    assert (claimed.claim_form, claimed.released_by_role, claimed.on_spot_form_due, claimed.claim_kind) == \
        ("3.5", d.TEAM_LEAD, due, d.ON_SPOT)


@pytest.mark.parametrize("command, expected", [
    (claim(claimant_key="someone-else"),
     ("verified_for_another_claimant", "claimant_id_number",
      "the verification was recorded for another claimant (ID number); verify this claimant first")),
    (claim(at=at(1) - dt.timedelta(seconds=1)),
     ("claim_before_verification", "at", "the claim is dated before its verification")),
    (claim(at=at(3) + dt.timedelta(seconds=1)),
     ("verification_expired", "verification_id",
      "the verification is older than 120 minutes; verify the claimant again")),
    (claim(at=at(1.75), verification_valid_for=dt.timedelta(minutes=30)),
     ("verification_expired", "verification_id",
      "the verification is older than 30 minutes; verify the claimant again")),
    (claim(claim_kind="by_mail"), ("unknown_claim_kind", "claim_kind", "unknown claim kind 'by_mail'")),
    (claim(claim_kind=d.REPORTED), ("report_required", "report_id", "a claim of a reported loss names its report")),
    (claim(claim_kind=d.REPORTED, report_id="", report=d.ReportFacts("", "item-1")),
     ("report_required", "report_id", "a claim of a reported loss names its report")),
    (claim(report_id="r-2", report=d.ReportFacts("r-2", "item-7")),
     ("report_not_matched", "report_id",
      f"report r-2 is not matched to item {CODE}; confirm the match first, or claim without a report")),
    (claim(released_by="tl-3", released_by_role=d.TEAM_LEAD, claim_kind=d.ON_SPOT, on_spot_form_due=at(8)),
     ("team_lead_only_on_site", "released_by_role", "a team lead releases only on-site items, on the spot")),
])
def test_a_claim_that_breaks_a_rule_is_refused_saying_which(command, expected):
    assert refusal(given(*verified()), command) == expected


def test_a_claim_needs_a_recorded_verification_that_decided_owner_and_the_refusal_says_what_it_decided():
    assert refusal(given(*turned_in()), claim()) == \
        ("verification_required", "verification_id", "no claim without a recorded verification")
    unsure = verified(decision=d.NEEDS_MORE_PROOF, matched_features=())
    assert refusal(given(*unsure), claim()) == \
        ("not_verified_owner", "verification_id", "the verification decided needs_more_proof, not owner")


def test_a_claim_exactly_at_its_verification_or_at_the_end_of_its_validity_is_accepted():
    state = given(*verified())
    assert when(state, claim(at=at(1)))[0].claimed_at == at(1)
    assert when(state, claim(at=at(3)))[0].claimed_at == at(3)


def test_a_claim_naming_a_report_is_checked_against_that_report_even_when_not_a_reported_loss():
    state = given(*verified())
    with pytest.raises(NotFound) as raised:
        when(state, claim(report_id="r-2", report=d.ReportFacts("r-other", "item-1")))
    assert (raised.value.field, raised.value.message) == ("report_id", "no lost-item report r-2")
    with pytest.raises(NotFound):
        when(state, claim(report_id="r-2"))
    [claimed] = when(state, claim(report_id="r-2", report=d.ReportFacts("r-2", "item-1")))
    assert (claimed.report_id, claimed.claim_kind) == ("r-2", d.UNREPORTED)


def test_a_claim_cannot_be_dated_before_the_item_was_turned_in():
    events = verified(at=at(-1))    # verified (on the record) before it was registered
    assert refusal(given(*events), claim(at=at(-0.5))) == \
        ("claimed_before_turn_in", "at", "the claim is before the item was turned in")
    assert when(given(*events), claim(at=T0))[0].claimed_at == T0


def test_a_team_lead_releases_an_on_site_item_only_on_the_spot_and_only_with_its_due_time():
    events = verified({"channel": d.ON_SITE}, verified_by="tl-3", verified_by_role=d.TEAM_LEAD)
    state = given(*events)
    lead = {"released_by": "tl-3", "released_by_role": d.TEAM_LEAD}
    assert refusal(state, claim(claim_kind=d.UNREPORTED, on_spot_form_due=at(8), **lead))[0] == \
        "team_lead_only_on_site"
    assert refusal(state, claim(claim_kind=d.ON_SPOT, **lead)) == (
        "due_time_required", "on_spot_form_due", "a team lead's claim needs the time its form is due at the desk")
    # a clerk may take an on-spot claim too: no form to follow
    assert when(state, claim(claim_kind=d.ON_SPOT))[0].on_spot_form_due is None


def test_an_item_on_its_way_to_another_desk_is_not_released_nor_handed_to_the_custodian():
    sent = d.FoundItemSentToDesk("item-1", "main-gate", "south-gate", "owner waits there", "c-017", at(1.5))
    state = given(*verified(), sent)
    expected = ("in_transit", "item_id", f"item {CODE} is on its way to south-gate")
    assert refusal(state, claim()) == expected
    assert refusal(state, custody()) == expected


def test_the_custodian_refusal_says_whether_the_item_is_with_the_custodian_or_should_be():
    events = verified()
    in_custody = given(*events, *when(given(*events), custody(at=at(1.5))))
    assert refusal(in_custody, claim()) == (
        "custodian_required", "cosigner",
        f"item {CODE} is in the custodian's keeping; it is released only with a custodian's own login")
    overdue = claim(at=at(1.5, days=1), business_date=NEXT_DAY, verification_valid_for=dt.timedelta(days=2))
    assert refusal(given(*events), overdue) == (
        "custodian_required", "cosigner",
        f"valuable {CODE} was not claimed on the day it was turned in and should be with the custodian: "
        "it is released only with a custodian's own login")


def test_custody_is_required_for_a_valuable_from_the_day_after_its_local_turn_in_day_or_once_in_custody():
    state = given(*turned_in())
    assert not d.custody_required(state, DAY)
    assert d.custody_required(state, NEXT_DAY)
    assert not d.custody_required(state, DAY - dt.timedelta(days=1))
    cheap = given(*turned_in(category="umbrella"))
    assert not d.custody_required(cheap, NEXT_DAY)
    in_custody = d.evolve(cheap, when(cheap, custody())[0])
    assert d.custody_required(in_custody, DAY)
    assert not d.custody_overdue(in_custody, NEXT_DAY)


def test_an_item_registered_before_its_local_day_was_kept_is_never_overdue_for_custody():
    legacy = dataclasses.replace(turned_in()[0], business_date=None)
    state = given(legacy)
    assert not d.custody_required(state, NEXT_DAY)
    assert not d.custody_overdue(state, NEXT_DAY)


def test_a_claimed_valuable_is_not_overdue_for_custody():
    events = verified()
    state = given(*events, *when(given(*events), claim()))
    assert not d.custody_overdue(state, NEXT_DAY)
    assert d.custody_overdue(given(*events), NEXT_DAY)


# -- the on-spot claim form --------------------------------------------------------------------------------
def on_spot_claimed(due=dt.datetime(2026, 5, 1, 18, 0, tzinfo=CST)):
    events = verified({"channel": d.ON_SITE}, verified_by="tl-3", verified_by_role=d.TEAM_LEAD)
    return events + when(given(*events), claim(claim_kind=d.ON_SPOT, released_by="tl-3",
                                               released_by_role=d.TEAM_LEAD, on_spot_form_due=due))


def test_the_form_filed_at_the_desk_is_recorded_with_who_received_it_and_whether_it_was_late():
    due = dt.datetime(2026, 5, 1, 18, 0, tzinfo=CST)
    state = given(*on_spot_claimed(due))
    assert when(state, d.FileOnSpotClaimForm("item-1", "c-020", due)) == \
        [d.OnSpotClaimFormFiled("item-1", "claim-1", "c-020", due, False)]
    assert when(state, d.FileOnSpotClaimForm("item-1", "c-020", due + dt.timedelta(seconds=1)))[0].late is True


def test_a_form_filed_twice_or_without_a_team_leads_claim_is_refused_saying_why():
    state = given(*on_spot_claimed())
    filed = when(state, d.FileOnSpotClaimForm("item-1", "c-020", at(5)))
    assert refusal(given(*on_spot_claimed(), *filed), d.FileOnSpotClaimForm("item-1", "c-020", at(6))) == \
        ("already_filed", "item_id", "the on-spot claim form is already at the desk")
    assert refusal(given(*verified()), d.FileOnSpotClaimForm("item-1", "c-020", at(5))) == \
        ("no_on_spot_claim", "item_id", f"item {CODE} has no on-spot claim taken by a team lead")


# -- custody ---------------------------------------------------------------------------------------------


def test_the_handover_to_the_custodian_records_who_handed_it_who_took_it_and_where_it_is_kept():
    assert when(given(*turned_in()), custody()) == [d.ItemHandedToCustodian("item-1", "c-017", "k-1", "safe 1",
                                                                            at(8))]


def test_a_handover_to_the_custodian_with_no_desk_named_is_taken_as_at_the_items_desk():
    assert when(given(*turned_in()), custody(desk=""))[0].custodian_id == "k-1"


def test_the_custody_refusals_say_where_the_item_is():
    assert refusal(given(*turned_in()), custody(desk="south-gate")) == \
        ("not_at_items_desk", "desk", f"item {CODE} is kept at desk main-gate")
    events = turned_in()
    events += when(given(*events), custody())
    assert refusal(given(*events), custody(at=at(9))) == \
        ("already_in_custody", "item_id", f"item {CODE} is already with the custodian")


# -- the finance handover of one item ---------------------------------------------------------------------
def test_an_item_past_its_retention_is_handed_to_finance_on_the_local_day():
    until = DAY + dt.timedelta(days=30)
    command = d.HandItemToFinance("item-1", "h-1", "k-1", at(days=31), until + dt.timedelta(days=1))
    assert when(given(*turned_in()), command) == [
        d.ItemHandedToFinance("item-1", "h-1", "k-1", at(days=31), until + dt.timedelta(days=1))]


def test_an_item_still_kept_is_refused_saying_until_when_and_from_when_it_may_go():
    command = d.HandItemToFinance("item-1", "h-1", "k-1", at(days=30), dt.date(2026, 5, 31))
    assert refusal(given(*turned_in()), command) == (
        "retention_not_over", "item_id",
        f"item {CODE} is kept until 2026-05-31 inclusive; it may go to finance from 2026-06-01")


def test_an_item_matched_to_an_open_report_is_not_handed_to_finance_and_the_refusal_names_the_report():
    command = d.HandItemToFinance("item-1", "h-1", "k-1", at(days=40), DAY + dt.timedelta(days=40),
                                  matched_report_id="r-5")
    assert refusal(given(*turned_in()), command) == \
        ("matched_to_open_report", "item_id", f"item {CODE} is matched to open report r-5")


# -- lost-item reports ------------------------------------------------------------------------------------


def test_a_report_records_what_where_when_and_whom_to_call():
    assert when(d.initial_state, report()) == [d.LostItemReported(
        report_id="r-1", desk="main-gate", item_name="black phone", category="phone", description="black smartphone",
        features="blue case, cracked corner", lost_place="north gate", lost_from=at(-3), lost_until=at(-2),
        visitor_name="韩梅梅", visitor_phone="13800000000", received_by="c-017", reported_at=T0, business_date=DAY)]


def test_a_loss_at_one_moment_up_to_the_report_itself_is_accepted():
    [reported] = when(d.initial_state, report(lost_from=T0, lost_until=T0))
    assert (reported.lost_from, reported.lost_until) == (T0, T0)


@pytest.mark.parametrize("changes, expected", [
    ({"lost_from": at(-1), "lost_until": at(-2)}, ("bad_time_window", "lost_from", "lost_from is after lost_until")),
    ({"lost_from": at(2), "lost_until": at(1)},
     ("bad_time_window", "lost_from", "lost_from is after lost_until")),
    ({"lost_from": at(1), "lost_until": at(1)},
     ("lost_after_report", "lost_from", "the loss cannot start after the report")),
    ({"lost_until": at(1)}, ("lost_after_report", "lost_until", "lost_until is after the report")),
])
def test_a_loss_window_that_cannot_be_is_refused_saying_which_end(changes, expected):
    assert refusal(d.initial_state, report(**changes)) == expected


def test_a_report_is_recorded_once():
    assert refusal(given(*when(d.initial_state, report())), report()) == \
        ("already_reported", "report_id", "report r-1 already exists")


# -- matches and contact tasks --------------------------------------------------------------------------
HELD_ITEM = d.ItemFacts("item-1", "LF-AAAAAA", d.HELD)
OTHER_ITEM = d.ItemFacts("item-2", "LF-BBBBBB", d.HELD)


def reported():
    return when(d.initial_state, report())


def matched():
    events = reported()
    return events + when(given(*events), d.ConfirmMatch("r-1", HELD_ITEM, "task-1", "c-017", at(1)))


def test_a_confirmed_match_records_the_item_and_its_code_and_opens_a_task_to_call_the_visitor():
    assert when(given(*reported()), d.ConfirmMatch("r-1", HELD_ITEM, "task-1", "c-017", at(1))) == [
        d.LostReportMatched("r-1", "item-1", "LF-AAAAAA", "c-017", at(1)),
        d.VisitorContactTaskOpened("r-1", "task-1", "item-1", at(1))]


def test_a_match_to_no_item_is_not_found():
    with pytest.raises(NotFound) as raised:
        when(given(*reported()), d.ConfirmMatch("r-1", None, "task-1", "c-017", at(1)))
    assert (raised.value.field, raised.value.message) == ("item_id", "no such found item")


@pytest.mark.parametrize("status, words", [(d.CLAIMED, "claimed"), (d.WITH_FINANCE, "with finance")])
def test_an_item_claimed_or_with_finance_is_not_matched_and_the_refusal_says_so(status, words):
    gone = dataclasses.replace(HELD_ITEM, status=status)
    assert refusal(given(*reported()), d.ConfirmMatch("r-1", gone, "task-1", "c-017", at(1))) == \
        ("item_not_available", "item_id", f"item LF-AAAAAA is {words}")


def test_an_item_in_custody_is_matched():
    kept = dataclasses.replace(HELD_ITEM, status=d.IN_CUSTODY)
    assert when(given(*reported()), d.ConfirmMatch("r-1", kept, "task-1", "c-017", at(1)))[0].item_id == "item-1"


def test_an_item_confirmed_for_another_open_report_is_refused_naming_it():
    taken = dataclasses.replace(HELD_ITEM, matched_report_id="r-9")
    assert refusal(given(*reported()), d.ConfirmMatch("r-1", taken, "task-1", "c-017", at(1))) == (
        "item_already_matched", "item_id",
        "item LF-AAAAAA is already confirmed for open report r-9; at most one open match per item")
    # the index still naming this very report does not stand in the way
    mine = dataclasses.replace(HELD_ITEM, matched_report_id="r-1")
    assert when(given(*reported()), d.ConfirmMatch("r-1", mine, "task-1", "c-017", at(1)))[0].item_id == "item-1"


def test_a_matched_report_is_not_matched_again_while_its_item_is_kept_for_it():
    state = given(*matched())
    expected = ("already_matched", "report_id", "report r-1 is already matched to an item still kept for it")
    assert refusal(state, d.ConfirmMatch("r-1", OTHER_ITEM, "task-2", "c-017", at(2))) == expected
    # what the service read about another item than the matched one says nothing about the matched one
    other_gone = d.ItemFacts("item-3", "LF-CCCCCC", d.CLAIMED)
    assert refusal(state, d.ConfirmMatch("r-1", OTHER_ITEM, "task-2", "c-017", at(2), other_gone)) == expected
    in_custody = dataclasses.replace(HELD_ITEM, status=d.IN_CUSTODY)
    assert refusal(state, d.ConfirmMatch("r-1", OTHER_ITEM, "task-2", "c-017", at(2), in_custody)) == expected


def test_a_report_whose_item_went_to_another_claimant_is_matched_anew():
    gone = dataclasses.replace(HELD_ITEM, status=d.CLAIMED, claim_report_id="r-8")
    assert when(given(*matched()), d.ConfirmMatch("r-1", OTHER_ITEM, "task-2", "c-017", at(2), gone)) == [
        d.LostReportMatched("r-1", "item-2", "LF-BBBBBB", "c-017", at(2)),
        d.VisitorContactTaskOpened("r-1", "task-2", "item-2", at(2))]


def test_a_report_whose_item_was_returned_to_its_visitor_is_neither_matched_nor_released():
    returned = dataclasses.replace(HELD_ITEM, status=d.CLAIMED, claim_report_id="r-1")
    expected = ("already_returned", "report_id", "report r-1's item was returned to the visitor")
    assert refusal(given(*matched()), d.ConfirmMatch("r-1", OTHER_ITEM, "task-2", "c-017", at(2), returned)) == \
        expected
    assert refusal(given(*matched()), d.ReleaseMatch("r-1", "done", "c-017", at(2), returned)) == expected


def test_a_released_match_records_the_item_the_reason_and_the_contact_task_it_closes():
    assert when(given(*matched()), d.ReleaseMatch("r-1", "not the visitor's phone", "c-017", at(2), HELD_ITEM)) == [
        d.LostReportMatchReleased("r-1", "item-1", "not the visitor's phone", "c-017", "task-1", at(2))]


def test_a_match_whose_visitor_was_reached_is_released_closing_no_task():
    events = matched()
    events += when(given(*events), d.RecordVisitorContact("r-1", "task-1", "c-017", d.REACHED, at(1.5)))
    [released] = when(given(*events), d.ReleaseMatch("r-1", "not theirs", "c-017", at(2)))
    assert released.closed_task_id is None
    state = given(*events, released)
    assert (state.matched_item_id, state.open_task_id, state.closed_task_ids) == (None, None, ("task-1",))


def test_a_release_is_refused_without_a_match_or_a_reason_and_another_items_claim_does_not_stop_it():
    assert refusal(given(*reported()), d.ReleaseMatch("r-1", "x", "c-017", at(2))) == \
        ("not_matched", "report_id", "report r-1 is not matched to an item")
    assert refusal(given(*matched()), d.ReleaseMatch("r-1", " \t", "c-017", at(2))) == \
        ("reason_required", "reason", "say why the match is released")
    elsewhere = d.ItemFacts("item-3", "LF-CCCCCC", d.CLAIMED, claim_report_id="r-1")
    assert when(given(*matched()), d.ReleaseMatch("r-1", "wrong item", "c-017", at(2), elsewhere))[0].item_id == \
        "item-1"


def test_a_contact_records_who_called_the_outcome_and_closes_the_task_only_when_the_visitor_is_reached():
    state = given(*matched())
    assert when(state, d.RecordVisitorContact("r-1", "task-1", "c-020", "no_answer", at(2))) == [
        d.VisitorContacted("r-1", "task-1", "c-020", "no_answer", False, at(2))]
    assert when(state, d.RecordVisitorContact("r-1", "task-1", "c-020", d.REACHED, at(2))) == [
        d.VisitorContacted("r-1", "task-1", "c-020", d.REACHED, True, at(2))]
    assert refusal(state, d.RecordVisitorContact("r-1", "task-7", "c-020", d.REACHED, at(2))) == \
        ("no_open_contact_task", "task_id", "contact task task-7 is not open")


# -- the monthly finance handover list ---------------------------------------------------------------------
KEPT_UNTIL = DAY + dt.timedelta(days=30)


def line(item_id="item-1", status=d.HELD, retain_until=KEPT_UNTIL, **changes):
    return d.HandoverLine(item_id, status, retain_until, **changes)


def test_the_drawn_list_records_the_month_the_custodian_and_the_items_in_order():
    assert when(d.initial_state, draw([line("item-2", d.IN_CUSTODY), line("item-1")])) == [
        d.FinanceHandoverListDrawn("h-1", "2026-06", "k-1", ("item-2", "item-1"), at(days=40))]


def test_a_line_is_drawn_from_the_day_after_its_kept_until_day():
    assert when(d.initial_state, draw([line()], business_date=KEPT_UNTIL + dt.timedelta(days=1)))
    assert refusal(d.initial_state, draw([line("item-3")], business_date=KEPT_UNTIL)) == (
        "retention_not_over", "item_ids",
        "item item-3 is kept until 2026-05-31 inclusive; it may go to finance from 2026-06-01")


@pytest.mark.parametrize("lines, expected", [
    ([], ("nothing_to_hand_over", "item_ids", "the handover list is empty")),
    ([line(), line("item-2"), line()], ("duplicate_item", "item_ids", "an item is on the list twice")),
    ([line(), line("item-2", d.CLAIMED)], ("not_unclaimed", "item_ids", "item item-2 is claimed")),
    ([line("item-2", d.WITH_FINANCE)], ("not_unclaimed", "item_ids", "item item-2 is with finance")),
    ([line("item-2", matched_report_id="r-4")],
     ("matched_to_open_report", "item_ids", "item item-2 is matched to open report r-4 (its visitor is being "
                                            "called in)")),
    ([line("item-2", route=d.POLICE)],
     ("other_disposal_route", "item_ids", "item item-2 goes to the police (公安), not finance (财务部)")),
])
def test_a_list_with_a_line_that_cannot_go_to_finance_is_refused_naming_the_item(lines, expected):
    assert refusal(d.initial_state, draw(lines)) == expected


def test_a_line_for_no_known_item_is_not_found():
    with pytest.raises(NotFound) as raised:
        when(d.initial_state, draw([line(), line("item-404", None, None)]))
    assert (raised.value.field, raised.value.message) == ("item_ids", "no found item item-404")


def drawn():
    return when(d.initial_state, draw([line(), line("item-2"), line("item-3")]))


def test_the_transfer_records_what_went_and_what_was_withdrawn_in_any_order():
    transfer = d.RecordFinanceTransfer("h-1", ["item-3", "item-1"], ["item-2"], at(days=40))
    assert when(given(*drawn()), transfer) == [
        d.FinanceHandoverTransferred("h-1", ("item-3", "item-1"), ("item-2",), at(days=40))]


def test_a_transfer_must_account_for_exactly_the_listed_items_once():
    state = given(*drawn())
    expected = ("incomplete_transfer", "handover_id", "every listed item must be handed over or withdrawn")
    assert refusal(state, d.RecordFinanceTransfer("h-1", ("item-1", "item-2"), (), at(days=40))) == expected
    assert refusal(state, d.RecordFinanceTransfer("h-1", ("item-1", "item-2", "item-3", "item-4"), (),
                                                  at(days=40))) == expected


def test_a_transfer_is_recorded_once_and_finance_signs_off_once_after_it():
    events = drawn()
    sign = d.SignOffFinanceHandover("h-1", "f-1", "王会计", at(days=41))
    assert refusal(given(*events), sign) == \
        ("not_transferred", "handover_id", "finance signs off only after the items are handed over")
    transfer = d.RecordFinanceTransfer("h-1", ("item-1", "item-2", "item-3"), (), at(days=40))
    events += when(given(*events), transfer)
    assert refusal(given(*events), transfer) == \
        ("already_transferred", "handover_id", "the handover's items are already handed over")
    assert when(given(*events), sign) == [d.FinanceHandoverSignedOff("h-1", "f-1", "王会计", at(days=41))]
    events += when(given(*events), sign)
    assert refusal(given(*events), sign) == \
        ("already_signed_off", "handover_id", "finance has already signed this handover off")


# -- decide: which stream a command meets ------------------------------------------------------------------
@pytest.mark.parametrize("command", [
    verify(), claim(), d.FileOnSpotClaimForm("item-1", "c-017", at(5)), custody(),
    d.HandItemToFinance("item-1", "h-1", "k-1", at(days=40), LATER)])
def test_a_command_on_an_item_never_registered_is_not_found(command):
    with pytest.raises(NotFound) as raised:
        when(d.initial_state, command)
    assert (raised.value.code, raised.value.field, raised.value.message) == \
        ("not_found", "item_id", "no found item item-1")


@pytest.mark.parametrize("command", [
    d.ConfirmMatch("r-1", HELD_ITEM, "task-1", "c-017", at(1)),
    d.RecordVisitorContact("r-1", "task-1", "c-017", d.REACHED, at(1)),
    d.ReleaseMatch("r-1", "not theirs", "c-017", at(1))])
def test_a_command_on_a_report_never_made_is_not_found(command):
    with pytest.raises(NotFound) as raised:
        when(d.initial_state, command)
    assert (raised.value.field, raised.value.message) == ("report_id", "no lost-item report r-1")


@pytest.mark.parametrize("command", [
    d.RecordFinanceTransfer("h-1", ("item-1",), (), at(days=40)),
    d.SignOffFinanceHandover("h-1", "f-1", "王会计", at(days=41))])
def test_a_step_of_a_handover_never_drawn_is_not_found(command):
    with pytest.raises(NotFound) as raised:
        when(d.initial_state, command)
    assert (raised.value.field, raised.value.message) == ("handover_id", "no finance handover h-1")


def test_a_registration_a_report_and_a_handover_list_are_each_made_once():
    assert refusal(given(*turned_in()), turn_in()) == \
        ("already_turned_in", "item_id", "item item-1 is already registered")
    assert refusal(given(*drawn()), draw([line()])) == ("handover_exists", "handover_id", "handover h-1 already exists")
    # a report id already used by another stream kind is refused as well
    assert refusal(given(*drawn()), report(report_id="h-1"))[0] == "already_reported"


def test_a_command_that_meets_the_wrong_kind_of_stream_is_a_programming_error():
    with pytest.raises(TypeError) as raised:
        when(given(*reported()), claim())
    assert str(raised.value) == "lost_and_found cannot decide ClaimItem on LostReport"
    with pytest.raises(TypeError):
        when(given(*turned_in()), d.ConfirmMatch("r-1", HELD_ITEM, "task-1", "c-017", at(1)))
    with pytest.raises(TypeError):
        when(given(*drawn()), verify())


# -- evolve: the state each event builds --------------------------------------------------------------------
def test_a_registration_builds_the_item_as_held_at_its_desk():
    state = given(*turned_in(quantity=2, condition="wet", category="bag", contents=["phone"],
                             hidden_features=(("inside", "a notebook"),)))
    assert state == d.FoundItem(
        item_id="item-1", short_code=CODE, desk="main-gate", channel=d.DESK_STAFF, item_name="black phone",
        category="bag", description="black smartphone in a blue case", found_place="north gate", found_at=at(-1),
        registered_by="c-017", registered_by_role=d.CLERK, storage_place="desk drawer 2", valuable=True,
        retain_until=DAY + dt.timedelta(days=30), turned_in_at=T0, hidden_features=(("inside", "a notebook"),),
        business_date=DAY, quantity=2, condition="wet", contents=("phone",), location=d.AT_DESK, finder_id="s-101")


def test_an_on_site_registration_is_still_on_site_until_it_reaches_the_desk():
    state = given(*when(d.initial_state, team_lead_turn_in()))
    assert (state.location, state.registered_by, state.registered_by_role, state.status) == \
        (d.ON_SITE_LOCATION, "tl-3", d.TEAM_LEAD, d.HELD)


def test_cash_registered_is_kept_in_the_state_with_its_currency():
    state = given(*turned_in(category="cash", cash_amount=Decimal("88.80"), currency="CNY"))
    assert (state.cash_amount, state.currency, state.valuable) == ("88.80", "CNY", True)


def test_a_claim_builds_a_claimed_item_remembering_the_claim_the_report_and_the_team_leads_form():
    due = dt.datetime(2026, 5, 1, 18, 0, tzinfo=CST)
    state = given(*on_spot_claimed(due))
    assert (state.status, state.claim_id, state.claimed_at, state.claim_report_id, state.claim_taken_by_team_lead,
            state.on_spot_form_due, state.on_spot_form_filed) == (d.CLAIMED, "claim-1", at(2), None, True, due, False)
    filed = d.evolve(state, when(state, d.FileOnSpotClaimForm("item-1", "c-020", at(5)))[0])
    assert filed == dataclasses.replace(state, on_spot_form_filed=True)
    by_clerk = given(*verified(), *when(given(*verified()), claim(report_id="r-2",
                                                                    report=d.ReportFacts("r-2", "item-1"))))
    assert (by_clerk.claim_taken_by_team_lead, by_clerk.claim_report_id) == (False, "r-2")


def test_custody_and_finance_change_the_items_status_and_remember_who_and_when():
    state = given(*turned_in())
    kept = d.evolve(state, d.ItemHandedToCustodian("item-1", "c-099", "k-1", "safe 3", at(8)))
    assert kept == dataclasses.replace(state, status=d.IN_CUSTODY, custodian_id="k-1", storage_place="safe 3",
                                       custody_handed_by="c-099")
    gone = d.evolve(kept, d.ItemHandedToFinance("item-1", "h-1", "k-1", at(days=31), dt.date(2026, 6, 1)))
    assert gone == dataclasses.replace(kept, status=d.WITH_FINANCE, handover_id="h-1", handed_to_finance_at=at(days=31),
                                       handed_to_finance_on=dt.date(2026, 6, 1))


def test_a_report_builds_an_open_report_that_a_match_a_task_and_a_contact_move_on():
    state = given(*reported())
    assert state == d.LostReport("r-1", "phone")
    state = given(*matched())
    assert state == d.LostReport("r-1", "phone", matched_item_id="item-1", open_task_id="task-1")
    no_answer = d.evolve(state, d.VisitorContacted("r-1", "task-1", "c-017", "no_answer", False, at(2)))
    assert no_answer == state
    reached = d.evolve(state, d.VisitorContacted("r-1", "task-1", "c-017", d.REACHED, True, at(3)))
    assert reached == d.LostReport("r-1", "phone", matched_item_id="item-1", open_task_id=None,
                                   closed_task_ids=("task-1",))


def test_a_released_match_reopens_the_report_and_closes_its_task():
    state = given(*matched())
    released = d.evolve(state, d.LostReportMatchReleased("r-1", "item-1", "not theirs", "c-017", "task-1", at(2)))
    assert released == d.LostReport("r-1", "phone", closed_task_ids=("task-1",))
    again = d.evolve(given(*matched(), *when(given(*matched()), d.ConfirmMatch(
        "r-1", OTHER_ITEM, "task-2", "c-017", at(3), dataclasses.replace(HELD_ITEM, status=d.WITH_FINANCE)))),
        d.LostReportMatchReleased("r-1", "item-2", "not theirs either", "c-017", None, at(4)))
    assert (again.matched_item_id, again.open_task_id, again.closed_task_ids) == (None, None, ())


def test_a_handover_list_builds_a_handover_that_is_transferred_and_then_signed_off():
    state = given(*drawn())
    assert state == d.FinanceHandover("h-1", "k-1", ("item-1", "item-2", "item-3"))
    state = d.evolve(state, d.FinanceHandoverTransferred("h-1", ("item-1", "item-2", "item-3"), (), at(days=40)))
    assert (state.transferred, state.signed_off, state.signed_by) == (True, False, None)
    state = d.evolve(state, d.FinanceHandoverSignedOff("h-1", "f-1", "王会计", at(days=41)))
    assert (state.transferred, state.signed_off, state.signed_by) == (True, True, "f-1")


def test_events_that_change_nothing_of_the_state_leave_it_as_it_was():
    state = given(*turned_in())
    for event in (d.FoundItemReceiptIssued("item-1", "R-X", "s-101", "李雷", None, "desk", "c-017", T0, DAY),
                  d.ItemInformationCardIssued("item-1", CODE, "vsc:found-item:item-1", T0)):
        assert d.evolve(state, event) is state
