"""Lost and found's paper-form rules, pinned exactly (issue 10, mutation
testing): corrections and voids, sending and receiving between desks,
signatures, proxy claims, courier returns and the disposal routes.

Given events, when a command, then exactly these events (every field), or a
refusal with its code, the field at fault and the words the clerk reads (the
console shows the service's own sentence after the kind of refusal); then the
state the events leave, as the next command sees it. Boundaries are tried on
both sides: the same minute is allowed where the rule says "before".
"""
import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from services.chassis.decider import NotFound, Rejected
from services.lost_and_found import domain as d
from tests.unit.test_lost_and_found_paper import (  # the same builders and moments as the decider's other tests
    CST, T0, DAY, VALUABLES, KEY, LATE, at, given, refused, sign, claim_part, proxy, courier,
)
from tests.unit.test_lost_and_found_paper import turn_in as paper_turn_in

RETENTION = d.RetentionPolicy(default_days=30, valuable_days=90, per_category=(("umbrella", 7),))
IMAGE = "sha256:" + "cd" * 32


def turn_in(**changes) -> d.TurnInFoundItem:
    """The decider's other tests' turn-in, kept under this file's policy (umbrellas 7 days)."""
    return paper_turn_in(**{"retention": RETENTION, **changes})


def turned_in(**changes) -> list:
    return d.decide(turn_in(**changes), d.initial_state)


def registered(**changes) -> d.FoundItem:
    return given(*turned_in(**changes))


def reads(problem: Rejected) -> tuple:
    return problem.code, problem.field, problem.message


CODE = d.short_code("item-1")


# -- correcting a registration ---------------------------------------------------------------------
def correct(changes, **more) -> d.CorrectFoundItem:
    base = d.CorrectFoundItem("item-1", "corr-1", tuple(changes), "typed 包 for 钱包", "tl-3", d.TEAM_LEAD, at(1),
                              valuable_categories=VALUABLES, retention=RETENTION)
    return dataclasses.replace(base, **more)


def test_a_correction_records_every_particular_as_it_now_reads_with_who_why_and_when():
    corrected, = d.decide(correct([("description", "棕色钱包"), ("category", "wallet")]), registered())
    assert corrected == d.FoundItemCorrected(
        "item-1", "corr-1", ("category", "description"), "红色双肩包", "wallet", "棕色钱包", "north gate", at(-2),
        1, None, None, None, (), True, DAY + dt.timedelta(days=90), "typed 包 for 钱包", "tl-3", d.TEAM_LEAD, at(1))


def test_the_corrected_fields_are_listed_in_the_forms_order_whatever_order_they_were_named_in():
    corrected, = d.decide(correct([("quantity", 2), ("item_name", "蓝色双肩包"), ("found_place", "south gate")]),
                          registered())
    assert corrected.corrected_fields == ("item_name", "found_place", "quantity")
    assert (corrected.item_name, corrected.found_place, corrected.quantity) == ("蓝色双肩包", "south gate", 2)


def test_after_a_correction_the_item_reads_as_corrected_and_keeps_everything_else():
    before = registered()
    corrected, = d.decide(correct([("category", "wallet"), ("condition", "湿了"), ("contents", ("card",))]), before)
    assert given(*turned_in(), corrected) == dataclasses.replace(
        before, category="wallet", condition="湿了", contents=("card",), valuable=True,
        retain_until=DAY + dt.timedelta(days=90))


def test_a_counted_amount_is_corrected_as_a_decimal_string_and_kept_so():
    cash = registered(category="cash", item_name="现金", cash_amount=Decimal("500"), currency="CNY")
    corrected, = d.decide(correct([("cash_amount", Decimal("520.50"))]), cash)
    assert (corrected.cash_amount, corrected.currency, corrected.corrected_fields) == ("520.50", "CNY",
                                                                                       ("cash_amount",))
    after = given(*turned_in(category="cash", item_name="现金", cash_amount=Decimal("500"), currency="CNY"),
                  corrected)
    assert after.cash_amount == "520.50"


def test_the_same_amount_written_again_is_nothing_to_correct():
    cash = registered(category="cash", item_name="现金", cash_amount=Decimal("500"), currency="CNY")
    assert reads(refused(correct([("cash_amount", Decimal("500"))]), cash)) == \
        ("nothing_to_correct", "cash_amount", "cash_amount already reads so")


def test_contents_named_as_a_list_are_recorded_as_the_registrations_tuple():
    corrected, = d.decide(correct([("contents", ["phone", "card"])]), registered())
    assert corrected.contents == ("phone", "card") and corrected.valuable is True


def test_contents_that_already_read_so_are_nothing_to_correct_however_they_are_written():
    bag = registered(contents=("card",))
    assert reads(refused(correct([("contents", ["card"])]), bag)) == \
        ("nothing_to_correct", "contents", "contents already reads so")


def test_a_field_that_already_reads_so_is_named_in_the_refusal():
    assert reads(refused(correct([("quantity", 2), ("category", "bag")]), registered())) == \
        ("nothing_to_correct", "category", "category already reads so")


def test_a_correction_names_at_least_one_field():
    assert reads(refused(correct([]), registered())) == \
        ("nothing_to_correct", "changes", "name at least one field to correct")


def test_the_finder_the_clerk_and_the_hidden_features_are_not_corrected_but_registered_anew():
    for name in ("finder_name", "registered_by", "channel", "hidden_features"):
        assert reads(refused(correct([(name, "x")]), registered())) == \
            ("not_correctable", name, f"{name} cannot be corrected")


def test_only_a_team_lead_or_the_lead_corrects_a_registration():
    assert reads(refused(correct([("quantity", 2)], corrected_by_role=d.CLERK), registered())) == \
        ("not_allowed", "corrected_by_role", "a team lead or the lead corrects a registration")
    assert d.decide(correct([("quantity", 2)], corrected_by_role=d.LEAD), registered())[0].corrected_by_role == \
        d.LEAD


def test_a_voided_registration_is_not_corrected():
    voided = dataclasses.replace(registered(), status=d.VOIDED, voided_reason="registered twice")
    assert reads(refused(correct([("quantity", 2)]), voided)) == \
        ("voided", "item_id", f"item {CODE} was voided: registered twice")


