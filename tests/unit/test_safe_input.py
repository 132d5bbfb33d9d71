"""Inputs that cannot poison the log, without nameko: the contracts' strict
fields and safe text, the time bounds, what an error body echoes, the
business-time window and the guard for work done after an append."""
import datetime as dt
import json

import pytest
import structlog
from marshmallow import ValidationError, fields

import contracts
from contracts import duty_log as duty_log_contracts
from contracts import lost_and_found as c
from contracts.base import ContractSchema, EventSchema, Registry, StrictBoolean, presenting, safe_name
from contracts.common import Id, Integer, Moment, Multiline
from services.chassis.errors import ValidationFailed, translate
from services.chassis.service import SiteSettings, after_append, business_date, business_time
from services.eventstore import InvalidEvent

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime.now(dt.timezone.utc)
RECENT = (NOW - dt.timedelta(hours=2)).isoformat()
REPORT = {"desk": "main-gate", "item_name": "black phone", "category": "phone", "description": "black phone",
          "features": "blue case", "lost_place": "north gate", "lost_from": RECENT, "lost_until": RECENT,
          "visitor_name": "韩梅梅", "visitor_phone": "13800000000"}
STORED_REPORT = {"report_id": "r-1", "desk": "main-gate", "item_name": "phone", "category": "phone",
                 "description": "black", "features": "blue case", "lost_place": "north gate",
                 "lost_from": "2026-05-01T00:00:00+00:00", "lost_until": "2026-05-01T01:00:00+00:00",
                 "visitor_name": "韩梅梅", "visitor_phone": "13800000000", "received_by": "c-020",
                 "reported_at": "2026-05-01T02:00:00+00:00", "business_date": "2026-05-01"}


def problems(schema, payload) -> dict:
    with pytest.raises(ValidationError) as raised:
        schema().load(payload)
    return translate(raised.value).body["fields"]


# -- times and dates -----------------------------------------------------------------
@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+14:00",
                                  "9999-12-31T23:59:59-14:00", "1999-12-31T23:59:59+00:00"])
def test_given_a_time_outside_2000_to_2100_when_a_report_is_loaded_then_the_field_is_named(when):
    assert list(problems(c.ReportLostItemRequest, dict(REPORT, lost_from=when))) == ["lost_from"]


@pytest.mark.parametrize("when, message", [("2026-02-30T00:00:00+08:00", "Not a valid datetime."),
                                           ("2026-05-01T08:00:00", "Not a valid aware datetime."),
                                           ("yesterday", "Not a valid datetime.")])
def test_given_a_time_that_is_no_time_when_loaded_then_the_field_is_named(when, message):
    assert problems(c.ReportLostItemRequest, dict(REPORT, lost_until=when)) == {"lost_until": [message]}


def test_given_a_request_time_in_the_future_when_loaded_then_only_five_minutes_are_tolerated():
    now = dt.datetime.now(dt.timezone.utc)  # not NOW: the module may have been imported minutes ago
    soon = (now + dt.timedelta(minutes=2)).isoformat()
    later = (now + dt.timedelta(minutes=10)).isoformat()
    assert c.ReportLostItemRequest().load(dict(REPORT, at=soon))["at"] == dt.datetime.fromisoformat(soon)
    assert problems(c.ReportLostItemRequest, dict(REPORT, at=later)) == {"at": ["must not be in the future"]}
    assert problems(c.AsOfRequest, {"as_of": later}) == {"as_of": ["must not be in the future"]}


def test_given_an_event_whose_time_is_due_later_when_validated_then_only_the_absolute_bounds_apply():
    claimed = {"item_id": "i-1", "claim_id": "k-1", "verification_id": "v-1", "claim_kind": "on_spot",
               "report_id": None, "claim_form": "3.5", "claimant_name": "韩梅梅", "claimant_phone": "13800000000",
               "claimant_id_type": "resident_id", "claimant_id_number": "1101", "released_by": "tl-3",
               "released_by_role": "team_lead", "custodian_id": None,
               "on_spot_form_due": (NOW + dt.timedelta(hours=20)).isoformat(), "claimed_at": RECENT}
    contracts.registry.validate("FoundItemClaimed", 1, claimed)
    with pytest.raises(InvalidEvent) as raised:
        contracts.registry.validate("FoundItemClaimed", 1, dict(claimed, claimed_at="0001-01-01T00:00:00+14:00"))
    assert set(raised.value.problems) == {"data.claimed_at"}


