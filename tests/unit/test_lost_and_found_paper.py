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
    reg = folds.fold(f.VisitorFoundItemForms).form_of("v-bag")["registration"]
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