def test_a_claimed_item_is_still_corrected():
    claimed = dataclasses.replace(registered(), status=d.CLAIMED)
    assert d.decide(correct([("quantity", 2)]), claimed)[0].quantity == 2


def test_a_correction_is_checked_as_the_whole_registration_would_read():
    problem = refused(correct([("contents", ("cash",))]), registered(category="cash", item_name="现金",
                                                                       cash_amount=Decimal("5"), currency="CNY"))
    assert (problem.code, problem.field) == ("bad_contents", "contents")
    assert reads(refused(correct([("currency", "JPY"), ("cash_amount", Decimal("5.5"))]),
                         registered(category="cash", item_name="现金", cash_amount=Decimal("5"), currency="CNY"))) \
        == ("bad_amount", "cash_amount", "JPY has 0 decimals")


def test_an_item_found_the_minute_it_was_turned_in_is_fine_a_minute_later_is_not():
    assert d.decide(correct([("found_at", T0)]), registered())[0].found_at == T0
    assert reads(refused(correct([("found_at", T0 + dt.timedelta(minutes=1))]), registered())) == \
        ("found_after_turn_in", "found_at", "found_at is after the turn-in")


def test_a_correction_recomputes_the_retention_from_the_day_it_was_turned_in():
    umbrella, = d.decide(correct([("category", "umbrella")]), registered())
    assert (umbrella.valuable, umbrella.retain_until) == (False, DAY + dt.timedelta(days=7))
    phone_inside, = d.decide(correct([("contents", ("phone",))]), registered())
    assert (phone_inside.valuable, phone_inside.retain_until) == (True, DAY + dt.timedelta(days=90))
    plain, = d.decide(correct([("description", "红色书包")]), registered(category="wallet"))
    assert plain.valuable is True
    not_valuable, = d.decide(correct([("category", "bag")]), registered(category="wallet", item_name="钱包"))
    assert (not_valuable.valuable, not_valuable.retain_until) == (False, DAY + dt.timedelta(days=30))


def test_a_registration_is_corrected_from_the_minute_it_was_registered_not_before():
    assert d.decide(correct([("quantity", 2)], at=T0), registered())[0].corrected_at == T0
    assert reads(refused(correct([("quantity", 2)], at=T0 - dt.timedelta(minutes=1)), registered())) == \
        ("before_turn_in", "at", "the item was not registered yet then")


def test_a_correction_of_an_item_never_registered_is_not_found():
    problem = refused(correct([("quantity", 2)]))
    assert isinstance(problem, NotFound) and reads(problem) == ("not_found", "item_id", "no found item item-1")


def test_the_retention_counts_from_the_business_day_not_the_calendar_day_of_the_turn_in():
    """A turn-in at 00:30 on the night shift belongs to the day before."""
    night = registered(at=dt.datetime(2026, 5, 2, 0, 30, tzinfo=CST), business_date=DAY)
    corrected, = d.decide(correct([("category", "umbrella")], at=dt.datetime(2026, 5, 2, 1, 0, tzinfo=CST)), night)
    assert corrected.retain_until == DAY + dt.timedelta(days=7)


def test_an_item_registered_before_business_days_were_recorded_counts_from_its_turn_in_date():
    old = dataclasses.replace(registered(at=dt.datetime(2026, 5, 2, 0, 30, tzinfo=CST)), business_date=None)
    corrected, = d.decide(correct([("category", "umbrella")], at=dt.datetime(2026, 5, 2, 1, 0, tzinfo=CST)), old)
    assert corrected.retain_until == dt.date(2026, 5, 2) + dt.timedelta(days=7)


# -- voiding a registration ------------------------------------------------------------------------
def void(**more) -> d.VoidFoundItem:
    return dataclasses.replace(d.VoidFoundItem("item-1", "registered twice", "tl-3", d.TEAM_LEAD, at(1)), **more)


def test_a_void_records_the_duplicate_it_repeats_with_who_why_and_when():
    voided, = d.decide(void(duplicate_of=d.ItemFacts("item-2", "LF-AAAAAA", d.HELD), duplicate_of_id="item-2"),
                       registered())
    assert voided == d.FoundItemVoided("item-1", "item-2", "registered twice", "tl-3", d.TEAM_LEAD, at(1))


def test_a_voided_item_says_why_to_every_later_command():
    voided, = d.decide(void(reason="typed by mistake", voided_by="l-1", voided_by_role=d.LEAD), registered())
    assert voided.duplicate_of is None
    after = given(*turned_in(), voided)
    assert after == dataclasses.replace(registered(), status=d.VOIDED, voided_reason="typed by mistake")
    assert reads(refused(d.SendItemToDesk("item-1", "east", "x", "c-017", at(2)), after)) == \
        ("voided", "item_id", f"item {CODE} was voided: typed by mistake")


def test_only_a_team_lead_or_the_lead_voids_a_registration():
    assert reads(refused(void(voided_by_role=d.CLERK), registered())) == \
        ("not_allowed", "voided_by_role", "a team lead or the lead voids a registration")


def test_a_claimed_item_is_not_voided_it_was_real():
    claimed = dataclasses.replace(registered(), status=d.CLAIMED)
    assert reads(refused(void(), claimed)) == ("already_claimed", "item_id", f"item {CODE} has already been claimed")


def test_an_item_is_not_a_duplicate_of_itself():
    assert reads(refused(void(duplicate_of=d.ItemFacts("item-1", CODE, d.HELD), duplicate_of_id="item-1"),
                         registered())) == ("bad_duplicate", "duplicate_of", "an item is not a duplicate of itself")


def test_the_registration_a_duplicate_repeats_must_exist():
    problem = refused(void(duplicate_of_id="item-9"), registered())
    assert isinstance(problem, NotFound)
    assert reads(problem) == ("not_found", "duplicate_of", "no found item item-9")


def test_a_registration_is_not_voided_as_the_duplicate_of_a_voided_one():
    assert reads(refused(void(duplicate_of=d.ItemFacts("item-2", "LF-BBBBBB", d.VOIDED), duplicate_of_id="item-2"),
                         registered())) == ("bad_duplicate", "duplicate_of", "item LF-BBBBBB is voided itself")


