"""The chassis without nameko: codec, command execution, structured errors,
configuration and projections, over a real SQLite store."""
import datetime as dt
import json
import uuid

import pytest
from marshmallow import ValidationError

import contracts
from services.chassis.codec import EventCodec
from services.chassis.commands import execute
from services.chassis.config import load_config, pika_url, substitute
from services.chassis.decider import NotFound, Rejected
from services.chassis.errors import error_body, translate
from services.chassis.projection import Projector, replay
from services.duty_log import domain, forms
from services.eventstore import ConcurrencyError, InvalidEvent, open_store

AT = dt.datetime(2026, 5, 1, 7, 28, tzinfo=dt.timezone(dt.timedelta(hours=8)))
DAY = dt.date(2026, 5, 1)


@pytest.fixture
def store(event_store_uri):
    with open_store(event_store_uri, validator=contracts.registry) as store:
        yield store


@pytest.fixture
def codec():
    return EventCodec(contracts.registry, domain.EVENTS)


def sign_in(store, codec, clerk="c-017", command_id=None):
    command = domain.SignInClerk("main-gate", DAY, clerk, "王芳", AT)
    return execute(store, codec, domain, domain.stream_id("main-gate", DAY), command, occurred_at=AT,
                   metadata={"actor": clerk, "desk": "main-gate"}, command_id=command_id)


def test_an_event_survives_encoding_storing_and_decoding_unchanged_and_its_times_are_stored_in_utc(store, codec):
    result = sign_in(store, codec)
    stored = result.events[0]
    assert stored.data == {"desk": "main-gate", "shift_date": "2026-05-01", "clerk_id": "c-017",
                           "clerk_name": "王芳", "signed_in_at": "2026-04-30T23:28:00+00:00"}
    assert stored.metadata == {"actor": "c-017", "desk": "main-gate"}
    assert stored.occurred_at == "2026-04-30T23:28:00.000000Z"
    assert codec.decode(stored) == domain.ClerkSignedIn("main-gate", DAY, "c-017", "王芳", AT)


def test_a_codec_refuses_a_domain_event_without_a_contract():
    class Unregistered:
        pass
    with pytest.raises(InvalidEvent, match="unknown event type 'Unregistered'"):
        EventCodec(contracts.registry, [Unregistered])


def test_a_retried_command_returns_the_first_result_even_though_deciding_again_would_refuse(store, codec):
    command_id = str(uuid.uuid4())
    first = sign_in(store, codec, command_id=command_id)
    again = sign_in(store, codec, command_id=command_id)
    assert again.duplicate and again.events == first.events
    with pytest.raises(Rejected):
        sign_in(store, codec)
    assert store.head().position == 1


def test_a_command_is_decided_again_when_another_writer_appended_first(store, codec, monkeypatch):
    sign_in(store, codec, clerk="c-001")
    real_append, calls = store.append, []

    def append_after_a_rival(stream_id, events, expected_version, command_id=None):
        if not calls:  # a rival desk appends between our read and our append
            calls.append(1)
            sign_in(store, codec, clerk="c-002")
        return real_append(stream_id, events, expected_version, command_id)

    monkeypatch.setattr(store, "append", append_after_a_rival)
    result = sign_in(store, codec, clerk="c-003")
    assert result.version == 3
    assert [e.data["clerk_id"] for e in store.read_all()] == ["c-001", "c-002", "c-003"]


def test_structured_errors_name_the_fields_and_round_trip_as_json():
    error = translate(ValidationError({"desk": ["Shorter than minimum length 1."],
                                       "rows": {0: {"clerk_id": ["Missing data for required field."]}}}))
    body = json.loads(str(error))
    assert body["code"] == "validation_failed"
    assert body["fields"] == {"desk": ["Shorter than minimum length 1."],
                              "rows.0.clerk_id": ["Missing data for required field."]}

    class FakeRemoteError:  # what nameko raises at the caller
        exc_type, value = "ValidationFailed", str(error)
    assert error_body(FakeRemoteError()) == body


@pytest.mark.parametrize("exc, code", [
    (Rejected("already_claimed", "item is claimed", "item_id"), "rule_violated"),
    (NotFound("no found item F-1", "item_id"), "not_found"),
    (ConcurrencyError("s", 1, 2), "conflict"),
    (InvalidEvent("data.desk", "missing"), "validation_failed"),
])
def test_each_kind_of_failure_has_its_own_error_code(exc, code):
    assert translate(exc).body["code"] == code


def test_an_unknown_failure_is_not_disguised():
    assert translate(KeyError("x")) is None


def test_config_placeholders_take_the_environment_or_their_default(tmp_path):
    assert substitute("uri: ${STORE:sqlite:///x.db}", {}) == "uri: sqlite:///x.db"
    assert substitute("uri: ${STORE:sqlite:///x.db}", {"STORE": "mongodb://m/vsc"}) == "uri: mongodb://m/vsc"
    path = tmp_path / "c.yaml"
    path.write_text("EVENT_STORE_URI: ${EVENT_STORE_URI:sqlite:///var/x.db}\nTIMEZONE: Asia/Shanghai\n")
    config = load_config(str(path), {"AMQP_URI": "pyamqp://u:p@rabbit:5672/"})
    assert config["EVENT_STORE_URI"] == "sqlite:///var/x.db"
    assert config["AMQP_URI"] == "pyamqp://u:p@rabbit:5672/"
    assert pika_url(config["AMQP_URI"]) == "amqp://u:p@rabbit:5672/"
    with pytest.raises(KeyError, match="NEEDED"):
        substitute("${NEEDED}", {})


def test_a_projection_applies_each_event_once_and_replays_as_of_a_position(store, codec):
    for clerk in ("c-001", "c-002", "c-003"):
        sign_in(store, codec, clerk=clerk)
    projector = Projector(store, contracts.registry, [forms.SignInSheets()])
    assert projector.catch_up() == 3
    assert projector.catch_up() == 3  # nothing new: nothing applied twice
    sheet = projector.fold(forms.SignInSheets).sheet("main-gate", DAY)
    assert [(row["clerk_id"], row["position"]) for row in sheet] == [("c-001", 1), ("c-002", 2), ("c-003", 3)]

    as_of = replay(store, contracts.registry, [forms.SignInSheets], as_of_position=2)
    assert [row["clerk_id"] for row in as_of.fold(forms.SignInSheets).sheet("main-gate", DAY)] == ["c-001", "c-002"]
    recorded = store.head().recorded_at
    as_of_now = replay(store, contracts.registry, [forms.SignInSheets], as_of_time=recorded)
    assert as_of_now.position == 3


def test_a_log_line_never_carries_a_field_a_contract_marks_personal(capsys):
    from services.chassis.logging import get_logger
    get_logger(service="test").info("oops", claimant_name="王芳", phone="13800000000", clerk_id="c-017")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["claimant_name"] == line["phone"] == "[personal]"
    assert line["clerk_id"] == "c-017"
