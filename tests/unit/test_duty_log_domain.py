"""Duty log decider: given past events, when a command, then events or a refusal."""
import datetime as dt

import pytest

from services.chassis.decider import Rejected, fold
from services.duty_log import domain

AT = dt.datetime(2026, 5, 1, 7, 28, tzinfo=dt.timezone(dt.timedelta(hours=8)))
DAY = dt.date(2026, 5, 1)


def given(*events):
    return fold(domain, events)


def test_a_clerk_who_has_not_signed_in_signs_in_for_the_duty_day():
    state = given()
    events = domain.decide(domain.SignInClerk("main-gate", DAY, "c-017", "王芳", AT), state)
    assert events == [domain.ClerkSignedIn("main-gate", DAY, "c-017", "王芳", AT)]


def test_a_clerk_cannot_sign_in_twice_for_the_same_duty_day():
    state = given(domain.ClerkSignedIn("main-gate", DAY, "c-017", "王芳", AT))
    with pytest.raises(Rejected) as refused:
        domain.decide(domain.SignInClerk("main-gate", DAY, "c-017", "王芳", AT), state)
    assert (refused.value.code, refused.value.field) == ("already_signed_in", "clerk_id")


def test_another_clerk_may_sign_in_after_a_colleague():
    state = given(domain.ClerkSignedIn("main-gate", DAY, "c-017", "王芳", AT))
    events = domain.decide(domain.SignInClerk("main-gate", DAY, "c-020", "李明", AT), state)
    assert [event.clerk_id for event in events] == ["c-020"]


def test_each_desk_and_day_is_its_own_stream():
    assert domain.stream_id("main-gate", DAY) == "duty_day-main-gate-2026-05-01"
    assert domain.stream_id("main-gate", DAY) != domain.stream_id("north-gate", DAY)
