"""What the paper forms carry (issue 10): quantity, cash with its amount and
currency, condition, declared contents; the forms that show them. Given
events, when a command, then events or a refusal; then the folds over a log
the real decider wrote through the chassis."""
import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from marshmallow import ValidationError

import contracts
from contracts import lost_and_found as c
from services.chassis.codec import EventCodec
from services.chassis.commands import execute
from services.chassis.decider import Rejected, fold
from services.chassis.projection import replay
from services.eventstore import NewEvent, format_time, open_store
from services.lost_and_found import domain as d
from services.lost_and_found import forms as f

CST = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 5, 1, 10, 0, tzinfo=CST)
DAY = T0.date()
VALUABLES = frozenset({"phone", "cash", "camera", "wallet"})
RETENTION = d.RetentionPolicy(default_days=30, valuable_days=90)


def at(hours=0.0, days=0):
    return T0 + dt.timedelta(hours=hours, days=days)


def turn_in(**changes) -> d.TurnInFoundItem:
    base = d.TurnInFoundItem(
        item_id="item-1", desk="main-gate", channel=d.DESK_VISITOR, item_name="红色双肩包", category="bag",
        description="红色双肩包，拉链坏了", found_place="north gate", found_at=at(-2), finder_kind="visitor",
        finder_id=None, finder_name="路人甲", finder_phone="13900000000", finder_department=None,
        registered_by="c-017", registered_by_role=d.CLERK, storage_place="desk drawer 2", at=T0, business_date=DAY,
        hidden_features=(("inside", "a blue notebook"),), valuable_categories=VALUABLES, retention=RETENTION)
    return dataclasses.replace(base, **changes)


def turned_in(**changes):
    return d.decide(turn_in(**changes), d.initial_state)


def refused(command, state=d.initial_state) -> Rejected:
    with pytest.raises(Rejected) as raised:
        d.decide(command, state)
    return raised.value


# -- quantity, cash, condition, contents ------------------------------------------------------
def test_a_turn_in_records_quantity_and_condition():
    registered = turned_in(quantity=3, condition="一条肩带断了")[0]
    assert (registered.quantity, registered.condition) == (3, "一条肩带断了")


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_quantity_below_one_is_refused(quantity):
    assert (refused(turn_in(quantity=quantity)).code, refused(turn_in(quantity=quantity)).field) == \
        ("bad_quantity", "quantity")


def test_cash_is_registered_with_its_counted_amount_and_currency_kept_as_a_decimal_string():
    registered = turned_in(category="cash", item_name="现金", cash_amount=Decimal("520.50"), currency="CNY")[0]
    assert (registered.cash_amount, registered.currency) == ("520.50", "CNY")
    assert isinstance(registered.cash_amount, str)  # never a float on its way to the log


def test_cash_without_its_amount_is_refused():
    problem = refused(turn_in(category="cash", item_name="现金"))
    assert (problem.code, problem.field) == ("amount_required", "cash_amount")


@pytest.mark.parametrize("changes, field", [
    ({"cash_amount": Decimal("100")}, "currency"),
    ({"currency": "CNY"}, "cash_amount"),
])
def test_an_amount_and_its_currency_go_together(changes, field):
    problem = refused(turn_in(category="cash", **{"cash_amount": None, **changes}))
    assert problem.code in ("currency_required", "amount_required") and problem.field == field


def test_an_amount_is_refused_on_an_item_with_no_cash_declared():
    problem = refused(turn_in(cash_amount=Decimal("100"), currency="CNY"))
    assert (problem.code, problem.field) == ("amount_without_cash", "cash_amount")


@pytest.mark.parametrize("amount, currency", [(Decimal("0"), "CNY"), (Decimal("-5"), "CNY"),
                                              (Decimal("100.5"), "JPY"), (Decimal("1.005"), "CNY")])
def test_an_amount_must_be_positive_and_have_no_more_decimals_than_its_currency(amount, currency):
    problem = refused(turn_in(category="cash", cash_amount=amount, currency=currency))
    assert (problem.code, problem.field) == ("bad_amount", "cash_amount")


def test_a_three_decimal_currency_keeps_its_fils():
    assert turned_in(category="cash", cash_amount=Decimal("12.345"), currency="KWD")[0].cash_amount == "12.345"


def test_a_bag_with_cash_inside_records_the_cash_and_is_a_valuable_kept_as_long_as_one():
    registered = turned_in(contents=("cash", "card"), cash_amount=Decimal("230"), currency="CNY")[0]
    assert (registered.valuable, registered.contents, registered.cash_amount) == (True, ("cash", "card"), "230")
    assert registered.retain_until == DAY + dt.timedelta(days=90)


def test_a_bag_with_a_phone_inside_is_a_valuable_and_one_with_an_umbrella_is_not():
    assert turned_in(contents=("phone",))[0].valuable is True
    plain = turned_in(contents=("umbrella",))[0]
    assert (plain.valuable, plain.retain_until) == (False, DAY + dt.timedelta(days=30))


@pytest.mark.parametrize("contents", [("bag",), ("phone", "phone")])
def test_contents_name_other_things_each_once(contents):
    problem = refused(turn_in(contents=contents))
    assert (problem.code, problem.field) == ("bad_contents", "contents")


def test_a_valuable_by_its_contents_must_reach_the_custodian_like_any_valuable():
    """The state remembers it: the custody rules read ``valuable``."""
    state = fold(d, turned_in(contents=("phone",)))
    assert state.valuable is True and state.contents == ("phone",)


# -- contracts ------------------------------------------------------------------------------------
TURN_IN = {"desk": "main-gate", "item_name": "现金", "category": "cash", "description": "一叠百元钞",
           "found_place": "north gate", "found_at": "2026-05-01T09:10:00+08:00", "finder_name": "路人甲",
           "storage_place": "drawer 2"}


def test_the_request_takes_the_amount_as_a_decimal_string_and_an_iso_4217_currency():
    loaded = c.TurnInByVisitorRequest().load({**TURN_IN, "cash_amount": "520.50", "currency": "CNY",
                                               "quantity": 1, "contents": []})
    assert (loaded["cash_amount"], loaded["currency"]) == ("520.50", "CNY")