# -- sending and receiving between desks -----------------------------------------------------------
def send(to_desk="south-gate", **more) -> d.SendItemToDesk:
    return dataclasses.replace(d.SendItemToDesk("item-1", to_desk, "the owner waits there", "c-017", at(1)), **more)


def receive(desk="south-gate", **more) -> d.ReceiveItemAtDesk:
    return dataclasses.replace(d.ReceiveItemAtDesk("item-1", desk, "drawer 9", "c-020", at(2)), **more)


def test_an_item_sent_to_another_desk_records_both_desks_why_who_and_when_and_is_then_on_its_way():
    sent, = d.decide(send(), registered())
    assert sent == d.FoundItemSentToDesk("item-1", "main-gate", "south-gate", "the owner waits there", "c-017", at(1))
    assert given(*turned_in(), sent) == dataclasses.replace(registered(), location=d.IN_TRANSIT,
                                                            to_desk="south-gate")


def test_an_item_is_not_sent_to_the_desk_it_is_at():
    assert reads(refused(send("main-gate"), registered())) == \
        ("same_desk", "to_desk", f"item {CODE} is at main-gate already")


def test_an_item_in_the_custodians_keeping_is_not_sent_from_a_desk():
    kept = dataclasses.replace(registered(), status=d.IN_CUSTODY, custodian_id="k-1")
    assert reads(refused(send(), kept)) == \
        ("in_custody", "item_id", f"item {CODE} is in the custodian's keeping, not at a desk")


def test_an_item_on_its_way_is_not_sent_again():
    moving = given(*turned_in(), *d.decide(send(), registered()))
    assert reads(refused(send("east", at=at(1.5)), moving)) == \
        ("in_transit", "item_id", f"item {CODE} is already on its way to south-gate")


def test_an_item_still_on_site_may_be_sent_on_to_another_desk():
    on_site = registered(channel=d.ON_SITE, finder_kind="staff", finder_id="s-101", finder_name="李雷")
    assert d.decide(send(), on_site)[0].from_desk == "main-gate"


def test_a_disposed_item_is_neither_sent_nor_received():
    gone = dataclasses.replace(registered(), status=d.DISPOSED, disposal_id="dp-1", disposal_route=d.POLICE)
    message = f"item {CODE} went to the police (公安) in dp-1"
    assert reads(refused(send(), gone)) == ("disposed", "item_id", message)
    assert reads(refused(receive(), gone)) == ("disposed", "item_id", message)


def test_an_item_received_at_the_desk_it_was_sent_to_is_there_in_its_new_place():
    moving = given(*turned_in(), *d.decide(send(), registered()))
    received, = d.decide(receive(), moving)
    assert received == d.FoundItemReceivedAtDesk("item-1", "main-gate", "south-gate", "drawer 9", "c-020", at(2))
    assert given(*turned_in(), *d.decide(send(), registered()), received) == dataclasses.replace(
        registered(), desk="south-gate", storage_place="drawer 9", location=d.AT_DESK, to_desk=None)


def test_an_item_is_received_only_at_the_desk_it_was_sent_to():
    moving = given(*turned_in(), *d.decide(send(), registered()))
    assert reads(refused(receive("east"), moving)) == ("wrong_desk", "desk", f"item {CODE} was sent to south-gate")


def test_an_item_at_its_desk_is_not_received_again():
    assert reads(refused(receive("main-gate"), registered())) == \
        ("not_expected", "item_id", f"item {CODE} is at main-gate already")


def test_an_on_site_item_arrives_at_any_desk_from_the_site_where_it_was_found():
    on_site = registered(channel=d.ON_SITE, finder_kind="staff", finder_id="s-101", finder_name="李雷")
    arrived, = d.decide(receive("east"), on_site)
    assert arrived == d.FoundItemReceivedAtDesk("item-1", None, "east", "drawer 9", "c-020", at(2))


# -- signatures on a found item's form -------------------------------------------------------------


def in_custody(**changes) -> d.FoundItem:
    return dataclasses.replace(registered(**changes), status=d.IN_CUSTODY, custodian_id="k-1",
                               custody_handed_by="c-017")


def test_a_signature_records_the_part_who_signed_who_took_it_the_image_and_when():
    captured, = d.decide(sign("registration_clerk", "c-017", image_ref=IMAGE), registered())
    assert captured == d.SignatureCaptured("item-1", None, "registration_clerk", "clerk", "c-017", "c-017", IMAGE,
                                           at(1))


@pytest.mark.parametrize("part, signer_id, kind, recorded_signer", [
    ("registration_finder", None, "finder", None),
    ("registration_clerk", "c-017", "clerk", "c-017"),
    ("custody_handed_by", "c-017", "clerk", "c-017"),
    ("custody_custodian", "k-1", "custodian", "k-1"),
])
def test_each_part_of_the_form_is_signed_by_its_own_kind_of_signer(part, signer_id, kind, recorded_signer):
    captured, = d.decide(sign(part, signer_id), in_custody())
    assert (captured.part, captured.signer_kind, captured.signer_id) == (part, kind, recorded_signer)


def test_the_claimant_signs_the_filled_in_claim_part_as_the_visitor_named_on_it():
    claimed = dataclasses.replace(registered(), status=d.CLAIMED)
    captured, = d.decide(sign("claim_claimant", "c-017"), claimed)
    assert (captured.signer_kind, captured.signer_id) == ("claimant", None)


def test_a_visitor_finder_is_named_on_the_part_not_by_a_login_and_a_staff_finder_by_their_id():
    assert d.decide(sign("registration_finder", "c-017"), registered())[0].signer_id is None
    staff = registered(channel=d.DESK_STAFF, finder_kind="staff", finder_id="s-101", finder_name="李雷")
    assert d.decide(sign("registration_finder", "c-017"), staff)[0].signer_id == "s-101"


def test_the_claim_part_is_signed_only_once_the_item_is_claimed():
    assert reads(refused(sign("claim_claimant"), registered())) == \
        ("part_not_filled", "part", "the claim part is not filled in yet")


