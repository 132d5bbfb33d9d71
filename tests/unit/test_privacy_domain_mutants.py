"""Erasures as events (services/privacy/domain.py): given past events, when
an erasure is recorded, then the event it causes, once per subject."""
import datetime as dt

import pytest

from services.chassis.decider import fold
from services.privacy import domain

AT = dt.datetime(2026, 6, 1, 23, 30, tzinfo=dt.timezone.utc)


def given(*events):
    return fold(domain, events)


def erasure(subject="visitor-42", reason="retention ended", by_retention=True, at=AT):
    return domain.RecordErasure(subject, reason, by_retention, at)


def test_a_subject_not_yet_erased_gets_one_event_carrying_the_whole_command():
    command = erasure(reason="asked by the visitor", by_retention=False)
    events = domain.decide(command, given())
    assert events == [domain.PersonalDataErased(command.subject_id, command.reason, command.by_retention,
                                                command.at)]


@pytest.mark.parametrize("by_retention", [True, False])
def test_the_event_keeps_whether_retention_or_a_request_erased_the_data(by_retention):
    [event] = domain.decide(erasure(by_retention=by_retention), given())
    assert event.by_retention is by_retention


def test_after_the_event_the_subject_is_erased_and_recording_again_is_a_no_op():
    events = domain.decide(erasure(), given())
    state = given(*events)
    assert state.erased is True and state != domain.initial_state
    assert domain.decide(erasure(reason="again", at=AT + dt.timedelta(days=1)), state) == []


def test_a_fresh_stream_is_not_erased():
    assert given().erased is False
    assert domain.initial_state == domain.Subject()


def test_an_event_the_decider_does_not_know_leaves_the_state_alone():
    state = given(*domain.decide(erasure(), given()))
    assert domain.evolve(state, object()) is state
    assert domain.evolve(given(), "not an event") is domain.initial_state


def test_a_command_the_decider_does_not_know_is_a_programming_error_naming_it():
    class ForgetEverything:
        pass

    with pytest.raises(TypeError, match="ForgetEverything"):
        domain.decide(ForgetEverything(), given())


def test_each_subject_has_its_own_erasure_stream():
    assert domain.stream_id("visitor-42") == "privacy_erasure-visitor-42"
    assert domain.stream_id("visitor-42") != domain.stream_id("visitor-43")
    assert domain.EVENTS == (domain.PersonalDataErased,)