@pytest.mark.parametrize("changes, field", [
    ({"cash_amount": 520.5, "currency": "CNY"}, "cash_amount"),     # a JSON number: a float on the way
    ({"cash_amount": "5e2", "currency": "CNY"}, "cash_amount"),
    ({"cash_amount": "520", "currency": "RMB"}, "currency"),        # not an ISO 4217 code
    ({"quantity": 0}, "quantity"),
    ({"quantity": "2"}, "quantity"),
    ({"contents": ["gold bar"]}, "contents"),
])
def test_bad_particulars_are_refused_naming_the_field(changes, field):
    with pytest.raises(ValidationError) as raised:
        c.TurnInByVisitorRequest().load({**TURN_IN, **changes})
    assert field in raised.value.messages


def test_a_turn_in_stored_before_quantities_existed_reads_as_one_piece_with_nothing_declared(tmp_path):
    registered = turned_in()[0]
    data = contracts.registry.dump("FoundItemTurnedIn", dataclasses.asdict(registered))
    for key in ("quantity", "cash_amount", "currency", "condition", "contents"):
        del data[key]
    version, upcast = contracts.registry.upcast("FoundItemTurnedIn", 1, data)
    assert version == 2
    loaded = contracts.registry.load("FoundItemTurnedIn", 1, data)
    assert (loaded["quantity"], loaded["cash_amount"], loaded["contents"]) == (1, None, [])
    store = open_store(f"sqlite:///{tmp_path}/old.db")
    store.append("found_item-item-1", [NewEvent("FoundItemTurnedIn", data, format_time(T0), 1, {})], expected_version=0)
    codec = EventCodec(contracts.registry, d.EVENTS)
    event = codec.decode(next(store.read_all()))
    assert (event.quantity, event.contents, event.cash_amount) == (1, (), None)
    store.close()


