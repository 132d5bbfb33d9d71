"""The duty log's decider and its sign-in sheet (签到表) in more detail:
given past events, when a command or an event, then what is recorded and
what the sheet shows."""
import datetime as dt
from types import SimpleNamespace

import pytest

from services.chassis.decider import Rejected, fold
from services.duty_log import domain
from services.duty_log.forms import FOLDS, SignInSheets

CST = dt.timezone(dt.timedelta(hours=8))
DAY = dt.date(2026, 5, 1)


def at(minute):
    return dt.datetime(2026, 5, 1, 7, minute, tzinfo=CST)


def given(*events):
    return fold(domain, events)


def signed_in(clerk="c-017", name="王芳", desk="main-gate", day=DAY, minute=28):
    return domain.ClerkSignedIn(desk, day, clerk, name, at(minute))


# -- the decider ---------------------------------------------------------------------------------
def test_the_sign_in_event_carries_desk_day_clerk_name_and_time_of_the_command():
    command = domain.SignInClerk("north-gate", dt.date(2026, 5, 2), "c-020", "李明", at(31))
    [event] = domain.decide(command, given())
    assert (event.desk, event.shift_date, event.clerk_id, event.clerk_name, event.signed_in_at) == (
        command.desk, command.shift_date, command.clerk_id, command.clerk_name, command.at)


def test_every_clerk_signed_in_is_remembered_not_only_the_last():
    state = given(signed_in("c-017"), signed_in("c-020", "李明"))
    assert state.signed_in == {"c-017", "c-020"}
    for clerk in ("c-017", "c-020"):
        with pytest.raises(Rejected) as refused:
            domain.decide(domain.SignInClerk("main-gate", DAY, clerk, "x", at(40)), state)
        assert (refused.value.code, refused.value.field) == ("already_signed_in", "clerk_id")
        assert clerk in refused.value.message
    assert domain.decide(domain.SignInClerk("main-gate", DAY, "c-031", "赵雷", at(40)), state)


def test_a_fresh_duty_day_has_nobody_signed_in():
    assert given().signed_in == frozenset()


def test_an_event_the_decider_does_not_know_leaves_the_day_alone():
    state = given(signed_in())
    assert domain.evolve(state, object()) is state


def test_a_command_the_decider_does_not_know_is_a_programming_error_naming_it():
    class CloseShift:
        pass

    with pytest.raises(TypeError, match="CloseShift"):
        domain.decide(CloseShift(), given())


# -- the sign-in sheet -------------------------------------------------------------------------------
def values(event) -> dict:
    return {"desk": event.desk, "shift_date": event.shift_date, "clerk_id": event.clerk_id,
            "clerk_name": event.clerk_name, "signed_in_at": event.signed_in_at}


def fold_sheet(*events_with_positions) -> SignInSheets:
    sheets = SignInSheets()
    for position, event in events_with_positions:
        sheets.apply(SimpleNamespace(position=position, type="ClerkSignedIn"), values(event))
    return sheets


def test_the_sheet_lists_who_signed_in_in_order_with_the_position_of_each_event():
    first, second = signed_in("c-017", "王芳", minute=28), signed_in("c-020", "李明", minute=31)
    sheets = fold_sheet((11, first), (12, second))
    assert sheets.sheet("main-gate", DAY) == [
        {"clerk_id": e.clerk_id, "clerk_name": e.clerk_name, "signed_in_at": e.signed_in_at, "position": p}
        for p, e in ((11, first), (12, second))]


def test_each_desk_and_day_has_its_own_sheet_and_an_unknown_one_is_empty():
    sheets = fold_sheet((1, signed_in(desk="main-gate")), (2, signed_in(desk="north-gate", clerk="c-020")),
                        (3, signed_in(day=dt.date(2026, 5, 2), clerk="c-031")))
    assert [row["clerk_id"] for row in sheets.sheet("main-gate", DAY)] == ["c-017"]
    assert [row["clerk_id"] for row in sheets.sheet("north-gate", DAY)] == ["c-020"]
    assert [row["clerk_id"] for row in sheets.sheet("main-gate", dt.date(2026, 5, 2))] == ["c-031"]
    assert sheets.sheet("south-gate", DAY) == []


def test_changing_a_sheet_that_was_read_does_not_change_the_fold():
    sheets = fold_sheet((1, signed_in()))
    read = sheets.sheet("main-gate", DAY)
    read.append({"clerk_id": "forged"})
    assert [row["clerk_id"] for row in sheets.sheet("main-gate", DAY)] == ["c-017"]


def test_the_sheet_fold_handles_the_sign_in_event_and_is_registered():
    assert SignInSheets in FOLDS
    assert SignInSheets.handles == {"ClerkSignedIn"}
    assert SignInSheets().sheets == {}