@pytest.mark.parametrize("part, message", [
    ("custody_handed_by", "the custody handed by part is not filled in yet"),
    ("custody_custodian", "the custody custodian part is not filled in yet"),
])
def test_the_custody_parts_are_signed_only_once_the_item_is_in_custody(part, message):
    assert reads(refused(sign(part, "c-017"), registered())) == ("part_not_filled", "part", message)


@pytest.mark.parametrize("part, signer_id, message", [
    ("registration_clerk", "c-999", "the clerk who registered of that part signs it, with their own login"),
    ("custody_handed_by", "c-999", "the clerk who handed it over of that part signs it, with their own login"),
    ("custody_custodian", "k-2", "the custodian of that part signs it, with their own login"),
    ("custody_custodian", None, "the custodian of that part signs it, with their own login"),
])
def test_a_staff_part_is_signed_only_by_the_staff_member_it_names(part, signer_id, message):
    assert reads(refused(sign(part, signer_id), in_custody())) == ("wrong_signer", "signer", message)


def test_a_found_item_form_has_only_its_own_parts():
    assert reads(refused(sign("handover_receiver", "c-017"), registered())) == \
        ("unknown_part", "part", "a found item's form has no part 'handover_receiver' to sign")


def test_a_voided_registration_is_not_signed():
    voided = dataclasses.replace(registered(), status=d.VOIDED, voided_reason="registered twice")
    assert reads(refused(sign("registration_finder"), voided)) == \
        ("voided", "item_id", f"item {CODE} was voided: registered twice")


def test_a_claimed_or_disposed_item_is_still_signed_where_its_form_has_room():
    claimed = dataclasses.replace(registered(), status=d.CLAIMED)
    assert d.decide(sign("registration_finder"), claimed)[0].part == "registration_finder"
    disposed = dataclasses.replace(registered(), status=d.DISPOSED, disposal_id="dp-1", disposal_route=d.POLICE)
    assert d.decide(sign("registration_clerk", "c-017"), disposed)[0].part == "registration_clerk"


def signed(*commands):
    """The item after each signature command, in turn."""
    events = list(turned_in())
    for command in commands:
        events += d.decide(command, given(*events))
    return given(*events)


def test_a_part_signed_without_its_image_may_get_the_image_once_and_then_nothing_more():
    first = signed(sign("registration_finder"))
    assert first.signatures == (("registration_finder", False),)
    assert reads(refused(sign("registration_finder"), first)) == \
        ("already_signed", "part", "the registration finder part is already signed")
    with_image = signed(sign("registration_finder"), sign("registration_finder", image_ref=IMAGE))
    assert with_image.signatures == (("registration_finder", False), ("registration_finder", True))
    assert reads(refused(sign("registration_finder", image_ref=IMAGE), with_image)) == \
        ("already_signed", "part", "the registration finder part is already signed")


def test_a_part_signed_with_its_image_is_not_signed_again_with_or_without_one():
    done = signed(sign("registration_clerk", "c-017", image_ref=IMAGE))
    for again in (sign("registration_clerk", "c-017"), sign("registration_clerk", "c-017", image_ref=IMAGE)):
        assert reads(refused(again, done)) == \
            ("already_signed", "part", "the registration clerk part is already signed")


def test_a_signed_part_does_not_stop_another_part_being_signed():
    done = signed(sign("registration_finder", image_ref=IMAGE))
    assert d.decide(sign("registration_clerk", "c-017"), done)[0].part == "registration_clerk"


def test_a_part_is_signed_from_the_minute_the_item_was_registered_not_before():
    assert d.decide(sign("registration_finder", at=T0), registered())[0].signed_at == T0
    assert reads(refused(sign("registration_finder", at=T0 - dt.timedelta(minutes=1)), registered())) == \
        ("before_turn_in", "at", "the item was not registered yet then")


def test_a_signature_on_a_form_that_does_not_exist_names_the_form_it_was_meant_for():
    item = refused(sign("registration_clerk", "c-017"))
    assert isinstance(item, NotFound) and reads(item) == ("not_found", "item_id", "no such form item-1")
    handover = refused(d.CaptureSignature("h-9", "handover_custodian", "k-1", "k-1", at(3)))
    assert reads(handover) == ("not_found", "handover_id", "no such form h-9")


# -- signatures on a finance handover list ---------------------------------------------------------
def handover(**changes) -> d.FinanceHandover:
    return dataclasses.replace(d.FinanceHandover("h-1", "k-1", ("item-1",)), **changes)


def test_the_custodian_signs_their_handover_line_recorded_against_the_list():
    captured, = d.decide(d.CaptureSignature("h-1", "handover_custodian", "k-1", "k-3", at(3), IMAGE), handover())
    assert captured == d.SignatureCaptured(None, "h-1", "handover_custodian", "custodian", "k-1", "k-3", IMAGE, at(3))


def test_the_finance_receiver_who_signed_it_off_signs_the_receivers_part():
    signed_off = handover(transferred=True, signed_off=True, signed_by="f-1")
    captured, = d.decide(d.CaptureSignature("h-1", "handover_receiver", "f-1", "k-1", at(3)), signed_off)
    assert captured == d.SignatureCaptured(None, "h-1", "handover_receiver", "receiver", "f-1", "k-1", None, at(3))
    assert reads(refused(d.CaptureSignature("h-1", "handover_receiver", "f-2", "k-1", at(3)), signed_off)) == \
        ("wrong_signer", "signer", "the finance receiver who signed it off of that part signs it, with their own "
                                   "login")


def test_the_receivers_part_waits_for_finances_sign_off():
    assert reads(refused(d.CaptureSignature("h-1", "handover_receiver", "f-1", "k-1", at(3)), handover())) == \
        ("part_not_filled", "part", "the handover receiver part is not filled in yet")


def test_the_custodians_line_is_signed_by_the_custodian_named_on_the_list():
    assert reads(refused(d.CaptureSignature("h-1", "handover_custodian", "k-9", "k-9", at(3)), handover())) == \
        ("wrong_signer", "signer", "the custodian of that part signs it, with their own login")


def test_a_handover_list_has_only_its_own_parts():
    assert reads(refused(d.CaptureSignature("h-1", "custody_custodian", "k-1", "k-1", at(3)), handover())) == \
        ("unknown_part", "part", "a handover list has no part 'custody_custodian' to sign")


