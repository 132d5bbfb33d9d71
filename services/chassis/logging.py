"""One JSON object per line on stdout, for every record of a process: our
structlog calls and the stdlib records of nameko, kombu, eventlet and pika.

Both end in the same processors (:func:`_rendering`) and the same writer
(:func:`write_line`): structlog's records directly (no stdlib detour, which
would cost two LogRecords and a stack walk per line), the stdlib's through
:class:`JsonLinesHandler`. ``nameko run`` installs that handler from the
``LOGGING`` section of ``deploy/config.yaml``; :func:`configure` installs it
on the root logger of any other process (the relay, tests) that has none.

What reaches a line is bounded and safe to write:

- personal data never: we log ids, types, positions and counts, never
  payloads; and as a second line of defence :func:`redact_personal` blanks
  any key that a contract marks personal (names, phones, ID numbers);
- nameko's own record of an expected error (a refusal: our structured
  errors, whose text can hold client-supplied field names) becomes one INFO
  line with the call's ids and the error code, without traceback or text;
  an unexpected error keeps its traceback at ERROR, without the exception's
  text in the message;
- every string is cut at :data:`MAX_TEXT` characters (a traceback at
  :data:`MAX_TRACEBACK`, each of its lines at :data:`MAX_TEXT`), lone
  surrogates are written as JSON escapes, and a record that cannot be
  formatted still gives one line: no record breaks the handler.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import re
import sys
import threading

import structlog

MAX_TEXT = 1000
MAX_TRACEBACK = 16_000
MAX_ITEMS = 50

# the two records nameko.containers writes for a worker that raised
NAMEKO_EXPECTED = "(expected) error handling worker %s: %s"
NAMEKO_FAILED = "error handling worker %s: %s"

_configured = False
_SURROGATE = re.compile("[\ud800-\udfff]")
_NON_ASCII = re.compile("[^\x00-\x7f]")


@functools.cache
def _personal_keys() -> set[str]:
    """The last part of every field name a contract marks personal."""
    from contracts import registry  # at first use: contracts import this package's siblings
    from contracts.base import personal_fields
    names = set()
    for event_type in registry.events:
        names |= registry.personal_fields(event_type)
    for contract in registry.rpcs.values():
        names |= personal_fields(contract.request()) | personal_fields(contract.reply())
    return {name.rsplit(".", 1)[-1] for name in names} | {"phone", "id_number", "name"}


def redact_personal(_logger, _method, event_dict):
    keys = _personal_keys()
    for key in list(event_dict):
        if key in keys:
            event_dict[key] = "[personal]"
    return event_dict


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}...[{len(text) - limit} more characters]"


def bounded(value, limit: int = MAX_TEXT):
    """``value`` with every string cut at ``limit`` and every collection at
    :data:`MAX_ITEMS` items (nested ones too)."""
    if isinstance(value, str):
        return _cut(value, limit)
    if isinstance(value, dict):
        items = list(value.items())
        out = {_cut(str(key), 100): bounded(item, limit) for key, item in items[:MAX_ITEMS]}
        if len(items) > MAX_ITEMS:
            out["..."] = f"{len(items) - MAX_ITEMS} more items"
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        out = [bounded(item, limit) for item in items[:MAX_ITEMS]]
        if len(items) > MAX_ITEMS:
            out.append(f"...{len(items) - MAX_ITEMS} more items")
        return out
    return value


def _bounded_traceback(text: str) -> str:
    text = "\n".join(_cut(line, MAX_TEXT) for line in text.splitlines())
    if len(text) <= MAX_TRACEBACK:
        return text
    half = MAX_TRACEBACK // 2
    return f"{text[:half]}\n...[{len(text) - MAX_TRACEBACK} characters left out]...\n{text[-half:]}"


def bound_values(_logger, _method, event_dict):
    for key, value in list(event_dict.items()):
        if key in ("exception", "stack"):
            event_dict[key] = _bounded_traceback(str(value))
        else:
            event_dict[key] = bounded(value)
    return event_dict


def _record_fields(_logger, _method, event_dict):
    """Fields a stdlib record carries for us (see :func:`tame_nameko_record`)."""
    record = event_dict.get("_record")
    event_dict.update(getattr(record, "vsc_fields", None) or {})
    return event_dict


def dumps(obj, **kwargs) -> str:
    """JSON with non-ASCII text as is, but lone surrogates (which no UTF-8
    stream can write) as ``\\udXXX`` escapes: still valid JSON, and
    ``json.loads`` gives the same string back."""
    kwargs.pop("ensure_ascii", None)
    text = json.dumps(obj, ensure_ascii=False, **kwargs)
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _ascii_json(line: str) -> str:
    """The same JSON line in ASCII only (for a stream that is not UTF-8)."""
    def escape(match):
        code = ord(match.group())
        if code <= 0xFFFF:
            return f"\\u{code:04x}"
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return _NON_ASCII.sub(escape, line)


def tame_nameko_record(record: logging.LogRecord) -> logging.LogRecord:
    """nameko's record of a worker that raised, without client text: an
    expected error (a refusal) becomes an INFO ``worker.refused`` without
    traceback, an unexpected one an ERROR ``worker.failed`` keeping its
    traceback; both name the service, entrypoint, call id, error type and
    our error code. Any other record is returned as it is."""
    if (record.name != "nameko.containers" or record.msg not in (NAMEKO_EXPECTED, NAMEKO_FAILED)
            or not isinstance(record.args, tuple) or len(record.args) != 2):
        return record
    worker_ctx, exc = record.args
    entrypoint = getattr(worker_ctx, "entrypoint", None)
    body = getattr(exc, "body", None)
    fields = {
        "service": getattr(worker_ctx, "service_name", None),
        "entrypoint": getattr(entrypoint, "method_name", None),
        "call_id": getattr(worker_ctx, "call_id", None),
        "error": type(exc).__name__,
    }
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        fields["code"] = body["code"]
    tamed = logging.makeLogRecord(record.__dict__)
    tamed.args = ()
    tamed.vsc_fields = {key: value for key, value in fields.items() if value is not None}
    if record.msg == NAMEKO_EXPECTED:
        tamed.msg = "worker.refused"
        tamed.levelno, tamed.levelname = logging.INFO, "INFO"
        tamed.exc_info = tamed.exc_text = None
    else:
        tamed.msg = "worker.failed"
    return tamed


def _foreign_pre_chain():
    return [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _record_fields,
    ]


def _rendering():
    """The processors every record ends with, ours and the stdlib's alike."""
    return [
        redact_personal,
        structlog.processors.format_exc_info,
        bound_values,
        structlog.processors.JSONRenderer(serializer=dumps),
    ]


