"""The console's languages: catalogs compiled with Babel at start, Chinese by
default, English complete, times in the site's time zone."""
import datetime as dt
import os
import re
from zoneinfo import ZoneInfo

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from services.gateway.errors import MESSAGES, api_error, status_for
from services.gateway.i18n import TRANSLATIONS_DIR, Translator, choose_language, field_messages, load_translations

SHANGHAI = ZoneInfo("Asia/Shanghai")
GATEWAY = os.path.dirname(TRANSLATIONS_DIR)


def translator(language):
    return Translator(load_translations(), language, SHANGHAI)


def test_chinese_is_the_default_and_a_remembered_choice_wins():
    assert choose_language(None) == "zh"
    assert choose_language("fr") == "zh"
    assert choose_language("en") == "en"


def test_messages_in_both_languages():
    assert translator("zh").gettext("登录") == "登录"
    assert translator("en").gettext("登录") == "Log in"
    assert translator("en").gettext("您好，%(name)s", name="王芳") == "Hello, 王芳"
    assert translator("en").gettext("a message nobody translated") == "a message nobody translated"


def test_every_service_message_marked_for_the_desk_has_its_chinese():
    from services.gateway.service_messages import SERVICE_MESSAGES
    chinese = {message.id: message.string for message in _catalog("zh") if message.id}
    assert [message for message in SERVICE_MESSAGES if not chinese.get(message)] == []


def test_a_services_english_field_messages_read_in_chinese():
    fields = {"desk": ["Missing data for required field."], "at": ["must not be in the future"],
              "other": ["something new"]}
    assert field_messages(translator("zh"), fields) == {"desk": ["必填"], "at": ["不能晚于现在"],
                                                        "other": ["something new"]}
    assert field_messages(translator("en"), fields) == fields


def test_times_are_shown_in_the_site_time_zone():
    moment = "2026-05-01T00:30:00+00:00"
    assert translator("zh").moment(moment, "short") == "2026-05-01 08:30"
    assert translator("en").moment(dt.datetime(2026, 5, 1, 0, 30, tzinfo=dt.timezone.utc), "time") == "08:30"
    assert translator("en").day("2026-05-01") == "1 May 2026"
    assert translator("zh").day("2026-05-01") == "2026年5月1日"
    assert translator("zh").moment(None) == "" and translator("zh").moment("not a time") == "not a time"


def _catalog(language):
    with open(os.path.join(TRANSLATIONS_DIR, language, "LC_MESSAGES", "messages.po"), "rb") as handle:
        return read_po(handle)


def test_every_message_of_the_console_has_its_english_translation():
    """Extracted as ``make messages`` does (Python and Jinja templates): a
    new screen's messages must come with their English."""
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"**/templates/**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}}
    used = {message for _file, _line, message, _comments, _context in
            extract_from_dir(GATEWAY, method_map, options, keywords={"_": None, "gettext": None})
            if isinstance(message, str)}
    english = {message.id: message.string for message in _catalog("en") if message.id}
    # messages written in English (a service's, see service_messages.py) show as they are
    missing = sorted(message for message in used if not english.get(message) and re.search(r"[^\x00-\x7f]", message))
    assert len(used) > 40
    assert missing == []


def test_error_codes_have_statuses_and_messages():
    assert [status_for(code) for code in ("validation_failed", "unauthenticated", "forbidden", "not_found",
                                          "conflict", "rule_violated", "throttled", "unavailable",
                                          "internal_error")] == [400, 401, 403, 404, 409, 422, 429, 503, 502]
    assert status_for("something unknown") == 502
    status, body = api_error({"code": "validation_failed", "message": "invalid input: desk, at",
                              "fields": {"desk": ["required"], "at": ["bad"]}})
    assert status == 400 and body["error"]["field"] == "at" and set(body["error"]["fields"]) == {"at", "desk"}
    english = {message.id: message.string for message in _catalog("en") if message.id}
    assert all(english.get(message) for message in MESSAGES.values())


def test_a_refusal_reads_in_the_users_language():
    from services.gateway.screens import CallFailed
    rule = CallFailed(422, {"code": "rule_violated", "message": "clerk c-1 has already signed in for this duty day",
                            "reason": "already_signed_in"})
    assert rule.message(translator("zh")) == "您今天已在此服务台签到过了。"
    assert rule.message(translator("en")) == "You have already signed in at this desk today."
    invalid = CallFailed(400, {"code": "validation_failed", "message": "invalid input: desk",
                               "fields": {"desk": ["Missing data for required field."]}})
    assert invalid.message(translator("zh")) == "请检查标出的栏目。"  # the field says the rest, next to it
    assert invalid.field_errors(translator("zh")) == {"desk": ["必填"]}
    crash = CallFailed(502, {"code": "internal_error", "message": "unexpected error; it is logged under this call's id"})
    assert crash.message(translator("en")) == "The service failed; this is logged. Try again later."
    other = CallFailed(422, {"code": "rule_violated", "message": "item LF-ABCDEF is already with the custodian",
                             "reason": "already_in_custody"})
    assert other.message(translator("en")) == ("A business rule does not allow this. "
                                               "item LF-ABCDEF is already with the custodian")