def test_a_handover_part_is_signed_once():
    done = handover(signatures=(("handover_custodian", True),))
    assert reads(refused(d.CaptureSignature("h-1", "handover_custodian", "k-1", "k-1", at(3)), done)) == \
        ("already_signed", "part", "the handover custodian part is already signed")


# -- proxy claims (代领) ------------------------------------------------------------------------------
def verified(**changes) -> list:
    events = turned_in(**changes)
    return [*events, *d.decide(d.RecordClaimVerification("item-1", "v-1", "红色双肩包, a blue notebook inside",
                                                         ("inside",), True, d.OWNER, "c-017", d.CLERK, at(1),
                                                         claimant_key=KEY), given(*events))]


def test_a_proxy_claim_records_the_claim_and_beside_it_the_owners_authorisation_taken_by_the_releasing_clerk():
    claimed, authorised = d.decide(proxy(), given(*verified()))
    assert (claimed.claim_id, claimed.claimant_name, claimed.released_by) == ("claim-1", "王导游", "c-017")
    assert authorised == d.ClaimAuthorisedByOwner(
        "item-1", "claim-1", "tour_guide", "春秋旅行社", "韩梅梅", "13800000000", "message", "请把我的包交给王导游",
        at(1.5), "c-017", at(2))


def test_a_proxy_claim_leaves_the_item_claimed_as_any_claim_does():
    events = verified()
    assert given(*events, *d.decide(proxy(), given(*events))) == given(*events, *d.decide(claim_part(),
                                                                                         given(*events)))


@pytest.mark.parametrize("kind, organisation", [("tour_guide", "春秋旅行社"), ("hotel", "如家酒店"),
                                                ("family", None), ("other", None)])
def test_a_proxy_is_a_tour_guide_a_hotel_family_or_someone_else(kind, organisation):
    assert d.decide(proxy(proxy_kind=kind, organisation=organisation), given(*verified()))[1].proxy_kind == kind


def test_an_unknown_kind_of_proxy_is_refused():
    assert reads(refused(proxy(proxy_kind="neighbour"), given(*verified()))) == \
        ("unknown_proxy_kind", "proxy_kind", "unknown proxy kind 'neighbour'")


@pytest.mark.parametrize("kind, organisation, message", [
    ("tour_guide", None, "a tour guide names their agency or hotel"),
    ("tour_guide", "", "a tour guide names their agency or hotel"),
    ("hotel", None, "a hotel names their agency or hotel"),
])
def test_a_tour_guide_or_a_hotel_names_their_agency_or_hotel(kind, organisation, message):
    assert reads(refused(proxy(proxy_kind=kind, organisation=organisation), given(*verified()))) == \
        ("organisation_required", "organisation", message)


def test_an_on_spot_claim_is_the_owners_own_never_a_proxys():
    assert reads(refused(proxy(claim=claim_part(claim_kind=d.ON_SPOT)), given(*verified()))) == \
        ("proxy_not_on_spot", "claim_kind", "an on-spot claim is the owner's own")


@pytest.mark.parametrize("method", ["written", "message", "phone_call", "video_call"])
def test_the_owner_authorises_in_writing_by_message_by_phone_or_by_video(method):
    assert d.decide(proxy(authorisation_method=method), given(*verified()))[1].authorisation_method == method


def test_an_unknown_way_of_authorising_is_refused():
    assert reads(refused(proxy(authorisation_method="telepathy"), given(*verified()))) == \
        ("unknown_authorisation", "authorisation_method", "unknown authorisation 'telepathy'")


@pytest.mark.parametrize("method", ["phone_call", "video_call"])
def test_a_valuable_goes_to_a_proxy_only_on_an_authorisation_the_desk_can_keep(method):
    valuable = given(*verified(contents=("phone",)))
    assert reads(refused(proxy(authorisation_method=method), valuable)) == \
        ("written_authorisation_required", "authorisation_method",
         f"valuable {CODE} goes to a proxy only on a written or messaged authorisation the desk keeps")


@pytest.mark.parametrize("method", ["written", "message"])
def test_a_valuable_goes_to_a_proxy_on_a_written_or_messaged_authorisation(method):
    assert len(d.decide(proxy(authorisation_method=method), given(*verified(contents=("phone",))))) == 2


def test_the_owner_authorises_before_the_claim_or_at_the_same_minute_not_after():
    assert d.decide(proxy(authorised_at=at(2)), given(*verified()))[1].authorised_at == at(2)
    assert reads(refused(proxy(authorised_at=at(2) + dt.timedelta(minutes=1)), given(*verified()))) == \
        ("authorised_after_claim", "authorised_at", "the owner's authorisation comes before the claim")


def test_a_proxy_claim_on_an_item_not_registered_or_before_its_registration_is_refused():
    missing = refused(proxy())
    assert reads(missing) == ("not_found", "item_id", "no found item item-1")
    early = proxy(claim=claim_part(at=T0 - dt.timedelta(minutes=1)), authorised_at=at(-1))
    assert reads(refused(early, given(*verified()))) == \
        ("before_turn_in", "at", "the item was not registered yet then")


# -- courier returns ----------------------------------------------------------------------------------


def test_a_courier_return_records_the_remote_claim_the_address_and_the_fee_arranged_by_the_clerk():
    claimed, arranged = d.decide(courier(), given(*verified()))
    assert claimed.claimant_name == "韩梅梅"
    assert arranged == d.CourierReturnArranged("item-1", "ret-1", "claim-1", "韩梅梅", "13800000000",
                                               "北京市东城区某街1号", "visitor", "23.00", "CNY", "c-017", at(2))


def test_after_a_courier_return_the_item_is_claimed_and_waits_for_its_dispatch():
    events = verified()
    arranged = d.decide(courier(), given(*events))
    assert given(*events, *arranged) == dataclasses.replace(given(*events, arranged[0]), courier_return_id="ret-1")


@pytest.mark.parametrize("payer, amount, currency", [("visitor", Decimal("23.00"), "CNY"),
                                                     ("center", None, None),
                                                     ("center", Decimal("0"), "CNY"),
                                                     ("cash_on_delivery", Decimal("18"), "CNY")])