def test_given_a_record_stored_before_the_bounds_when_read_then_it_still_loads():
    # a log written before these rules must replay: stored facts are read as stored
    poisoned = dict(STORED_REPORT, lost_from="0001-01-01T00:00:00+00:00", features="two\x00lines")
    values = contracts.registry.load("LostItemReported", 1, poisoned)
    assert values["lost_from"] == dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("day, message", [("0001-01-01", "must be between 2000-01-01 and 2100-01-01"),
                                          ((NOW + dt.timedelta(days=3)).date().isoformat(),
                                           "must not be in the future"),
                                          ("2026-13-01", "Not a valid date.")])
def test_given_a_date_out_of_bounds_when_loaded_then_the_field_is_named(day, message):
    assert problems(c.SummaryRequest, {"date": day}) == {"date": [message]}


@pytest.mark.parametrize("month", ["0001-01", "1999-12", "2026-13", "2099-12", "2026-1"])
def test_given_a_month_out_of_bounds_or_shape_when_loaded_then_the_field_is_named(month):
    assert list(problems(c.SummaryRequest, {"month": month})) == ["month"]


def test_given_a_moment_when_dumped_then_it_is_utc_for_the_store_and_the_site_zone_in_a_reply():
    moment = dt.datetime(2026, 5, 1, 7, 28, tzinfo=SHANGHAI)
    row = {"clerk_id": "c-017", "clerk_name": "王芳", "signed_in_at": moment, "position": 1}
    assert duty_log_contracts.SignInSheetRow().dump(row)["signed_in_at"] == "2026-04-30T23:28:00+00:00"
    event = contracts.registry.dump("ClerkSignedIn", {"desk": "d", "shift_date": dt.date(2026, 5, 1),
                                                      "clerk_id": "c", "clerk_name": "n", "signed_in_at": moment})
    assert event["signed_in_at"] == "2026-04-30T23:28:00+00:00"
    with presenting(SiteSettings.from_config({"TIMEZONE": "Asia/Shanghai"}).zone):
        assert duty_log_contracts.SignInSheetRow().dump(row)["signed_in_at"] == "2026-05-01T07:28:00+08:00"
        sheet = duty_log_contracts.SignInSheet().dump({"desk": "d", "shift_date": dt.date(2026, 5, 1),
                                                       "rows": [row], "as_of_position": 1})
        assert sheet["rows"][0]["signed_in_at"] == "2026-05-01T07:28:00+08:00"  # nested too
    with presenting(SiteSettings.from_config({"TIMEZONE": "America/New_York"}).zone):
        assert duty_log_contracts.SignInSheetRow().dump(row)["signed_in_at"] == "2026-04-30T19:28:00-04:00"


# -- booleans and integers ---------------------------------------------------------------
@pytest.mark.parametrize("value", ["yes", "true", 1, 0, "false", None])
def test_given_a_boolean_that_is_not_true_or_false_when_loaded_then_it_is_refused(value):
    payload = {"desk": "d", "item_id": "i", "claimant_description": "x", "decision": "owner",
               "claimant_id_number": "110101199001011234", "description_matched": value}
    assert list(problems(c.RecordClaimVerificationRequest, payload)) == ["description_matched"]


@pytest.mark.parametrize("value", [1.5, "10", True, "1e1", None])
def test_given_an_integer_that_is_not_a_json_integer_when_loaded_then_it_is_refused(value):
    assert list(problems(c.SuggestMatchesRequest, {"item_id": "i", "limit": value})) == ["limit"]


