"""Every RPC, through the real RabbitMQ, against payloads generated from its
own request contract with exactly one thing wrong: a structured
``validation_failed`` naming that field each time, no hang, and the store's
head unchanged.

The RPCs are those registered in ``contracts.registry.rpcs`` and the services
are started from ``services.catalogue``: an RPC registered tomorrow is covered
tomorrow (and a service missing from the catalogue fails this test loudly).

Each payload starts from a valid one (built from the fields' own validators:
lengths, choices, patterns, ranges), then one change that no contract may
accept: a control, surrogate or bidi character or a line break in a string,
a string too long, a wrong JSON type, null where null is not allowed, a time
or date out of bounds or in the future, a boolean or integer that is not one,
a bad item in a list or nested object, an unknown (long, odd) field name, or
a payload that is not an object at all.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from marshmallow import fields, validate
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

import contracts
from contracts import roles
from contracts.base import DayField, MomentField, MonthField, StrictBoolean, StrictInteger, safe_name
from services import catalogue
from services.chassis.errors import error_body
from services.chassis.principal import CONTEXT_KEY
from services.eventstore import open_store

pytestmark = [pytest.mark.rabbit, pytest.mark.slow]

EXAMPLES_PER_RPC = 30
CALL_TIMEOUT = 20  # seconds: an answer slower than this is a hang
UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC)

SAFE_CHARS = st.characters(categories=("Lu", "Ll", "Lo", "Nd"), max_codepoint=0x9FFF)
FORBIDDEN_CHARS = st.one_of(
    st.sampled_from(["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f",
                     "\u061c", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
                     "\u2066", "\u2067", "\u2068", "\u2069"]),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))
LINE_BREAKS = st.sampled_from(["\n", "\r", "\t", "\r\n"])
OFFSETS = st.sampled_from(["+08:00", "Z", "+00:00", "-05:00", "+14:00", "-12:00", "+05:30"])

BAD_MOMENTS = ["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00",
               "1999-12-31T23:59:59Z", "2100-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-05-01T08:00:00",
               "2026-05-01", "yesterday", "", "+002026-05-01T00:00:00Z"]
BAD_DAYS = ["0001-01-01", "9999-12-31", "1999-12-31", "2100-01-01", "2026-13-01", "2026-02-30", "today", "",
            "2026-05-01T00:00:00Z"]
BAD_MONTHS = ["0001-01", "1999-12", "2026-13", "2026-00", "2026-1", "2100-01", "", "2026-05-01"]
BAD_BOOLEANS = ["yes", "no", "true", "false", 1, 0, "1", [], {}]
BAD_INTEGERS = [1.5, "10", "1e1", True, False, [], {}, "ten"]
WRONG_TYPES = [12, 1.5, True, [], {}, ["x"], {"x": 1}]


# -- valid values from a field's own validators ---------------------------------------------
def _validators(field, kind):
    return [v for v in field.validators if isinstance(v, kind)]


def _length(field) -> tuple[int, int | None]:
    lengths = _validators(field, validate.Length)
    low = max([v.min for v in lengths if v.min is not None] or [0])
    high = min([v.max for v in lengths if v.max is not None] or [None], key=lambda n: n is None or n)
    return low, high


def _moment(seconds_ago: int, offset: str) -> str:
    moment = (NOW - dt.timedelta(seconds=seconds_ago)).replace(microsecond=0)
    hours = 0 if offset in ("Z", "+00:00") else int(offset[:3]) + (1 if offset[0] == "+" else -1) * int(
        offset[4:]) / 60
    local = moment.astimezone(dt.timezone(dt.timedelta(hours=hours))).isoformat()
    return local.replace("+00:00", "Z") if offset == "Z" else local


def valid(field) -> st.SearchStrategy:
    if isinstance(field, MomentField):
        return st.builds(_moment, st.integers(60, 30 * 86400), OFFSETS)
    if isinstance(field, DayField):
        return st.integers(0, 30).map(lambda days: (NOW.date() - dt.timedelta(days=days)).isoformat())
    if isinstance(field, MonthField):
        return st.just(NOW.strftime("%Y-%m"))
    if isinstance(field, StrictBoolean):
        return st.booleans()
    if isinstance(field, StrictInteger):
        ranges = _validators(field, validate.Range)
        low = max([r.min for r in ranges if r.min is not None] or [0])
        high = min([r.max for r in ranges if r.max is not None] or [1000])
        return st.integers(low, high)
    if isinstance(field, fields.Nested):
        return valid_payload(field.schema)
    if isinstance(field, fields.List):
        low, high = _length(field)
        return st.lists(valid(field.inner), min_size=low, max_size=min(high or 3, low + 3))
    if isinstance(field, fields.Tuple):
        return st.tuples(*(valid(inner) for inner in field.tuple_fields)).map(list)
    if isinstance(field, fields.String):
        choices = _validators(field, validate.OneOf)
        if choices:
            return st.sampled_from(list(choices[0].choices))
        patterns = _validators(field, validate.Regexp)
        if patterns:
            return st.from_regex(patterns[0].regex, fullmatch=True)
        low, high = _length(field)
        return st.text(SAFE_CHARS, min_size=max(low, 1), max_size=min(high or 20, max(low, 1) + 20))
    raise TypeError(f"no strategy for {type(field).__name__}: teach this test the new field type")


def _loadable(schema):
    return {field.data_key or name: field for name, field in schema.fields.items() if not field.dump_only}


@st.composite
def valid_payload(draw, schema) -> dict:
    payload = {}
    for name, field in _loadable(schema).items():
        if field.required or draw(st.booleans()):
            payload[name] = None if field.allow_none and draw(st.integers(0, 4)) == 0 else draw(valid(field))
    return payload


# -- one thing wrong ---------------------------------------------------------------------------------
def _with(text: str, chars: st.SearchStrategy) -> st.SearchStrategy:
    return st.tuples(st.integers(0, len(text)), chars).map(lambda pair: text[:pair[0]] + pair[1] + text[pair[0]:])


@st.composite
def bad(draw, field) -> tuple[object, str]:
    """A value no contract may accept for ``field`` and the path suffix of
    the field an error must name ("" for the field itself)."""
    options = [st.sampled_from(WRONG_TYPES if not isinstance(field, (fields.List, fields.Tuple))
                               else ["x", 5, {"x": 1}, True])]
    if not field.allow_none:
        options.append(st.just(None))
    if isinstance(field, MomentField):
        options += [st.sampled_from(BAD_MOMENTS),
                    st.builds(lambda s, o: _moment(-s, o), st.integers(600, 70 * 365 * 86400), OFFSETS)]
    elif isinstance(field, DayField):
        options += [st.sampled_from(BAD_DAYS),
                    st.integers(2, 20000).map(lambda d: (NOW.date() + dt.timedelta(days=d)).isoformat())]
    elif isinstance(field, MonthField):
        options += [st.sampled_from(BAD_MONTHS), st.integers(NOW.year + 1, 2099).map(lambda y: f"{y}-06")]
    elif isinstance(field, StrictBoolean):
        options = [st.sampled_from(BAD_BOOLEANS + ([None] if not field.allow_none else []))]
    elif isinstance(field, StrictInteger):
        options = [st.sampled_from(BAD_INTEGERS + ([None] if not field.allow_none else []))]
    elif isinstance(field, fields.String):
        text = draw(valid(field))
        options.append(_with(text, FORBIDDEN_CHARS))
        if not field.metadata.get("multiline"):
            options.append(_with(text, LINE_BREAKS))
        _, high = _length(field)
        if high is not None:
            options.append(st.integers(high + 1, high + 100).map(lambda n: "x" * n))
    elif isinstance(field, fields.List):
        items = draw(st.lists(valid(field.inner), min_size=1, max_size=3))
        index = draw(st.integers(0, len(items) - 1))
        value, suffix = draw(bad(field.inner))
        items[index] = value
        return items, f".{index}{suffix}"
    elif isinstance(field, fields.Nested):
        nested = draw(valid_payload(field.schema))
        return draw(mutated(field.schema, nested))[0], "."
    return draw(st.one_of(options)), ""


@st.composite
def mutated(draw, schema, payload: dict) -> tuple[dict, str]:
    """``payload`` with one field made bad, or one unknown field added; and
    the (safe) name an error must start with."""
    loadable = _loadable(schema)
    if not loadable or draw(st.integers(0, 5)) == 0:  # a contract with no fields takes only unknown ones
        key = draw(st.one_of(st.text(st.characters(codec=None), min_size=1, max_size=30),
                             _with("x" * draw(st.integers(100, 100_000)), FORBIDDEN_CHARS),
                             st.integers(65, 1000).map(lambda n: "k" * n))
                   .filter(lambda name: name not in loadable))
        return {**payload, key: draw(st.sampled_from([1, "x", None, [], {}]))}, safe_name(key)
    name = draw(st.sampled_from(sorted(loadable)))
    value, suffix = draw(bad(loadable[name]))
    return {**payload, name: value}, safe_name(name) + suffix


@st.composite
def bad_call(draw, schema):
    if draw(st.integers(0, 15)) == 0:
        return draw(st.sampled_from([[], ["x"], "payload", 7, True])), "_schema"
    return draw(mutated(schema, draw(valid_payload(schema))))


def names_it(fields_named: dict, expected: str) -> bool:
    if expected.endswith("."):  # somewhere inside a nested object
        return any(name.startswith(expected) for name in fields_named)
    return any(name == expected or name.startswith(expected + ".") for name in fields_named)


# -- the test -----------------------------------------------------------------------------------------------
@pytest.fixture
def every_service(runner_factory, service_config, token_for):
    """Every service, and a caller holding every role: the roles check comes
    first (tests/integration/test_roles.py), this test is about what follows."""
    runner_factory(service_config, *catalogue.serving(contracts.registry.rpcs)).start()
    everyone = {CONTEXT_KEY: token_for(*roles.ALL)}
    with ClusterRpcProxy(service_config, context_data=everyone, timeout=CALL_TIMEOUT) as cluster:
        seeded = cluster.duty_log.sign_in({"desk": "main-gate"})
        assert seeded["positions"] == [1]
        yield cluster


def test_every_rpc_answers_generated_bad_input_with_a_structured_error_naming_the_field(every_service,
                                                                                       service_config):
    store = open_store(service_config["EVENT_STORE_URI"])
    covered = []
    try:
        for (service, method), contract in sorted(contracts.registry.rpcs.items()):
            call = getattr(getattr(every_service, service), method)

            @settings(max_examples=EXAMPLES_PER_RPC, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
            @given(case=bad_call(contract.request()))
            def answers_with_a_structured_error(case):
                payload, expected = case
                note(f"{service}.{method} must name {expected!r}")
                head = store.head()
                with pytest.raises(RemoteError) as raised:
                    call(payload)
                body = error_body(raised.value)
                assert body["code"] == "validation_failed", body
                assert names_it(body["fields"], expected), (expected, body)
                assert len(json.dumps(body)) < 20_000
                assert store.head() == head

            answers_with_a_structured_error()
            covered.append(f"{service}.{method}")
    finally:
        store.close()
    assert len(covered) == len(contracts.registry.rpcs) >= 36