def test_the_visitor_the_center_or_the_recipient_on_delivery_pays(payer, amount, currency):
    arranged = d.decide(courier(fee_paid_by=payer, fee_amount=amount, fee_currency=currency),
                        given(*verified()))[1]
    assert (arranged.fee_paid_by, arranged.fee_amount, arranged.fee_currency) == \
        (payer, None if amount is None else str(amount), currency)


def test_an_unknown_payer_is_refused():
    assert reads(refused(courier(fee_paid_by="nobody"), given(*verified()))) == \
        ("unknown_fee_payer", "fee_paid_by", "unknown fee payer 'nobody'")


@pytest.mark.parametrize("changes, field", [({"fee_currency": None}, "fee_currency"),
                                            ({"fee_amount": None}, "fee_amount")])
def test_a_fee_and_its_currency_go_together(changes, field):
    assert reads(refused(courier(**changes), given(*verified()))) == \
        ("currency_required", field, "a fee and its currency go together")


@pytest.mark.parametrize("amount", [Decimal("-0.01"), Decimal("NaN"), Decimal("Infinity")])
def test_a_fee_is_a_number_and_not_negative(amount):
    assert reads(refused(courier(fee_amount=amount), given(*verified()))) == \
        ("bad_amount", "fee_amount", "the fee is not negative")


def test_cash_on_delivery_of_nothing_is_refused_say_who_pays_instead():
    assert reads(refused(courier(fee_paid_by="cash_on_delivery", fee_amount=Decimal("0")), given(*verified()))) \
        == ("bad_amount", "fee_amount", "cash on delivery with no fee: say who pays instead")


def test_cash_on_delivery_of_a_fee_the_courier_states_later_is_arranged_without_an_amount():
    arranged = d.decide(courier(fee_paid_by="cash_on_delivery", fee_amount=None, fee_currency=None),
                        given(*verified()))[1]
    assert (arranged.fee_paid_by, arranged.fee_amount, arranged.fee_currency) == ("cash_on_delivery", None, None)


@pytest.mark.parametrize("claim", [claim_part(claim_kind=d.ON_SPOT),
                                   claim_part(released_by="tl-3", released_by_role=d.TEAM_LEAD)])
def test_a_courier_return_is_arranged_by_the_desk_never_on_the_spot(claim):
    assert reads(refused(courier(claim=claim), given(*verified()))) == \
        ("courier_from_the_desk", "claim_kind", "a courier return is arranged by the desk, not on the spot")


def test_a_courier_return_obeys_every_rule_of_a_claim():
    assert refused(courier(), given(*turned_in())).code == "verification_required"
    assert reads(refused(courier())) == ("not_found", "item_id", "no found item item-1")
    early = courier(claim=claim_part(at=T0 - dt.timedelta(minutes=1)))
    assert refused(early, given(*verified())).code == "before_turn_in"


def arranged_state():
    events = verified()
    return given(*events, *d.decide(courier(), given(*events)))


def dispatch(**changes) -> d.RecordCourierDispatch:
    return dataclasses.replace(d.RecordCourierDispatch("item-1", "ret-1", "顺丰速运", "SF1234567890", "c-017", at(3)),
                               **changes)


def test_a_dispatch_records_the_carrier_and_tracking_number_and_the_item_has_left():
    dispatched, = d.decide(dispatch(), arranged_state())
    assert dispatched == d.ItemDispatchedByCourier("item-1", "ret-1", "顺丰速运", "SF1234567890", "c-017", at(3))
    assert given(*verified(), *d.decide(courier(), given(*verified())), dispatched) == \
        dataclasses.replace(arranged_state(), dispatched=True)


def test_an_item_leaves_once():
    gone = dataclasses.replace(arranged_state(), dispatched=True)
    assert reads(refused(dispatch(), gone)) == \
        ("already_dispatched", "return_id", f"item {CODE} has already left by courier")


@pytest.mark.parametrize("state", [lambda: given(*verified()), arranged_state])
def test_a_dispatch_names_the_items_own_courier_return(state):
    assert reads(refused(dispatch(return_id="ret-9"), state())) == \
        ("no_courier_return", "return_id", f"item {CODE} has no courier return ret-9")


def test_an_item_leaves_at_or_after_the_minute_its_return_was_arranged():
    assert d.decide(dispatch(at=at(2)), arranged_state())[0].dispatched_at == at(2)
    assert reads(refused(dispatch(at=at(2) - dt.timedelta(minutes=1)), arranged_state())) == \
        ("dispatch_before_arrangement", "at", "the item leaves after the return was arranged")


# -- disposal routes: police, issuing bank, destruction ---------------------------------------------
KEPT_UNTIL = DAY + dt.timedelta(days=90)


def test_each_step_of_a_disposal_run_has_its_own_command_id_the_same_on_every_retry():
    """The ids are stored with the events: a run retried after an upgrade must find them again."""
    assert d.disposal_command_id("dp-1", "drawn") == "disposal:dp-1:drawn"
    assert d.disposal_command_id("dp-1", "item-7") == "disposal:dp-1:item-7"


def line(route=d.POLICE, **changes) -> d.HandoverLine:
    return dataclasses.replace(d.HandoverLine("item-1", d.HELD, KEPT_UNTIL, None, route), **changes)


def draw(route=d.POLICE, receiver="景区派出所", lines=None, **changes) -> d.DrawDisposalList:
    return dataclasses.replace(d.DrawDisposalList("dp-1", route, receiver, "k-1", tuple(lines or [line(route)]),
                                                  at(days=120), LATE), **changes)


def test_a_disposal_list_records_its_route_receiver_custodian_items_and_when():
    drawn, = d.decide(draw(lines=[line(), line(item_id="item-2")]), d.initial_state)
    assert drawn == d.DisposalListDrawn("dp-1", d.POLICE, "景区派出所", "k-1", ("item-1", "item-2"), at(days=120))
    assert given(drawn) == d.Disposal("dp-1", d.POLICE, "k-1", ("item-1", "item-2"))


def test_bank_cards_go_to_their_issuing_bank_named_on_the_list():
    drawn, = d.decide(draw(d.ISSUING_BANK, "工商银行景区支行"), d.initial_state)
    assert (drawn.route, drawn.receiver) == (d.ISSUING_BANK, "工商银行景区支行")