# -- the forms --------------------------------------------------------------------------------------
@pytest.fixture
def log(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/events.db", validator=contracts.registry)
    codec = EventCodec(contracts.registry, d.EVENTS)

    def run(stream, command):
        return execute(store, codec, d, stream, command, occurred_at=command.at, metadata={})

    run(d.item_stream("v-bag"), turn_in(item_id="v-bag", contents=("cash", "card"), cash_amount=Decimal("230"),
                                        currency="CNY", quantity=1, condition="拉链坏了", found_at=at(-5)))
    run(d.item_stream("s-keys"), turn_in(item_id="s-keys", channel=d.DESK_STAFF, finder_kind="staff",
                                         finder_id="s-101", finder_name="李雷", finder_phone=None,
                                         finder_department="security", category="key", item_name="钥匙串",
                                         quantity=3, hidden_features=()))
    yield store
    store.close()


@pytest.fixture
def folds(log):
    return replay(log, contracts.registry, f.FOLDS)


def test_the_registration_part_of_3_3_shows_quantity_cash_condition_and_contents(folds):
    reg = folds.fold(f.FoundItemForms).form_of("v-bag")["registration"]
    assert {key: reg[key] for key in f.PARTICULARS} == {
        "quantity": 1, "cash_amount": "230", "currency": "CNY", "condition": "拉链坏了", "contents": ["cash", "card"]}
    assert reg["valuable"] is True


def test_the_receipt_3_9_shows_the_quantity(folds):
    assert folds.fold(f.FoundItemReceipts).receipt("s-keys")["quantity"] == 3


def test_the_item_card_3_10_shows_when_it_was_found_and_until_when_it_is_kept(folds):
    card = folds.fold(f.ItemInformationCards).card(item_id="v-bag")
    assert card["found_at"] == at(-5)                         # the time found, not the turn-in date
    assert card["turned_in_on"] == DAY
    assert card["retain_until"] == DAY + dt.timedelta(days=90)  # a valuable by its contents
    assert (card["quantity"], card["cash_amount"], card["currency"]) == (1, "230", "CNY")
    dumped = c.ItemInformationCard().dump({**card, "as_of_position": 2})
    assert dumped["found_at"].startswith("2026-04-30T21:00:00") and dumped["retain_until"] == "2026-07-30"


# -- corrections, voiding, transfers ----------------------------------------------------------------
def given(*events):
    return fold(d, events)


def correct(changes, **more) -> d.CorrectFoundItem:
    base = d.CorrectFoundItem("item-1", "corr-1", tuple(changes), "typed 包 for 钱包", "tl-3", d.TEAM_LEAD, at(1),
                              valuable_categories=VALUABLES, retention=RETENTION)
    return dataclasses.replace(base, **more)


def test_a_wrong_category_is_corrected_by_an_event_with_its_reason_and_the_item_becomes_a_valuable():
    state = given(*turned_in())
    corrected, = d.decide(correct([("category", "wallet"), ("item_name", "棕色钱包")]), state)
    assert corrected.corrected_fields == ("item_name", "category")
    assert (corrected.category, corrected.item_name, corrected.reason) == ("wallet", "棕色钱包", "typed 包 for 钱包")
    assert (corrected.valuable, corrected.retain_until) == (True, DAY + dt.timedelta(days=90))
    after = given(*turned_in(), corrected)
    assert (after.category, after.valuable, after.description) == ("wallet", True, "红色双肩包，拉链坏了")


def test_a_correction_that_changes_nothing_is_refused_naming_the_field():
    problem = refused(correct([("category", "bag")]), given(*turned_in()))
    assert (problem.code, problem.field) == ("nothing_to_correct", "category")
    assert refused(correct([]), given(*turned_in())).code == "nothing_to_correct"


def test_only_the_registrations_own_particulars_can_be_corrected():
    problem = refused(correct([("finder_name", "someone else")]), given(*turned_in()))
    assert (problem.code, problem.field) == ("not_correctable", "finder_name")


def test_a_clerk_cannot_correct_a_registration_only_a_team_lead_or_the_lead():
    assert refused(correct([("quantity", 2)], corrected_by_role=d.CLERK), given(*turned_in())).code == "not_allowed"
    assert d.decide(correct([("quantity", 2)], corrected_by_role=d.LEAD), given(*turned_in()))[0].quantity == 2


def test_a_correction_obeys_the_rules_of_a_registration():
    problem = refused(correct([("category", "cash")]), given(*turned_in()))
    assert (problem.code, problem.field) == ("amount_required", "cash_amount")
    fixed = d.decide(correct([("category", "cash"), ("cash_amount", Decimal("300")), ("currency", "CNY")]),
                     given(*turned_in()))[0]
    assert (fixed.cash_amount, fixed.currency, fixed.valuable) == ("300", "CNY", True)
    assert refused(correct([("found_at", at(2))]), given(*turned_in())).code == "found_after_turn_in"


def test_a_duplicate_registration_is_voided_and_then_refuses_every_desk_command():
    state = given(*turned_in(item_id="item-2"))
    voided, = d.decide(d.VoidFoundItem("item-2", "registered twice", "tl-3", d.TEAM_LEAD, at(1),
                                       d.ItemFacts("item-1", d.short_code("item-1"), d.HELD), "item-1"), state)
    assert (voided.duplicate_of, voided.reason) == ("item-1", "registered twice")
    after = given(*turned_in(item_id="item-2"), voided)
    assert after.status == d.VOIDED
    claim = d.ClaimItem("item-2", "claim-1", "v-1", d.UNREPORTED, "韩梅梅", "13800000000", "resident_id",
                        "110101199001011234", "c-017", d.CLERK, at(2), DAY, "key-1")
    assert refused(claim, after).code == "voided"
    assert refused(d.HandItemToFinance("item-2", "h-1", "k-1", at(days=100), DAY + dt.timedelta(days=100)),
                   after).code == "voided"
    assert refused(d.VoidFoundItem("item-2", "again", "tl-3", d.TEAM_LEAD, at(3)), after).code == "voided"


def test_a_void_names_an_existing_other_registration_or_none():
    state = given(*turned_in())
    missing = refused(d.VoidFoundItem("item-1", "dup", "tl-3", d.TEAM_LEAD, at(1), None, "item-9"), state)
    assert (missing.code, missing.field) == ("not_found", "duplicate_of")
    itself = refused(d.VoidFoundItem("item-1", "dup", "tl-3", d.TEAM_LEAD, at(1),
                                     d.ItemFacts("item-1", "LF-X", d.HELD), "item-1"), state)
    assert (itself.code, itself.field) == ("bad_duplicate", "duplicate_of")
    assert d.decide(d.VoidFoundItem("item-1", "typed by mistake", "l-1", d.LEAD, at(1)), state)[0].duplicate_of \
        is None


def test_a_claimed_item_is_not_voided():
    state = dataclasses.replace(given(*turned_in()), status=d.CLAIMED)
    assert refused(d.VoidFoundItem("item-1", "dup", "tl-3", d.TEAM_LEAD, at(1)), state).code == "already_claimed"


def test_an_item_sent_to_another_desk_is_in_transit_until_received_there_and_meanwhile_not_released():
    state = given(*turned_in())
    sent, = d.decide(d.SendItemToDesk("item-1", "south-gate", "the owner waits there", "c-017", at(1)), state)
    assert (sent.from_desk, sent.to_desk) == ("main-gate", "south-gate")
    moving = given(*turned_in(), sent)
    claim = d.ClaimItem("item-1", "claim-1", "v-1", d.UNREPORTED, "韩梅梅", "13800000000", "resident_id",
                        "110101199001011234", "c-017", d.CLERK, at(2), DAY, "key-1")
    assert refused(claim, moving).code in ("in_transit", "verification_required")
    assert refused(d.SendItemToDesk("item-1", "east", "x", "c-017", at(1.5)), moving).code == "in_transit"
    wrong = refused(d.ReceiveItemAtDesk("item-1", "east", "drawer 1", "c-020", at(2)), moving)
    assert (wrong.code, wrong.field) == ("wrong_desk", "desk")
    received, = d.decide(d.ReceiveItemAtDesk("item-1", "south-gate", "drawer 1", "c-020", at(2)), moving)
    there = given(*turned_in(), sent, received)
    assert (there.desk, there.storage_place, there.location) == ("south-gate", "drawer 1", d.AT_DESK)


def test_an_item_is_not_sent_to_its_own_desk_nor_from_the_custodians_keeping():
    state = given(*turned_in())
    assert refused(d.SendItemToDesk("item-1", "main-gate", "x", "c-017", at(1)), state).code == "same_desk"
    kept = dataclasses.replace(state, status=d.IN_CUSTODY)
    assert refused(d.SendItemToDesk("item-1", "east", "x", "c-017", at(1)), kept).code == "in_custody"


def test_an_on_site_item_arrives_at_the_desk_and_an_item_already_there_is_not_received_again():
    on_site = turned_in(channel=d.ON_SITE, finder_kind="staff", finder_id="s-101", finder_name="李雷",
                        finder_phone=None)
    assert given(*on_site).location == d.ON_SITE_LOCATION
    arrived, = d.decide(d.ReceiveItemAtDesk("item-1", "main-gate", "drawer 3", "c-017", at(1)), given(*on_site))
    assert arrived.from_desk is None
    assert given(*on_site, arrived).location == d.AT_DESK
    again = refused(d.ReceiveItemAtDesk("item-1", "main-gate", "drawer 3", "c-017", at(2)), given(*on_site, arrived))
    assert again.code == "not_expected"


def test_nothing_is_corrected_voided_or_moved_before_the_item_was_registered():
    problem = refused(correct([("quantity", 2)], at=at(-1)), given(*turned_in()))
    assert (problem.code, problem.field) == ("before_turn_in", "at")
    assert refused(correct([("quantity", 2)]), d.initial_state).code == "not_found"


def test_the_paper_events_round_trip_through_their_contracts(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/rt.db", validator=contracts.registry)
    codec = EventCodec(contracts.registry, d.EVENTS)
    state = given(*turned_in())
    events = [*d.decide(correct([("category", "cash"), ("cash_amount", Decimal("12.5")), ("currency", "CNY"),
                                 ("contents", ("card",)), ("condition", "wet")]), state),
              *d.decide(d.VoidFoundItem("item-1", "dup", "tl-3", d.TEAM_LEAD, at(1),
                                        d.ItemFacts("item-2", "LF-X", d.HELD), "item-2"), state),
              *d.decide(d.SendItemToDesk("item-1", "east", "x", "c-017", at(1)), state)]
    events += d.decide(d.ReceiveItemAtDesk("item-1", "east", "d", "c-1", at(2)), given(*turned_in(), events[-1]))
    events += EXTRA_EVENTS(state)
    assert set(d.PAPER_EVENTS) <= {type(event) for event in events}
    for number, event in enumerate(events):
        assert codec.decode(store.append(f"rt-{number}", [codec.encode(event, T0, {})], 0).events[0]) == event
    store.close()


def EXTRA_EVENTS(state):  # noqa: N802 - grows with each later part of the paper forms
    handover = d.FinanceHandover("h-1", "k-1", ("item-1",), transferred=True, signed_off=True, signed_by="f-1")
    verified_state = given(*verified_events())
    arranged = d.decide(courier(), verified_state)
    return [*d.decide(sign("registration_clerk", "c-017", image_ref=IMAGE), state),
            *d.decide(proxy(), verified_state), *arranged,
            *d.decide(d.RecordCourierDispatch("item-1", "ret-1", "顺丰速运", "SF1234567890", "c-017", at(3)),
                      given(*verified_events(), *arranged)),
            *d.decide(d.CaptureSignature("h-1", "handover_receiver", "f-1", "k-1", at(3)), handover),
            *DISPOSAL_RUN()]


@pytest.fixture
def amended(tmp_path):
    """A bag registered as an umbrella by mistake, corrected; a duplicate voided; a move between desks."""
    store = open_store(f"sqlite:///{tmp_path}/amended.db", validator=contracts.registry)
    codec = EventCodec(contracts.registry, d.EVENTS)

    def run(stream, command):
        return execute(store, codec, d, stream, command, occurred_at=command.at, metadata={})

    run(d.item_stream("v-1"), turn_in(item_id="v-1", category="umbrella", item_name="雨伞"))
    run(d.item_stream("v-1"), correct([("category", "bag"), ("item_name", "红色双肩包"), ("contents", ("phone",))],
                                      item_id="v-1"))
    run(d.item_stream("v-1"), d.SendItemToDesk("v-1", "south-gate", "the owner waits there", "c-017", at(2)))
    run(d.item_stream("v-1"), d.ReceiveItemAtDesk("v-1", "south-gate", "drawer 9", "c-020", at(2.5)))
    run(d.item_stream("v-2"), turn_in(item_id="v-2", at=at(0.1)))
    run(d.item_stream("v-2"), d.VoidFoundItem("v-2", "the same bag registered twice", "tl-3", d.TEAM_LEAD, at(3),
                                              d.ItemFacts("v-1", d.short_code("v-1"), d.HELD), "v-1"))
    yield store
    store.close()


def test_the_form_shows_the_corrected_value_and_a_trace_of_the_original(amended):
    form = replay(amended, contracts.registry, f.FOLDS).fold(f.FoundItemForms).form_of("v-1")
    reg = form["registration"]
    assert (reg["category"], reg["item_name"], reg["valuable"], reg["contents"]) == ("bag", "红色双肩包", True, ["phone"])
    correction, = form["corrections"]
    assert sorted((c_["field"], c_["was"], c_["now"]) for c_ in correction["changes"]) == [
        ("category", "umbrella", "bag"), ("contents", [], ["phone"]), ("item_name", "雨伞", "红色双肩包")]
    assert correction["reason"] == "typed 包 for 钱包"
    originals = [next(amended.read_all(after=p - 1, until=p)) for p in correction["positions"]]
    assert [r.type for r in originals] == ["FoundItemTurnedIn", "FoundItemCorrected"]
    assert originals[0].data["category"] == "umbrella"  # the original stays as it was
    assert [(m["kind"], m["from_desk"], m["to_desk"]) for m in form["movements"]] == [
        ("sent", "main-gate", "south-gate"), ("received", "main-gate", "south-gate")]
    c.FoundItemForm().dump({**form, "as_of_position": 6})  # the contract takes it


def test_a_voided_registration_shows_why_on_its_form_and_card(amended):
    folds = replay(amended, contracts.registry, f.FOLDS)
    form = folds.fold(f.FoundItemForms).form_of("v-2")
    assert (form["void"]["duplicate_of"], form["void"]["reason"]) == ("v-1", "the same bag registered twice")
    assert folds.fold(f.ItemInformationCards).card(item_id="v-2")["voided"] is True
    card = folds.fold(f.ItemInformationCards).card(item_id="v-1")
    assert (card["category"], card["desk"], card["storage_place"], card["voided"]) == \
        ("bag", "south-gate", "drawer 9", False)
    assert card["retain_until"] == DAY + dt.timedelta(days=90)  # a valuable now: kept as one


def test_the_shift_end_checklist_follows_a_correction_that_makes_an_item_a_valuable_and_drops_a_voided_one(amended):
    folds = replay(amended, contracts.registry, f.FOLDS)
    rows = folds.fold(f.ValuablesAwaitingCustody).awaiting(at(4), zone=CST)
    assert [(row["item_id"], row["category"], row["desk"]) for row in rows] == [("v-1", "bag", "south-gate")]


def test_the_case_index_matches_on_the_corrected_registration_and_forgets_a_voided_one(amended):
    from services.lost_and_found.case_index import CaseIndex
    index = replay(amended, contracts.registry, [CaseIndex]).fold(CaseIndex)
    assert index.open_items["v-1"]["category"] == "bag" and index.open_items["v-1"]["item_name"] == "红色双肩包"
    assert not index.unclaimed("v-2") and index.knows("item", "v-2")
    assert index.due_for_finance(DAY + dt.timedelta(days=200)) == ["v-1"]



# -- signatures --------------------------------------------------------------------------------------
IMAGE = "sha256:" + "ab" * 32


def sign(part, signer_id=None, **more) -> d.CaptureSignature:
    return dataclasses.replace(d.CaptureSignature("item-1", part, signer_id, "c-017", at(1)), **more)


def test_the_visitor_finder_signs_the_registration_on_the_desk_screen_and_the_clerk_with_their_login():
    state = given(*turned_in())
    finder, = d.decide(sign("registration_finder"), state)
    assert (finder.part, finder.signer_kind, finder.signer_id, finder.signed_at) == \
        ("registration_finder", "finder", None, at(1))
    clerk, = d.decide(sign("registration_clerk", "c-017"), given(*turned_in(), finder))
    assert (clerk.signer_kind, clerk.signer_id) == ("clerk", "c-017")


def test_a_staff_finder_is_named_as_the_signer_of_the_finders_part():
    state = given(*turned_in(channel=d.DESK_STAFF, finder_kind="staff", finder_id="s-101", finder_name="李雷"))
    assert d.decide(sign("registration_finder"), state)[0].signer_id == "s-101"


def test_only_the_clerk_who_registered_signs_the_clerks_part():
    problem = refused(sign("registration_clerk", "c-999"), given(*turned_in()))
    assert (problem.code, problem.field) == ("wrong_signer", "signer")


def test_a_part_is_signed_once_and_its_image_may_follow_once():
    first, = d.decide(sign("registration_finder"), given(*turned_in()))
    signed = given(*turned_in(), first)
    assert refused(sign("registration_finder"), signed).code == "already_signed"
    image, = d.decide(sign("registration_finder", image_ref=IMAGE), signed)
    assert image.image_ref == IMAGE
    assert refused(sign("registration_finder", image_ref=IMAGE), given(*turned_in(), first, image)).code == \
        "already_signed"


def test_the_claimant_signs_only_a_filled_in_claim_part_and_the_custodian_only_their_own_custody_line():
    state = given(*turned_in())
    assert refused(sign("claim_claimant"), state).code == "part_not_filled"
    assert refused(sign("custody_custodian", "k-1"), state).code == "part_not_filled"
    kept = dataclasses.replace(state, status=d.IN_CUSTODY, custodian_id="k-1", custody_handed_by="c-017")
    assert d.decide(sign("custody_custodian", "k-1"), kept)[0].signer_kind == "custodian"
    assert refused(sign("custody_custodian", "k-2"), kept).code == "wrong_signer"
    assert d.decide(sign("custody_handed_by", "c-017"), kept)[0].signer_id == "c-017"
    claimed = dataclasses.replace(state, status=d.CLAIMED)
    assert d.decide(sign("claim_claimant"), claimed)[0].signer_kind == "claimant"


def test_an_unknown_part_is_refused():
    assert refused(sign("back_of_the_card"), given(*turned_in())).code == "unknown_part"


def test_the_finance_receiver_signs_the_handover_list_after_signing_it_off_and_the_custodian_their_line():
    drawn = d.FinanceHandover("h-1", "k-1", ("item-1",), transferred=True)
    receiver = d.CaptureSignature("h-1", "handover_receiver", "f-1", "k-1", at(3))
    assert refused(receiver, drawn).code == "part_not_filled"
    signed_off = dataclasses.replace(drawn, signed_off=True, signed_by="f-1")
    assert d.decide(receiver, signed_off)[0].handover_id == "h-1"
    assert refused(dataclasses.replace(receiver, signer_id="f-2"), signed_off).code == "wrong_signer"
    custodian = d.decide(d.CaptureSignature("h-1", "handover_custodian", "k-1", "k-1", at(3)), drawn)[0]
    assert (custodian.signer_kind, custodian.item_id) == ("custodian", None)


def test_the_form_lists_its_signatures_with_who_and_when(amended):
    codec = EventCodec(contracts.registry, d.EVENTS)
    command = dataclasses.replace(sign("registration_finder"), document_id="v-1")
    execute(amended, codec, d, d.item_stream("v-1"), command, occurred_at=at(1), metadata={})
    form = replay(amended, contracts.registry, f.FOLDS).fold(f.FoundItemForms).form_of("v-1")
    signature, = form["signatures"]
    assert (signature["part"], signature["signer_kind"], signature["signed_at"]) == ("registration_finder", "finder",
                                                                                      at(1))
    assert [r.type for r in (next(amended.read_all(after=p - 1, until=p)) for p in signature["positions"])] == \
        ["SignatureCaptured"]


def test_a_signature_image_reference_is_personal_data():
    assert "image_ref" in contracts.registry.personal_fields("SignatureCaptured")
    with pytest.raises(ValidationError) as raised:
        c.CaptureSignatureRequest().load({"desk": "main-gate", "item_id": "x", "part": "registration_finder",
                                          "image_ref": "data:image/png;base64,AAAA"})
    assert "image_ref" in raised.value.messages



# -- proxy claims and courier returns ----------------------------------------------------------------
KEY = "claimant-key-1"


def verified_events(**changes):
    events = turned_in(**changes)
    return [*events, *d.decide(d.RecordClaimVerification("item-1", "v-1", "红色双肩包, a blue notebook inside",
                                                         ("inside",), True, d.OWNER, "c-017", d.CLERK, at(1),
                                                         claimant_key=KEY), given(*events))]


def claim_part(**changes) -> d.ClaimItem:
    base = d.ClaimItem("item-1", "claim-1", "v-1", d.UNREPORTED, "王导游", "13700000000", "resident_id",
                       "110101198001011234", "c-017", d.CLERK, at(2), DAY, KEY)
    return dataclasses.replace(base, **changes)


def proxy(**changes) -> d.ClaimByProxy:
    base = d.ClaimByProxy(claim_part(), "tour_guide", "春秋旅行社", "韩梅梅", "13800000000", "message",
                          "请把我的包交给王导游", at(1.5))
    return dataclasses.replace(base, **changes)


def courier(**changes) -> d.ArrangeCourierReturn:
    base = d.ArrangeCourierReturn(claim_part(claimant_name="韩梅梅"), "ret-1", "韩梅梅", "13800000000",
                                  "北京市东城区某街1号", "visitor", Decimal("23.00"), "CNY")
    return dataclasses.replace(base, **changes)


def test_a_tour_guide_claims_for_the_owner_with_the_owners_authorisation_recorded_beside_the_claim():
    claimed, authorised = d.decide(proxy(), given(*verified_events()))
    assert (claimed.claimant_name, claimed.claim_id) == ("王导游", "claim-1")   # the proxy fills in the claim part
    assert (authorised.owner_name, authorised.proxy_kind, authorised.organisation, authorised.authorisation_method) \
        == ("韩梅梅", "tour_guide", "春秋旅行社", "message")
    assert given(*verified_events(), claimed, authorised).status == d.CLAIMED


def test_a_proxy_claim_obeys_every_rule_of_a_claim():
    problem = refused(proxy(claim=claim_part(claimant_key="someone-else")), given(*verified_events()))
    assert problem.code == "verified_for_another_claimant"
    assert refused(proxy(), given(*turned_in())).code == "verification_required"


@pytest.mark.parametrize("changes, code, field", [
    ({"organisation": None}, "organisation_required", "organisation"),
    ({"claim": claim_part(claim_kind=d.ON_SPOT)}, "proxy_not_on_spot", "claim_kind"),
    ({"authorised_at": at(3)}, "authorised_after_claim", "authorised_at"),
])
def test_a_proxy_claim_names_the_agency_is_not_on_the_spot_and_is_authorised_before(changes, code, field):
    problem = refused(proxy(**changes), given(*verified_events()))
    assert (problem.code, problem.field) == (code, field)


def test_a_valuable_goes_to_a_proxy_only_on_a_written_or_messaged_authorisation():
    valuable = given(*verified_events(contents=("phone",)))
    problem = refused(proxy(authorisation_method="phone_call"), valuable)
    assert (problem.code, problem.field) == ("written_authorisation_required", "authorisation_method")
    assert len(d.decide(proxy(authorisation_method="written"), valuable)) == 2
    assert len(d.decide(proxy(authorisation_method="phone_call", proxy_kind="family", organisation=None),
                        given(*verified_events()))) == 2


def test_a_courier_return_is_a_remote_claim_with_the_address_and_who_pays():
    claimed, arranged = d.decide(courier(), given(*verified_events()))
    assert claimed.claimant_name == "韩梅梅"
    assert (arranged.address, arranged.fee_paid_by, arranged.fee_amount, arranged.fee_currency) == \
        ("北京市东城区某街1号", "visitor", "23.00", "CNY")
    state = given(*verified_events(), claimed, arranged)
    assert (state.status, state.courier_return_id) == (d.CLAIMED, "ret-1")
    dispatched, = d.decide(d.RecordCourierDispatch("item-1", "ret-1", "顺丰速运", "SF1234567890", "c-017", at(3)),
                           state)
    assert (dispatched.carrier, dispatched.tracking_number) == ("顺丰速运", "SF1234567890")
    gone = given(*verified_events(), claimed, arranged, dispatched)
    again = refused(d.RecordCourierDispatch("item-1", "ret-1", "顺丰速运", "SF1", "c-017", at(4)), gone)
    assert again.code == "already_dispatched"


def test_no_dispatch_without_its_courier_return():
    problem = refused(d.RecordCourierDispatch("item-1", "ret-9", "EMS", "EM123", "c-017", at(3)),
                      given(*verified_events()))
    assert (problem.code, problem.field) == ("no_courier_return", "return_id")


def test_a_courier_return_needs_the_verified_claimant_and_a_known_payer():
    assert refused(courier(claim=claim_part(claimant_key="x")), given(*verified_events())).code == \
        "verified_for_another_claimant"
    assert refused(courier(fee_paid_by="nobody"), given(*verified_events())).code == "unknown_fee_payer"
    assert refused(courier(fee_currency=None), given(*verified_events())).field == "fee_currency"
    assert refused(courier(claim=claim_part(claim_kind=d.ON_SPOT)), given(*verified_events())).code == \
        "courier_from_the_desk"


def test_the_owner_and_the_address_are_personal_data():
    assert contracts.registry.personal_fields("ClaimAuthorisedByOwner") == {"owner_name", "owner_phone",
                                                                            "authorisation_note"}
    assert contracts.registry.personal_fields("CourierReturnArranged") == {"recipient_name", "recipient_phone",
                                                                           "address"}


def test_the_claim_form_shows_the_proxy_and_the_courier(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/claims.db", validator=contracts.registry)
    codec = EventCodec(contracts.registry, d.EVENTS)
    for command in (turn_in(), d.RecordClaimVerification("item-1", "v-1", "红色双肩包", ("inside",), True, d.OWNER,
                                                         "c-017", d.CLERK, at(1), claimant_key=KEY),
                    courier(), d.RecordCourierDispatch("item-1", "ret-1", "顺丰速运", "SF1234567890", "c-017",
                                                       at(3))):
        execute(store, codec, d, d.item_stream("item-1"), command, occurred_at=command.at, metadata={})
    form = replay(store, contracts.registry, f.FOLDS).fold(f.FoundItemForms).form_of("item-1")
    assert (form["courier"]["tracking_number"], form["courier"]["fee_paid_by"]) == ("SF1234567890", "visitor")
    assert form["claim"]["claimant_name"] == "韩梅梅" and form["proxy"] is None
    c.FoundItemForm().dump({**form, "as_of_position": 5})
    store.close()


# -- the public notice list (招领公告) ------------------------------------------------------------------
def test_the_notice_list_shows_unclaimed_items_as_corrected_and_moved_and_not_a_voided_one(amended):
    rows = replay(amended, contracts.registry, f.FOLDS).fold(f.PublicNoticeList).notices(CST)
    assert rows == [{"short_code": d.short_code("v-1"), "item_name": "红色双肩包", "category": "bag", "quantity": 1,
                     "found_place": "north gate", "found_on": DAY, "desk": "south-gate",
                     "retain_until": DAY + dt.timedelta(days=90)}]


def test_the_notice_list_drops_a_claimed_item(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/notice.db", validator=contracts.registry)
    codec = EventCodec(contracts.registry, d.EVENTS)
    for command in (turn_in(), d.RecordClaimVerification("item-1", "v-1", "红色双肩包", ("inside",), True, d.OWNER,
                                                         "c-017", d.CLERK, at(1), claimant_key=KEY), claim_part()):
        execute(store, codec, d, d.item_stream("item-1"), command, occurred_at=command.at, metadata={})
    execute(store, codec, d, d.item_stream("item-2"), turn_in(item_id="item-2", item_name="黑伞", category="umbrella"),
            occurred_at=T0, metadata={})
    notices = replay(store, contracts.registry, f.FOLDS).fold(f.PublicNoticeList)
    assert [row["item_name"] for row in notices.notices(CST)] == ["黑伞"]
    assert notices.notices(CST, category="bag") == [] and notices.notices(CST, desk="east") == []
    store.close()


def test_the_notice_row_has_no_place_for_a_description_a_hidden_feature_a_finder_an_amount_or_custody():
    shown = set(c.PublicNoticeRow().fields)
    assert not shown & {"description", "hidden_features", "finder_name", "finder_phone", "cash_amount",
                        "storage_place", "custodian_id", "item_id", "registered_by"}
    assert not contracts.registry.rpcs[("forms", "public_notice_list")].roles  # open: a board has no login



# -- disposal routes ---------------------------------------------------------------------------------
LATE = DAY + dt.timedelta(days=120)


def line(route=d.POLICE, **changes) -> d.HandoverLine:
    return dataclasses.replace(d.HandoverLine("item-1", d.HELD, DAY + dt.timedelta(days=90), None, route), **changes)


def draw_disposal(route=d.POLICE, lines=None, receiver="景区派出所", **changes) -> d.DrawDisposalList:
    return dataclasses.replace(d.DrawDisposalList("dp-1", route, receiver, "k-1", tuple(lines or [line(route)]),
                                                  at(days=120), LATE), **changes)


def DISPOSAL_RUN():  # noqa: N802 - one police disposal through all its events
    drawn = d.decide(draw_disposal(), d.initial_state)
    disposed = d.decide(d.DisposeItem("item-1", "dp-1", d.POLICE, "k-1", at(days=120), LATE),
                        given(*turned_in(category="document", item_name="身份证")))
    recorded = d.decide(d.RecordDisposal("dp-1", ("item-1",), (), at(days=120)), given(*drawn))
    signed = d.decide(d.SignOffDisposal("dp-1", "k-1", at(days=120), "张警官", "警号 012345"),
                      given(*drawn, *recorded))
    return [*drawn, *disposed, *recorded, *signed]


def test_id_documents_are_listed_for_the_police_station_and_handed_over_there():
    drawn, = d.decide(draw_disposal(), d.initial_state)
    assert (drawn.route, drawn.receiver, drawn.item_ids) == (d.POLICE, "景区派出所", ("item-1",))
    state = given(*turned_in(category="document", item_name="身份证"))
    disposed, = d.decide(d.DisposeItem("item-1", "dp-1", d.POLICE, "k-1", at(days=120), LATE), state)
    after = given(*turned_in(category="document", item_name="身份证"), disposed)
    assert after.status == d.DISPOSED
    claim = claim_part()
    assert refused(claim, after).code == "disposed"


def test_an_item_of_another_route_is_not_drawn_for_this_one_nor_for_finance():
    problem = refused(draw_disposal(lines=[line(d.ISSUING_BANK)]))
    assert (problem.code, problem.field) == ("other_disposal_route", "item_ids")
    finance = d.DrawFinanceHandoverList("h-1", "2026-08", "k-1", (line(d.POLICE),), at(days=120), LATE)
    assert refused(finance).code == "other_disposal_route"


def test_a_disposal_list_obeys_the_retention_and_the_route_needs_its_receiver():
    early = refused(draw_disposal(business_date=DAY + dt.timedelta(days=90)))
    assert (early.code, early.field) == ("retention_not_over", "item_ids")
    assert refused(draw_disposal(receiver=None)).code == "receiver_required"
    assert refused(draw_disposal(route=d.FINANCE_ROUTE, lines=[line(d.FINANCE_ROUTE)])).code == "unknown_route"
    assert d.decide(draw_disposal(route=d.DESTROY, receiver="ignored"), d.initial_state)[0].receiver is None


def test_the_police_sign_with_a_name_and_a_badge_number_after_the_items_are_handed_over():
    drawn = d.decide(draw_disposal(), d.initial_state)
    sign_off = d.SignOffDisposal("dp-1", "k-1", at(days=120), "张警官", "警号 012345")
    assert refused(sign_off, given(*drawn)).code == "not_transferred"
    recorded = d.decide(d.RecordDisposal("dp-1", ("item-1",), (), at(days=120)), given(*drawn))
    assert refused(dataclasses.replace(sign_off, receiver_reference=None), given(*drawn, *recorded)).code == \
        "receiver_required"
    signed, = d.decide(sign_off, given(*drawn, *recorded))
    assert (signed.receiver_name, signed.receiver_reference, signed.witness_id) == ("张警官", "警号 012345", None)
    assert refused(sign_off, given(*drawn, *recorded, signed)).code == "already_signed_off"


def test_perishables_are_destroyed_only_before_a_staff_witness_other_than_the_custodian():
    drawn = d.decide(draw_disposal(route=d.DESTROY, lines=[line(d.DESTROY)], receiver=None), d.initial_state)
    recorded = d.decide(d.RecordDisposal("dp-1", ("item-1",), (), at(days=120)), given(*drawn))
    state = given(*drawn, *recorded)
    sign_off = d.SignOffDisposal("dp-1", "k-1", at(days=120))
    assert (refused(sign_off, state).code, refused(sign_off, state).field) == ("witness_required", "cosigner")
    assert refused(dataclasses.replace(sign_off, witness_id="k-1"), state).code == "witness_required"
    signed, = d.decide(dataclasses.replace(sign_off, witness_id="s-205", witness_name="张三"), state)
    assert (signed.route, signed.witness_id) == (d.DESTROY, "s-205")
    witness = d.CaptureSignature("dp-1", "disposal_witness", "s-205", "k-1", at(days=120))
    assert d.decide(witness, given(*drawn, *recorded, signed))[0].signer_kind == "witness"
    assert refused(dataclasses.replace(witness, signer_id="s-999"), given(*drawn, *recorded, signed)).code == \
        "wrong_signer"


def test_every_listed_item_is_disposed_of_or_withdrawn():
    drawn = d.decide(draw_disposal(), d.initial_state)
    assert refused(d.RecordDisposal("dp-1", (), (), at(days=120)), given(*drawn)).code == "incomplete_transfer"


def test_the_receivers_name_and_reference_are_personal_data():
    assert contracts.registry.personal_fields("DisposalSignedOff") == {"receiver_name", "receiver_reference"}


def test_the_disposal_list_and_the_item_form_show_the_route_the_lines_and_the_sign_off(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/disposal.db", validator=contracts.registry)
    codec = EventCodec(contracts.registry, d.EVENTS)

    def run(stream, command):
        return execute(store, codec, d, stream, command, occurred_at=command.at, metadata={})

    run(d.item_stream("item-1"), turn_in(category="document", item_name="身份证", contents=()))
    run(d.disposal_stream("dp-1"), draw_disposal())
    run(d.item_stream("item-1"), d.DisposeItem("item-1", "dp-1", d.POLICE, "k-1", at(days=120), LATE))
    run(d.disposal_stream("dp-1"), d.RecordDisposal("dp-1", ("item-1",), (), at(days=120)))
    run(d.disposal_stream("dp-1"), d.SignOffDisposal("dp-1", "k-1", at(days=120), "张警官", "警号 012345"))
    run(d.disposal_stream("dp-1"), d.CaptureSignature("dp-1", "disposal_receiver", None, "k-1", at(days=120)))
    folds = replay(store, contracts.registry, f.FOLDS)
    listed = folds.fold(f.DisposalLists).disposal("dp-1")
    assert (listed["route"], listed["receiver"], listed["receiver_name"]) == (d.POLICE, "景区派出所", "张警官")
    assert [(row["item_id"], row["state"], row["item_name"]) for row in listed["lines"]] == [
        ("item-1", "disposed", "身份证")]
    assert [s_["part"] for s_ in listed["signatures"]] == ["disposal_receiver"]
    c.DisposalList().dump({**listed, "as_of_position": 9})
    form = folds.fold(f.FoundItemForms).form_of("item-1")
    assert (form["disposal"]["route"], form["disposal"]["disposal_id"]) == (d.POLICE, "dp-1")
    assert folds.fold(f.PublicNoticeList).notices(CST) == []
    store.close()


# -- the remaining refusals, one each ------------------------------------------------------------------
def test_an_item_is_not_voided_as_a_duplicate_of_a_voided_one():
    problem = refused(d.VoidFoundItem("item-1", "dup", "tl-3", d.TEAM_LEAD, at(1),
                                      d.ItemFacts("item-2", "LF-X", d.VOIDED), "item-2"), given(*turned_in()))
    assert (problem.code, problem.field) == ("bad_duplicate", "duplicate_of")


def test_a_clerk_cannot_void_a_registration():
    assert refused(d.VoidFoundItem("item-1", "dup", "c-017", d.CLERK, at(1)), given(*turned_in())).code == \
        "not_allowed"


@pytest.mark.parametrize("changes, code, field", [
    ({"proxy_kind": "neighbour"}, "unknown_proxy_kind", "proxy_kind"),
    ({"authorisation_method": "telepathy"}, "unknown_authorisation", "authorisation_method"),
])
def test_a_proxy_and_an_authorisation_are_of_known_kinds(changes, code, field):
    problem = refused(proxy(**changes), given(*verified_events()))
    assert (problem.code, problem.field) == (code, field)


def test_cash_on_delivery_needs_a_fee_and_no_fee_is_negative():
    assert refused(courier(fee_paid_by="cash_on_delivery", fee_amount=Decimal("0")),
                   given(*verified_events())).code == "bad_amount"
    assert refused(courier(fee_amount=Decimal("-1")), given(*verified_events())).field == "fee_amount"
    free, = d.decide(courier(fee_paid_by="center", fee_amount=None, fee_currency=None), given(*verified_events()))[1:]
    assert (free.fee_paid_by, free.fee_amount) == ("center", None)


def test_an_item_does_not_leave_by_courier_before_its_return_was_arranged():
    arranged = d.decide(courier(), given(*verified_events()))
    problem = refused(d.RecordCourierDispatch("item-1", "ret-1", "EMS", "EM12345", "c-017", at(1.5)),
                      given(*verified_events(), *arranged))
    assert (problem.code, problem.field) == ("dispatch_before_arrangement", "at")


def test_a_disposal_id_is_drawn_once():
    drawn = d.decide(draw_disposal(), d.initial_state)
    assert refused(draw_disposal(), given(*drawn)).code == "disposal_exists"


def test_a_destruction_has_a_witness_part_and_no_receiver_part_and_the_police_the_other_way_round():
    destroyed = d.decide(draw_disposal(route=d.DESTROY, lines=[line(d.DESTROY)], receiver=None), d.initial_state)
    destroyed += d.decide(d.RecordDisposal("dp-1", ("item-1",), (), at(days=120)), given(*destroyed))
    destroyed += d.decide(d.SignOffDisposal("dp-1", "k-1", at(days=120), witness_id="s-205", witness_name="张三"),
                          given(*destroyed))
    receiver = d.CaptureSignature("dp-1", "disposal_receiver", None, "k-1", at(days=120))
    assert refused(receiver, given(*destroyed)).code == "part_not_filled"
    police = DISPOSAL_RUN()
    police_state = given(*(e for e in police if not isinstance(e, d.ItemDisposed)))
    witness = d.CaptureSignature("dp-1", "disposal_witness", "s-205", "k-1", at(days=120))
    assert refused(witness, police_state).code == "part_not_filled"
    assert d.decide(receiver, police_state)[0].signer_id is None
    custodian = d.CaptureSignature("dp-1", "disposal_custodian", "k-2", "k-1", at(days=120))
    assert refused(custodian, police_state).code == "wrong_signer"


def test_the_handover_custodians_line_is_signed_by_that_custodian_only():
    drawn = d.FinanceHandover("h-1", "k-1", ("item-1",))
    assert refused(d.CaptureSignature("h-1", "handover_custodian", "k-9", "k-9", at(3)), drawn).code == "wrong_signer"
    assert refused(d.CaptureSignature("h-1", "registration_clerk", "k-1", "k-1", at(3)), drawn).code == "unknown_part"


def test_nothing_is_signed_before_the_item_was_registered_nor_on_a_voided_one():
    assert refused(sign("registration_finder", at=at(-1)), given(*turned_in())).code == "before_turn_in"
    voided = dataclasses.replace(given(*turned_in()), status=d.VOIDED, voided_reason="dup")
    assert refused(sign("registration_finder"), voided).code == "voided"


def test_a_voided_item_is_neither_moved_nor_received():
    voided = dataclasses.replace(given(*turned_in()), status=d.VOIDED, voided_reason="dup")
    assert refused(d.SendItemToDesk("item-1", "east", "x", "c-017", at(1)), voided).code == "voided"
    assert refused(d.ReceiveItemAtDesk("item-1", "east", "d", "c-017", at(1)), voided).code == "voided"


def test_a_signature_on_a_form_that_does_not_exist_names_the_field_given():
    assert refused(sign("registration_finder"), d.initial_state).field == "item_id"
    missing = refused(d.CaptureSignature("h-9", "handover_receiver", "f-1", "k-1", at(3)), d.initial_state)
    assert (missing.code, missing.field) == ("not_found", "handover_id")



def test_the_leads_follow_up_lists_an_item_in_transit_until_received_and_a_courier_return_until_dispatched(
        amended, tmp_path):
    on_the_way = replay(amended, contracts.registry, f.FOLDS).fold(f.ItemsOnTheWay)
    assert [(row["kind"], row["to"]) for row in on_the_way.pending(at(2.2))] == [("to_desk", "south-gate")]
    assert on_the_way.pending(at(3)) == [] and on_the_way.pending(at(1)) == []
    store = open_store(f"sqlite:///{tmp_path}/courier.db", validator=contracts.registry)
    codec = EventCodec(contracts.registry, d.EVENTS)
    for command in (turn_in(), d.RecordClaimVerification("item-1", "v-1", "红色双肩包", ("inside",), True, d.OWNER,
                                                         "c-017", d.CLERK, at(1), claimant_key=KEY), courier(),
                    d.RecordCourierDispatch("item-1", "ret-1", "顺丰速运", "SF1234567890", "c-017", at(5))):
        execute(store, codec, d, d.item_stream("item-1"), command, occurred_at=command.at, metadata={})
    pending = replay(store, contracts.registry, f.FOLDS).fold(f.ItemsOnTheWay)
    row, = pending.pending(at(4))
    assert (row["kind"], row["to"], row["short_code"]) == ("by_courier", "ret-1", d.short_code("item-1"))
    assert pending.pending(at(6)) == []
    c.ItemsOnTheWay().dump({"as_of": at(4), "rows": [row], "as_of_position": 5})
    store.close()