def test_given_a_contract_with_a_lax_field_when_registered_then_the_registry_refuses_it():
    registry = Registry()

    class Lax(ContractSchema):
        count = fields.Integer()
        flags = fields.List(fields.Boolean())
        when = fields.AwareDateTime()

    class Strict(ContractSchema):
        count = Integer()

    with pytest.raises(TypeError, match="count is Integer: use contracts.common.Integer") as raised:
        registry.rpc("svc", "m", Strict, Lax, roles=frozenset({"clerk"}))
    assert "flags is Boolean" in str(raised.value) and "when is AwareDateTime" in str(raised.value)

    class LaxEvent(EventSchema):
        event_type, source = "Lax", "svc"
        day = fields.Date()
    with pytest.raises(TypeError, match="day is Date: use contracts.common.Day"):
        registry.event(LaxEvent)
    assert registry.rpc("svc", "ok", Strict, Strict, roles=frozenset({"clerk"}))


# -- safe text ---------------------------------------------------------------------------
@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ud800", "\udfff", "\u202e", "\u2066",
                                  "\u200f", "\u061c"])
def test_given_a_control_surrogate_or_bidi_character_in_any_string_when_loaded_then_its_field_is_named(char):
    assert list(problems(c.ReportLostItemRequest, dict(REPORT, report_id=f"r{char}020"))) == ["report_id"]
    assert list(problems(c.ReportLostItemRequest, dict(REPORT, description=f"a{char}b"))) == ["description"]
    nested = {"label": "serial", "detail": f"SN{char}1"}
    turn_in = {"desk": "d", "item_name": "n", "category": "phone", "description": "d", "found_place": "p",
               "found_at": RECENT, "finder_name": "f", "storage_place": "s",
               "hidden_features": [{"label": "ok", "detail": "ok"}, nested]}
    assert list(problems(c.TurnInByVisitorRequest, turn_in)) == ["hidden_features.1.detail"]


def test_given_a_line_break_when_loaded_then_a_description_keeps_it_and_a_one_line_field_refuses_it():
    loaded = c.ReportLostItemRequest().load(dict(REPORT, description="black phone\nblue case\tcracked"))
    assert loaded["description"] == "black phone\nblue case\tcracked"
    assert problems(c.ReportLostItemRequest, dict(REPORT, lost_place="north\ngate")) == {
        "lost_place": ["must be one line (no tab or line break)"]}
    assert list(problems(c.HandOverToFinanceRequest, {"handover_id": "h", "month": "2026-05",
                                                      "item_ids": ["a", "b\tc"]})) == ["item_ids.1"]


def test_given_a_field_name_with_a_surrogate_when_loaded_then_the_name_is_escaped_in_the_error():
    assert problems(c.ItemRequest, {"item_id": "i", "bad\ud800name": 1}) == {
        "bad\\ud800name": ["field name must not contain U+D800 (control, surrogate or bidi character)"]}


def test_a_multiline_field_is_declared_so_in_its_contract():
    class Note(ContractSchema):
        text = Multiline()
        line = fields.String()
    assert Note().load({"text": "a\nb"}) == {"text": "a\nb"}
    with pytest.raises(ValidationError):
        Note().load({"line": "a\nb"})


# -- what an error body echoes -----------------------------------------------------------------
def test_given_a_100kb_field_name_when_refused_then_the_body_names_it_in_64_characters():
    huge = "x" * 100_000
    body = json.loads(str(translate(ValidationError({huge: ["Unknown field."]}))))
    assert body["fields"] == {"x" * 64 + "…": ["Unknown field."]}
    assert len(body["message"]) < 400


def test_given_many_bad_fields_when_refused_then_at_most_twenty_are_listed_and_the_body_encodes():
    messages = {f"field{n}\ud800" + "y" * 500: ["Unknown field."] for n in range(1000)}
    error = translate(ValidationError(messages))
    assert len(error.body["fields"]) == 21 and error.body["fields"]["_more"] == ["980 more fields not shown"]
    assert all(len(name) <= 64 + len("…") + 5 for name in error.body["fields"])
    text = str(error)
    text.encode("utf-8")  # no lone surrogate left: every log handler and broker can carry it
    assert len(text) < 8_000


def test_safe_name_escapes_controls_and_bidi_and_cuts_long_names():
    assert safe_name("a\x00b\u202ec\nd") == "a\\u0000b\\u202ec\\u000ad"
    assert safe_name("é中文" * 30) == ("é中文" * 30)[:64] + "…"