def test_a_destruction_has_no_receiver_whatever_was_typed():
    drawn, = d.decide(draw(d.DESTROY, "the bin"), d.initial_state)
    assert drawn == d.DisposalListDrawn("dp-1", d.DESTROY, None, "k-1", ("item-1",), at(days=120))


@pytest.mark.parametrize("route, receiver, message", [
    (d.POLICE, None, "name the receiving police station"),
    (d.POLICE, "", "name the receiving police station"),
    (d.ISSUING_BANK, None, "name the receiving bank"),
])
def test_the_police_or_bank_route_names_its_receiver(route, receiver, message):
    assert reads(refused(draw(route, receiver))) == ("receiver_required", "receiver", message)


def test_finance_is_not_a_disposal_route_it_has_its_own_handover():
    assert reads(refused(draw(d.FINANCE_ROUTE, lines=[line(d.FINANCE_ROUTE)]))) == \
        ("unknown_route", "route", "'finance' is not a disposal route (finance has its own handover)")


def test_a_disposal_is_drawn_once():
    assert reads(refused(draw(), given(*d.decide(draw(), d.initial_state)))) == \
        ("disposal_exists", "disposal_id", "disposal dp-1 already exists")


def test_a_disposal_list_takes_only_unclaimed_items_past_their_retention_on_its_route():
    assert reads(refused(draw(business_date=KEPT_UNTIL))) == \
        ("retention_not_over", "item_ids", f"item item-1 is kept until {KEPT_UNTIL.isoformat()} inclusive; "
                                           f"it may go to finance from {(KEPT_UNTIL + dt.timedelta(days=1))}")
    assert d.decide(draw(business_date=KEPT_UNTIL + dt.timedelta(days=1)), d.initial_state)[0].item_ids == \
        ("item-1",)
    assert refused(draw(lines=[line(status=d.CLAIMED)])).code == "not_unclaimed"


def dispose(**changes) -> d.DisposeItem:
    return dataclasses.replace(d.DisposeItem("item-1", "dp-1", d.POLICE, "k-1", at(days=120), LATE), **changes)


def id_card(**changes) -> d.FoundItem:
    return registered(category="document", item_name="身份证", **changes)


def test_an_item_disposed_of_records_its_list_route_custodian_and_when_and_is_gone():
    disposed, = d.decide(dispose(), id_card())
    assert disposed == d.ItemDisposed("item-1", "dp-1", d.POLICE, "k-1", at(days=120))
    after = given(*turned_in(category="document", item_name="身份证"), disposed)
    assert after == dataclasses.replace(id_card(), status=d.DISPOSED, disposal_id="dp-1", disposal_route=d.POLICE)
    assert reads(refused(dispose(), after)) == ("disposed", "item_id", f"item {CODE} went to the police (公安) in dp-1")


def test_an_item_is_disposed_of_the_day_after_it_is_kept_until_not_on_that_day():
    kept_until = DAY + dt.timedelta(days=30)
    assert reads(refused(dispose(business_date=kept_until), id_card())) == \
        ("retention_not_over", "item_id", f"item {CODE} is kept until {kept_until.isoformat()} inclusive; "
                                          f"it may go to finance from {(kept_until + dt.timedelta(days=1))}")
    assert d.decide(dispose(business_date=kept_until + dt.timedelta(days=1)), id_card())[0].disposal_id == "dp-1"


def test_a_claimed_item_is_withdrawn_from_a_disposal_not_disposed_of():
    claimed = dataclasses.replace(id_card(), status=d.CLAIMED)
    assert reads(refused(dispose(), claimed)) == ("already_claimed", "item_id", f"item {CODE} has already been claimed")


def drawn_state(route=d.POLICE, items=("item-1",), **more):
    lines = [line(route, item_id=item) for item in items]
    return given(*d.decide(draw(route, None if route == d.DESTROY else "景区派出所", lines=lines), d.initial_state),
                 *more.get("then", ()))


def record(disposed=("item-1",), withdrawn=(), **changes) -> d.RecordDisposal:
    return dataclasses.replace(d.RecordDisposal("dp-1", disposed, withdrawn, at(days=120)), **changes)


def test_the_hand_over_records_what_went_and_what_was_withdrawn_and_the_list_is_then_handed_over():
    state = drawn_state(items=("item-1", "item-2", "item-3"))
    recorded, = d.decide(record(["item-3", "item-1"], ["item-2"]), state)
    assert recorded == d.DisposalRecorded("dp-1", ("item-3", "item-1"), ("item-2",), at(days=120))
    assert given(*d.decide(draw(lines=[line(item_id=i) for i in ("item-1", "item-2", "item-3")]), d.initial_state),
                 recorded) == dataclasses.replace(state, recorded=True)


def test_every_listed_item_is_handed_over_or_withdrawn():
    assert reads(refused(record(("item-1",)), drawn_state(items=("item-1", "item-2")))) == \
        ("incomplete_transfer", "disposal_id", "every listed item must be handed over or withdrawn")


def test_a_disposal_is_handed_over_once():
    done = dataclasses.replace(drawn_state(), recorded=True)
    assert reads(refused(record(), done)) == \
        ("already_recorded", "disposal_id", "the disposal's items are already handed over")


@pytest.mark.parametrize("command", [record(), d.SignOffDisposal("dp-1", "k-1", at(days=120), "张警官", "警号 1")])
def test_a_disposal_that_was_never_drawn_is_not_found(command):
    problem = refused(command)
    assert isinstance(problem, NotFound) and reads(problem) == ("not_found", "disposal_id", "no disposal dp-1")


def sign_off(**changes) -> d.SignOffDisposal:
    return dataclasses.replace(d.SignOffDisposal("dp-1", "k-1", at(days=120), "张警官", "警号 012345"), **changes)


def handed_over(route=d.POLICE) -> d.Disposal:
    return dataclasses.replace(drawn_state(route), recorded=True)


