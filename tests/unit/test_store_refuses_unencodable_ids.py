"""Defence in depth: whatever a contract let through, the store itself refuses
a stream id or event id it cannot encode, on every backend, before writing."""
import pytest

from services.eventstore import InvalidEvent, NewEvent, open_store
from services.eventstore.interface import utc_now

DATA = {"desk": "main-gate", "shift_date": "2026-05-01", "clerk_id": "c-017", "clerk_name": "王芳",
        "signed_in_at": "2026-04-30T23:28:00+00:00"}


@pytest.fixture(params=["sqlite", "mongomock"])
def store(request, tmp_path):
    uri = f"sqlite:///{tmp_path}/events.db" if request.param == "sqlite" else "mongomock://localhost/vsc"
    with open_store(uri) as store:
        yield store


@pytest.mark.parametrize("stream_id", ["duty_day-\ud800", "duty_day-\x00-x", "\udfff"])
def test_given_a_stream_id_with_a_lone_surrogate_or_nul_when_appending_then_it_is_refused_by_name(store, stream_id):
    with pytest.raises(InvalidEvent) as raised:
        store.append(stream_id, [NewEvent("ClerkSignedIn", DATA, utc_now())], expected_version=0)
    assert raised.value.field == "stream_id"
    assert store.head().position == 0


@pytest.mark.parametrize("event_id", ["e-\ud83d", "e-\x00"])
def test_given_an_event_id_with_a_lone_surrogate_or_nul_when_appending_then_it_is_refused_by_name(store, event_id):
    events = [NewEvent("ClerkSignedIn", DATA, utc_now()), NewEvent("ClerkSignedIn", DATA, utc_now(),
                                                                    event_id=event_id)]
    with pytest.raises(InvalidEvent) as raised:
        store.append("duty_day-main-gate-2026-05-01", events, expected_version=0)
    assert raised.value.field == "events[1].event_id"
    assert store.head().position == 0


def test_given_ids_in_any_script_when_appending_then_they_are_stored(store):
    result = store.append("duty_day-游客中心-😀", [NewEvent("ClerkSignedIn", DATA, utc_now(), event_id="事件-1")],
                          expected_version=0)
    assert [(e.stream_id, e.event_id) for e in result.events] == [("duty_day-游客中心-😀", "事件-1")]
