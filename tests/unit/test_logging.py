"""The log pipeline (services/chassis/logging.py): every record one JSON
line, bounded, writable on any stream, and never the client's own text."""
import io
import json
import logging
import types

import pytest

from services.chassis import logging as vsc_logging
from services.chassis.dependencies import loggable_fields
from services.chassis.errors import ValidationFailed

CLIENT_FIELD = "x" * 100_000 + "\ud800"


@pytest.fixture
def lines():
    """A JsonLinesHandler on a strict UTF-8 stream, on the loggers the tests
    use; yields a function returning the lines written so far, parsed."""
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", write_through=True)
    handler = vsc_logging.JsonLinesHandler(stream)
    loggers = [logging.getLogger(name) for name in ("nameko.containers", "test.pipeline")]
    saved = [(logger.propagate, logger.level) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.DEBUG)

    def read():
        text = raw.getvalue().decode("utf-8")
        return [json.loads(line) for line in text.splitlines()], text

    yield read
    for logger, (propagate, level) in zip(loggers, saved):
        logger.removeHandler(handler)
        logger.propagate, logger.level = propagate, level


def worker_ctx(method="sign_in"):
    """What nameko's record carries as its first argument (a WorkerContext's
    attributes the pipeline reads)."""
    return types.SimpleNamespace(service_name="duty_log", call_id=f"duty_log.{method}.1",
                                 entrypoint=types.SimpleNamespace(method_name=method))


def refusal():
    return ValidationFailed(f"invalid input: {CLIENT_FIELD}", {CLIENT_FIELD: ["Unknown field."]})


def test_an_expected_refusal_logged_by_nameko_is_one_info_line_without_traceback_or_client_text(lines):
    try:
        raise refusal()
    except ValidationFailed as exc:  # as nameko.containers logs it
        logging.getLogger("nameko.containers").warning(
            "(expected) error handling worker %s: %s", worker_ctx(), exc, exc_info=True)
    parsed, text = lines()
    assert len(parsed) == 1
    line = parsed[0]
    assert (line["level"], line["event"], line["logger"]) == ("info", "worker.refused", "nameko.containers")
    assert (line["service"], line["entrypoint"], line["call_id"]) == ("duty_log", "sign_in", "duty_log.sign_in.1")
    assert (line["error"], line["code"]) == ("ValidationFailed", "validation_failed")
    assert "exception" not in line and "Traceback" not in text
    assert "xxxxxxxxxx" not in text and len(text) < 1000


def test_an_expected_refusal_is_below_a_warning_threshold():
    stream = io.StringIO()
    handler = vsc_logging.JsonLinesHandler(stream, level=logging.WARNING)
    record = logging.LogRecord("nameko.containers", logging.WARNING, __file__, 1,
                               "(expected) error handling worker %s: %s", (worker_ctx(), refusal()), None)
    handler.handle(record)
    assert stream.getvalue() == ""


def test_an_unexpected_failure_keeps_a_bounded_traceback_at_error_without_its_text_in_the_message(lines):
    try:
        {}[CLIENT_FIELD]
    except KeyError as exc:
        logging.getLogger("nameko.containers").exception("error handling worker %s: %s", worker_ctx(), exc)
    parsed, text = lines()
    assert len(parsed) == 1
    line = parsed[0]
    assert (line["level"], line["event"], line["error"]) == ("error", "worker.failed", "KeyError")
    assert "Traceback" in line["exception"] and "KeyError" in line["exception"]
    assert len(text) < vsc_logging.MAX_TRACEBACK + 2000


def test_a_lone_surrogate_and_a_100_kb_string_are_logged_bounded_and_the_handler_keeps_working(lines, capsys):
    log = logging.getLogger("test.pipeline")
    log.warning("field %s refused", CLIENT_FIELD)
    log.warning("the next record")
    parsed, text = lines()
    assert [line["event"][:5] for line in parsed] == ["field", "the n"]
    assert len(text) < 2 * vsc_logging.MAX_TEXT + 500
    assert parsed[0]["event"].startswith("field " + "x" * 100)
    assert "more characters" in parsed[0]["event"]
    assert capsys.readouterr().err == ""  # logging's handleError writes there


def test_a_surrogate_is_escaped_not_dropped():
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)
    handler = vsc_logging.JsonLinesHandler(stream)
    handler.handle(logging.LogRecord("test", logging.WARNING, __file__, 1, "id %s", ("a\ud800b",), None))
    written = stream.buffer.getvalue().decode("utf-8")
    assert "\\ud800" in written and json.loads(written)["event"] == "id a\ud800b"


def test_a_stream_that_is_not_utf_8_gets_ascii_json():
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="strict", write_through=True)
    handler = vsc_logging.JsonLinesHandler(stream)
    handler.handle(logging.LogRecord("test", logging.WARNING, __file__, 1, "desk %s 😀", ("游客服务中心",), None))
    assert json.loads(stream.buffer.getvalue().decode("ascii"))["event"] == "desk 游客服务中心 😀"


def test_a_record_whose_message_cannot_be_rendered_still_gives_one_line(capsys):
    stream = io.StringIO()
    handler = vsc_logging.JsonLinesHandler(stream)
    handler.handle(logging.LogRecord("kombu.test", logging.WARNING, __file__, 1, "two %s %s", ("one",), None))
    line = json.loads(stream.getvalue())
    assert (line["event"], line["logger"], line["level"]) == ("log.unrenderable", "kombu.test", "warning")
    assert capsys.readouterr().err == ""


def test_structlog_records_go_through_the_same_pipeline(capsys):
    vsc_logging.get_logger(service="test").info("call.done", stream_id="s-1", note="a\ud800" + "y" * 5000)
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (line["event"], line["level"], line["stream_id"]) == ("call.done", "info", "s-1")
    assert line["note"].startswith("a\ud800y") and len(line["note"]) < vsc_logging.MAX_TEXT + 100


def test_a_refusal_names_declared_fields_only_and_counts_the_clients_own():
    named, other = loggable_fields("duty_log", "sign_in", ["desk", "at", CLIENT_FIELD, "13800000000"])
    assert (named, other) == (["at", "desk"], 2)