def test_given_an_event_field_refused_by_the_store_when_translated_then_the_request_field_is_named():
    with pytest.raises(InvalidEvent) as raised:
        contracts.registry.validate("LostItemReported", 1, dict(STORED_REPORT, lost_from="0001-01-01T00:00:00Z"))
    body = translate(raised.value).body
    assert (body["code"], list(body["fields"])) == ("validation_failed", ["lost_from"])
    assert "events[0]" not in body["message"]


# -- business times -------------------------------------------------------------------------------
WINDOW = dt.timedelta(days=366)


def test_given_a_business_time_within_the_window_when_checked_then_it_is_the_command_time():
    at = NOW - dt.timedelta(days=365)
    assert business_time(at, NOW, max_age=WINDOW) == at
    assert business_time(None, NOW, max_age=WINDOW) == NOW
    assert business_time(NOW + dt.timedelta(minutes=4), NOW, max_age=WINDOW) == NOW + dt.timedelta(minutes=4)


@pytest.mark.parametrize("offset, message", [(dt.timedelta(days=-367), "must not be more than 366 days in the past"),
                                             (dt.timedelta(minutes=6), "must not be in the future")])
def test_given_a_business_time_outside_the_window_when_checked_then_the_field_is_named(offset, message):
    with pytest.raises(ValidationFailed) as raised:
        business_time(NOW + offset, NOW, "lost_from", max_age=WINDOW)
    assert raised.value.body["fields"] == {"lost_from": [message]}


def test_given_a_business_date_when_checked_then_tomorrow_is_tolerated_and_older_than_the_window_refused():
    today = dt.date(2026, 12, 1)
    assert business_date(dt.date(2026, 12, 2), today, "shift_date", now=today, max_age=WINDOW) == dt.date(2026, 12, 2)
    assert business_date(None, today, "shift_date", now=today, max_age=WINDOW) == today
    for day in (dt.date(2026, 12, 3), dt.date(2025, 11, 29)):
        with pytest.raises(ValidationFailed) as raised:
            business_date(day, today, "shift_date", now=today, max_age=WINDOW)
        assert list(raised.value.body["fields"]) == ["shift_date"]


def test_the_site_settings_come_from_the_config_with_defaults():
    assert SiteSettings.from_config({}) == SiteSettings(SiteSettings.from_config({"TIMEZONE": "Asia/Shanghai"}).zone,
                                                        dt.timedelta(days=366))
    assert SiteSettings.from_config({"BUSINESS_TIME_MAX_AGE_DAYS": 30}).max_age == dt.timedelta(days=30)


# -- after the append ---------------------------------------------------------------------------------
def test_given_work_after_an_append_fails_when_guarded_then_the_fallback_comes_back_and_ids_are_logged():
    def suggestions():
        raise OverflowError("date value out of range: 韩梅梅")

    with structlog.testing.capture_logs() as logs:
        value, ok = after_append(structlog.get_logger(), "suggestions", suggestions, [], stream="lost_report-r-1",
                                 position=7)
    assert (value, ok) == ([], False)
    assert logs == [{"event": "after_append.failed", "log_level": "error", "step": "suggestions",
                     "error": "OverflowError", "where": logs[0]["where"], "stream": "lost_report-r-1",
                     "position": 7}]
    assert "test_safe_input.py:" in logs[0]["where"] and "韩梅梅" not in json.dumps(logs, ensure_ascii=False)
    assert after_append(structlog.get_logger(), "suggestions", lambda: [1], []) == ([1], True)


def test_a_reply_can_say_its_suggestions_were_unavailable():
    for reply in (c.TurnInReply, c.ReportLostItemReply):
        assert isinstance(reply().fields["suggestions_unavailable"], StrictBoolean)
        assert reply().fields["suggestions_unavailable"].required


def test_ids_refuse_what_the_store_cannot_encode():
    class WithId(ContractSchema):
        item_id = Id()
        at = Moment(load_default=None)
    assert WithId().load({"item_id": "phone-1"}) == {"item_id": "phone-1", "at": None}
    with pytest.raises(ValidationError) as raised:
        WithId().load({"item_id": "phone-\udc80"})
    assert list(raised.value.messages) == ["item_id"]