def test_the_police_sign_off_with_the_officers_name_and_badge_number():
    signed_off, = d.decide(sign_off(witness_id="s-205", witness_name="张三"), handed_over())
    assert signed_off == d.DisposalSignedOff("dp-1", d.POLICE, "张警官", "警号 012345", None, None, "k-1",
                                             at(days=120))
    assert given(*d.decide(draw(), d.initial_state), *d.decide(record(), drawn_state()), signed_off) == \
        dataclasses.replace(handed_over(), signed_off=True)


@pytest.mark.parametrize("changes", [{"receiver_name": None}, {"receiver_reference": None},
                                     {"receiver_name": ""}, {"receiver_reference": ""}])
def test_the_receiver_signs_off_with_both_their_name_and_their_badge_or_receipt_number(changes):
    assert reads(refused(sign_off(**changes), handed_over(d.ISSUING_BANK))) == \
        ("receiver_required", "receiver_name",
         "the receiving officer or bank clerk signs with their name and badge or receipt number")


def test_the_list_is_signed_off_after_its_items_are_handed_over_and_once():
    assert reads(refused(sign_off(), drawn_state())) == \
        ("not_transferred", "disposal_id", "the list is signed off after its items are handed over")
    done = dataclasses.replace(handed_over(), signed_off=True)
    assert reads(refused(sign_off(), done)) == \
        ("already_signed_off", "disposal_id", "this list is already signed off")


def test_a_destruction_is_signed_off_by_its_witness_and_names_no_receiver():
    signed_off, = d.decide(sign_off(witness_id="s-205", witness_name="张三"), handed_over(d.DESTROY))
    assert signed_off == d.DisposalSignedOff("dp-1", d.DESTROY, None, None, "s-205", "张三", "k-1", at(days=120))
    assert d.evolve(handed_over(d.DESTROY), signed_off) == dataclasses.replace(
        handed_over(d.DESTROY), signed_off=True, witness_id="s-205")


def test_a_destruction_needs_a_witness_with_their_own_login():
    assert reads(refused(sign_off(receiver_name=None, receiver_reference=None), handed_over(d.DESTROY))) == \
        ("witness_required", "cosigner", "a destruction is witnessed by a member of staff, with their own login")


@pytest.mark.parametrize("witness, recorded_by", [("k-1", "k-1"), ("k-2", "k-2")])
def test_the_witness_is_neither_the_lists_custodian_nor_the_one_recording_it(witness, recorded_by):
    assert reads(refused(sign_off(witness_id=witness, signed_by=recorded_by), handed_over(d.DESTROY))) == \
        ("witness_required", "cosigner", "the witness is another member of staff than the custodian")


# -- signatures on a disposal list ------------------------------------------------------------------
def disposal_sign(part, signer_id, **changes) -> d.CaptureSignature:
    return dataclasses.replace(d.CaptureSignature("dp-1", part, signer_id, "k-1", at(days=120)), **changes)


def signed_off_state(route=d.POLICE) -> d.Disposal:
    return dataclasses.replace(handed_over(route), signed_off=True,
                               witness_id="s-205" if route == d.DESTROY else None)


def test_the_custodian_signs_the_disposal_list_once_it_is_drawn():
    captured, = d.decide(disposal_sign("disposal_custodian", "k-1", image_ref=IMAGE), drawn_state())
    assert captured == d.SignatureCaptured(None, "dp-1", "disposal_custodian", "custodian", "k-1", "k-1", IMAGE,
                                           at(days=120))
    assert d.evolve(drawn_state(), captured) == dataclasses.replace(drawn_state(),
                                                                    signatures=(("disposal_custodian", True),))


def test_the_custodians_part_is_signed_only_by_the_lists_custodian_and_once():
    assert reads(refused(disposal_sign("disposal_custodian", "k-2"), drawn_state())) == \
        ("wrong_signer", "signer", "the custodian of that part signs it, with their own login")
    done = dataclasses.replace(drawn_state(), signatures=(("disposal_custodian", False),))
    assert reads(refused(disposal_sign("disposal_custodian", "k-1"), done)) == \
        ("already_signed", "part", "the disposal custodian part is already signed")


def test_the_receiver_signs_as_named_on_the_sign_off_never_as_a_login():
    captured, = d.decide(disposal_sign("disposal_receiver", "k-1"), signed_off_state())
    assert captured == d.SignatureCaptured(None, "dp-1", "disposal_receiver", "receiver", None, "k-1", None,
                                           at(days=120))


def test_the_witness_signs_a_destruction_with_their_own_login():
    captured, = d.decide(disposal_sign("disposal_witness", "s-205"), signed_off_state(d.DESTROY))
    assert captured == d.SignatureCaptured(None, "dp-1", "disposal_witness", "witness", "s-205", "k-1", None,
                                           at(days=120))
    assert reads(refused(disposal_sign("disposal_witness", "s-999"), signed_off_state(d.DESTROY))) == \
        ("wrong_signer", "signer", "the witness of that part signs it, with their own login")


@pytest.mark.parametrize("part, signer", [("disposal_receiver", None), ("disposal_witness", "s-205")])
def test_the_receiver_and_the_witness_sign_after_the_sign_off(part, signer):
    assert reads(refused(disposal_sign(part, signer), handed_over(d.DESTROY))) == \
        ("part_not_filled", "part", "the sign-off is not recorded yet")


def test_a_destruction_has_a_witness_and_no_receiver_and_the_police_a_receiver_and_no_witness():
    assert reads(refused(disposal_sign("disposal_receiver", None), signed_off_state(d.DESTROY))) == \
        ("part_not_filled", "part", "a destruction has a witness, not a receiver")
    assert reads(refused(disposal_sign("disposal_witness", "s-205"), signed_off_state(d.POLICE))) == \
        ("part_not_filled", "part", "only a destruction has a witness")


def test_a_disposal_list_has_only_its_own_parts():
    assert reads(refused(disposal_sign("registration_clerk", "k-1"), drawn_state())) == \
        ("unknown_part", "part", "a disposal list has no part 'registration_clerk' to sign")


# -- events that change nothing the decider reads -----------------------------------------------------
def test_the_owners_authorisation_leaves_the_claimed_item_as_the_claim_left_it():
    events = verified()
    claimed, authorised = d.decide(proxy(), given(*events))
    assert d.evolve(given(*events, claimed), authorised) == given(*events, claimed)