_write_lock = threading.Lock()


def write_line(stream, line: str) -> None:
    """Write one rendered line; in ASCII escapes if the stream cannot take
    the text as it is. Raises what the stream raises otherwise."""
    with _write_lock:
        try:
            stream.write(line + "\n")
        except UnicodeEncodeError:
            stream.write(_ascii_json(line) + "\n")
        stream.flush()


class LineLogger:
    """The logger under structlog: writes each rendered line to ``stream``
    (default: ``sys.stdout`` as it is at each call, so a test's capture sees
    it) and never raises, so a log call cannot fail a worker."""

    def __init__(self, stream=None):
        self._stream = stream

    def msg(self, line: str) -> None:
        try:
            write_line(self._stream if self._stream is not None else sys.stdout, line)
        except Exception:  # a closed or broken stdout: the line is lost, the call is not
            pass

    debug = info = warning = warn = error = err = critical = fatal = exception = failure = log = msg


class JsonFormatter(structlog.stdlib.ProcessorFormatter):
    """Renders a stdlib record with the processors structlog's own records
    go through (after :func:`_foreign_pre_chain`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("foreign_pre_chain", _foreign_pre_chain())
        kwargs.setdefault("processors", [structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                                         *_rendering()])
        super().__init__(*args, **kwargs)


class JsonLinesHandler(logging.Handler):
    """One JSON line per stdlib record on ``stream`` (default: ``sys.stdout``
    as it is at each record). Renders with :class:`JsonFormatter` unless
    given another formatter; tames nameko's worker records
    (:func:`tame_nameko_record`) before its level check."""

    def __init__(self, stream=None, level=logging.NOTSET):
        super().__init__(level)
        self._stream = stream
        self.setFormatter(JsonFormatter())

    @property
    def stream(self):
        return self._stream if self._stream is not None else sys.stdout

    def handle(self, record):
        record = tame_nameko_record(record)
        if record.levelno < self.level:
            return False
        return super().handle(record)

    def emit(self, record):
        try:
            try:
                line = self.format(record)
            except Exception:  # a record whose message cannot be rendered still gives a line
                when = dt.datetime.fromtimestamp(record.created, dt.timezone.utc)
                line = dumps({"event": "log.unrenderable", "logger": record.name,
                              "level": str(record.levelname).lower(), "msg": bounded(repr(record.msg)),
                              "timestamp": when.isoformat().replace("+00:00", "Z")})
            write_line(self.stream, line)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


def _level(level) -> int:
    if isinstance(level, int):
        return level
    return logging.getLevelNamesMapping().get(str(level).upper(), logging.INFO)


def configure(level: str = "INFO", stream=None) -> None:
    """structlog at ``level``, rendered by :func:`_rendering` onto ``stream``
    (default stdout); and a :class:`JsonLinesHandler` on the root logger for
    the stdlib records, unless it has one (``nameko run`` installs it from
    the config's ``LOGGING``)."""
    global _configured
    if _configured:
        return
    level_no = _level(level)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *_rendering(),
        ],
        logger_factory=lambda *_args: LineLogger(stream),
        wrapper_class=structlog.make_filtering_bound_logger(level_no),
        cache_logger_on_first_use=True,
    )
    root = logging.getLogger()
    if not any(isinstance(handler, JsonLinesHandler) for handler in root.handlers):
        root.addHandler(JsonLinesHandler(stream, level=level_no))
    _configured = True


def get_logger(**bound):
    configure()
    return structlog.get_logger().bind(**bound)
