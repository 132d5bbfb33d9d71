"""The fast loader gives exactly what ``registry.load`` gives, for every
registered event type, on generated valid data (hypothesis); what it cannot
compile is named, and what does not fit loads through marshmallow."""
from __future__ import annotations

import copy
import datetime as dt

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from marshmallow import EXCLUDE, INCLUDE, Schema, ValidationError, fields, post_load, pre_load, validate

import contracts
from contracts.base import EventSchema, Personal, Registry
from contracts.common import Id, Moment
from contracts.fastload import FastLoader, compile_schema, freeze
from contracts.personal import Sealed, map_leaves, schema_leaves, seal
from services.chassis.codec import SEALING, sealed, sealer
from services.eventstore.errors import InvalidEvent
from services.privacy.vault import is_token

#: event types the fast path may not compile (it loads them through
#: marshmallow): a new contract that lands here must be listed on purpose
EXPECTED_FALLBACKS: dict[str, str] = {}

# no surrogates, controls or format characters (bidi marks): contracts may refuse them on append
CHARACTERS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cf"))
TEXT = st.text(CHARACTERS, min_size=0, max_size=12)
ZONES = st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=8)), dt.timezone(dt.timedelta(hours=-5)),
                         dt.timezone(dt.timedelta(hours=5, minutes=30))])


def _moment_text(moment: dt.datetime, style: int) -> str:
    if style == 0:
        return moment.isoformat()
    if style == 1:  # the store's own shape
        return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.replace(microsecond=0).isoformat()


MOMENTS = st.builds(_moment_text, st.datetimes(dt.datetime(2000, 1, 2), dt.datetime(2099, 12, 30), timezones=ZONES),
                    st.integers(0, 2))


def _validators(field, kind):
    return [v for v in field.validators if isinstance(v, kind)]


def strategy(field: fields.Field):
    """Stored values a contract's field accepts: what its dump gives and
    some of the other forms marshmallow also loads."""
    if isinstance(field, fields.Nested):
        inner = schema_data(field.schema)
        return st.lists(inner, max_size=3) if field.many else inner
    if isinstance(field, fields.List):
        sizes = _validators(field, validate.Length)
        low = sizes[0].min or 0 if sizes else 0
        high = min(sizes[0].max or 4, 4) if sizes else 4
        return st.lists(strategy(field.inner), min_size=low, max_size=max(low, high))
    if isinstance(field, fields.Tuple):
        return st.tuples(*(strategy(inner) for inner in field.tuple_fields)).map(list)
    if isinstance(field, fields.Dict):
        keys = strategy(field.key_field) if field.key_field else TEXT
        values = strategy(field.value_field) if field.value_field else st.integers()
        return st.dictionaries(keys, values, max_size=3)
    if isinstance(field, fields.String):
        choices = _validators(field, validate.OneOf)
        if choices:
            return st.sampled_from(list(choices[0].choices))
        patterns = [v.regex for v in _validators(field, validate.Regexp)]
        if field.metadata.get("pattern"):  # a field that checks its own pattern (contracts.base.MonthField)
            patterns.append(field.metadata["pattern"])
        sizes = _validators(field, validate.Length)
        low = sizes[0].min or 0 if sizes else 0
        high = sizes[0].max if sizes and sizes[0].max is not None else 60
        if patterns:
            text = st.from_regex(patterns[0], fullmatch=True)
            return text.filter(lambda value: low <= len(value) <= high)
        alphabet = st.one_of(CHARACTERS, st.sampled_from("失物招领青岚山北门手机钱包"))
        return st.text(alphabet, min_size=low, max_size=min(high, low + 30))
    if isinstance(field, fields.Boolean):
        return st.one_of(st.booleans(), st.sampled_from([1, 0, "true", "false", "yes"]))
    if isinstance(field, fields.Integer):
        ranges = _validators(field, validate.Range)
        low = ranges[0].min if ranges else -(10 ** 6)
        high = ranges[0].max if ranges else 10 ** 6
        return st.one_of(st.integers(low, high), st.integers(low, high).map(str))
    if isinstance(field, fields.Float):
        return st.floats(allow_nan=False, allow_infinity=False)
    if isinstance(field, fields.AwareDateTime) or type(field) is fields.DateTime:
        return MOMENTS
    if isinstance(field, fields.Date):
        return st.dates(dt.date(2000, 1, 2), dt.date(2099, 12, 30)).map(dt.date.isoformat)
    if isinstance(field, fields.Time):
        return st.times().map(dt.time.isoformat)
    if type(field) is fields.Raw:
        return st.one_of(TEXT, st.integers(), st.lists(st.integers(), max_size=3))
    raise AssertionError(f"no test strategy for {type(field).__name__}: teach tests/unit/test_fast_loader.py "
                         "how valid stored values of this field look")


def schema_data(schema: Schema):
    """Dicts of stored data for ``schema``: required keys always, optional
    ones sometimes, nulls where allowed."""
    required, optional = {}, {}
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        values = strategy(field)
        if field.allow_none:
            values = st.one_of(st.none(), values)
        (required if field.required else optional)[key] = values
    return st.fixed_dictionaries(required, optional=optional)


def strictly_equal(a, b) -> bool:
    """Equal, and of the same types all the way down (an aware time with the same offset)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strictly_equal(a[key], b[key]) for key in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(strictly_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, (dt.datetime, dt.time)):
        return a == b and a.utcoffset() == b.utcoffset() and a.tzinfo == b.tzinfo
    return a == b


LOADER = FastLoader(contracts.registry)


def test_every_registered_event_type_compiles_or_is_an_expected_fallback():
    assert LOADER.compile_all() == EXPECTED_FALLBACKS


def valid_data(data, event_type: str) -> dict:
    """Stored data of ``event_type`` its contract accepts, as every appended event's is."""
    schema = contracts.registry.schema(event_type)
    stored = data.draw(schema_data(schema))
    assume(not schema.validate(stored))
    return stored


@pytest.mark.parametrize("event_type", sorted(contracts.registry.events))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_fast_load_equals_registry_load_for_valid_data(event_type, data):
    stored = valid_data(data, event_type)
    version = contracts.registry.current_version(event_type)
    expected = contracts.registry.load(event_type, version, stored)
    assert strictly_equal(LOADER.load(event_type, version, stored), expected)
    assert strictly_equal(LOADER.load_frozen(event_type, version, stored),
                          {key: freeze(value) for key, value in expected.items()})


def test_valid_stored_events_load_without_marshmallow():
    loader = FastLoader(contracts.registry)
    stored = {"desk": "north-gate", "shift_date": "2026-05-01", "clerk_id": "c-1", "clerk_name": "王芳",
              "signed_in_at": "2026-05-01T00:28:00.000000Z"}
    values = loader.load("ClerkSignedIn", 1, stored)
    assert values["shift_date"] == dt.date(2026, 5, 1)
    assert values["signed_in_at"] == dt.datetime(2026, 5, 1, 0, 28, tzinfo=dt.timezone.utc)
    assert loader.slow_loads == 0


def test_a_record_stored_with_text_new_input_may_not_hold_loads_as_stored_without_marshmallow():
    loader = FastLoader(contracts.registry)
    stored = {"desk": "north-gate", "shift_date": "2026-05-01", "clerk_id": "c-1", "clerk_name": "王\x00芳\u202e",
              "signed_in_at": "2026-05-01T00:28:00.000000Z"}
    assert loader.load("ClerkSignedIn", 1, stored) == contracts.registry.load("ClerkSignedIn", 1, stored)
    assert loader.load("ClerkSignedIn", 1, stored)["clerk_name"] == "王\x00芳\u202e" and loader.slow_loads == 0
    with pytest.raises(InvalidEvent):  # new input with it is refused
        contracts.registry.validate("ClerkSignedIn", 1, stored)


def test_data_that_does_not_fit_loads_through_marshmallow_and_gets_its_error():
    loader = FastLoader(contracts.registry)
    stored = {"desk": "north-gate", "shift_date": "2026-05-01", "clerk_id": "c-1", "clerk_name": "王芳",
              "signed_in_at": "2026-05-01T00:28:00.000000Z"}
    with pytest.raises(ValidationError) as unknown_key:
        loader.load("ClerkSignedIn", 1, {**stored, "extra": 1})
    assert "extra" in unknown_key.value.messages
    with pytest.raises(ValidationError) as missing:
        loader.load("ClerkSignedIn", 1, {key: value for key, value in stored.items() if key != "clerk_id"})
    assert "clerk_id" in missing.value.messages
    assert loader.slow_loads == 2


# -- a registry of our own: old versions, shapes no contract uses yet ------------------------------
class Part(Schema):
    class Meta:
        unknown = EXCLUDE

    label = fields.String(required=True)
    weight = fields.Float(load_default=1.0)


class Everything(Schema):
    """Every field kind the compiler knows, in one (non-contract) schema."""

    renamed = fields.String(data_key="given-name", required=True)
    kept_as = fields.String(attribute="stored_as", load_default="x")
    at = fields.AwareDateTime(format="iso", required=True)
    naive = fields.NaiveDateTime(load_default=None)
    clock = fields.Time(required=True)
    tags = fields.List(fields.List(fields.String()), load_default=list)
    parts = fields.List(fields.Nested(Part), required=True)
    main = fields.Nested(Part, allow_none=True, required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    anything = fields.Raw(required=True)
    pair = fields.Tuple((fields.Date(), fields.List(fields.Integer())), required=True)
    choice = fields.Method(deserialize="_upper", load_default=None)
    flag = fields.Boolean(truthy={"sí"}, falsy={"no"}, required=True)

    def _upper(self, value):
        return value.upper()

    @pre_load
    def legacy_name(self, data, **kwargs):
        if "name" in data:
            data = {**data, "given-name": data["name"]}
            del data["name"]
        return data

    @post_load
    def stamped(self, data, **kwargs):
        return {**data, "loaded": True}


EVERYTHING = {"given-name": "青岚", "at": "2026-10-01T09:30:00+08:00", "naive": "2026-10-01T09:30:00",
              "clock": "09:30:00", "tags": [["a", "b"], []], "parts": [{"label": "门票", "weight": 2.5, "noise": 1}],
              "main": None, "counts": {"a": 1}, "anything": [1, [2]], "pair": ["2026-10-01", [1, 2]],
              "choice": "ok", "flag": "sí"}


def test_every_kind_of_marshmallow_field_hooks_defaults_and_renames_compile_to_what_schema_load_gives():
    # any marshmallow schema, lax fields included (the registry refuses those in contracts)
    schema = Everything()
    compiled = compile_schema(schema)
    for stored in (EVERYTHING, {**{k: v for k, v in EVERYTHING.items() if k != "given-name"}, "name": "legacy"},
                   {k: v for k, v in EVERYTHING.items() if k not in ("tags", "naive", "choice")}):
        expected = schema.load(stored)
        assert strictly_equal(compiled.load(stored), expected)
        assert strictly_equal(compiled.load_frozen(stored), {key: freeze(value) for key, value in expected.items()})
    assert expected["loaded"] is True and expected["stored_as"] == "x" and expected["tags"] == []


class Renamed(EventSchema):
    event_type = "ItemRenamed"
    schema_version = 2
    source = "test"

    item_id = Id()
    name = fields.String(required=True)
    at = Moment(required=True)


def test_an_old_version_is_upcast_first_as_registry_load_does():
    registry = Registry()
    registry.event(Renamed)

    @registry.upcaster("ItemRenamed", 1)
    def v1_called_it_title(data):
        data["name"] = data.pop("title")
        return data

    loader = FastLoader(registry)
    old = {"item_id": "i-1", "title": "伞", "at": "2026-10-01T09:30:00+08:00"}
    assert strictly_equal(loader.load("ItemRenamed", 1, dict(old)), registry.load("ItemRenamed", 1, dict(old)))
    assert loader.load("ItemRenamed", 1, dict(old))["name"] == "伞" and loader.slow_loads == 0


def test_a_contract_the_compiler_cannot_express_is_named_and_loads_through_marshmallow():
    class Dotted(EventSchema):
        event_type = "DottedHappened"
        source = "test"
        where = fields.String(attribute="place.name", required=True)

    class Open(EventSchema):
        event_type = "OpenHappened"
        source = "test"

        class Meta:
            unknown = INCLUDE

        known = fields.String(required=True)

    registry = Registry()
    registry.event(Dotted)
    registry.event(Open)
    loader = FastLoader(registry)
    assert set(loader.compile_all()) == {"DottedHappened"}
    assert loader.load("DottedHappened", 1, {"where": "北门"}) == {"place": {"name": "北门"}}
    assert loader.load("OpenHappened", 1, {"known": "a", "more": [1]}) == registry.load(
        "OpenHappened", 1, {"known": "a", "more": [1]})


# -- sealing personal leaves on the read path ------------------------------------------------------
TOKENS = st.builds(lambda subject, body: f"pd1:{subject}:{body}", st.uuids(version=4).map(str),
                   st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", min_size=38,
                           max_size=60))
PERSONAL_TYPES = sorted(t for t in contracts.registry.events if schema_leaves(contracts.registry.events[t]))


def tokenised(draw, value):
    """Some of the strings in a loaded value replaced by tokens, as a Protector would store them."""
    if isinstance(value, str):
        return draw(TOKENS) if draw(st.booleans()) else value
    if isinstance(value, list):
        return [tokenised(draw, item) for item in value]
    if isinstance(value, tuple):
        return tuple(tokenised(draw, item) for item in value)
    if isinstance(value, dict):
        return {key: tokenised(draw, item) for key, item in value.items()}
    return value


@pytest.mark.parametrize("event_type", PERSONAL_TYPES)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_the_read_paths_sealer_equals_seal(event_type, data):
    stored = valid_data(data, event_type)
    values = tokenised(data.draw, LOADER.load(event_type, contracts.registry.current_version(event_type), stored))
    expected = sealed(contracts.registry, event_type, values)
    assert strictly_equal(sealer(contracts.registry, event_type)(copy.deepcopy(values)), expected)


SEALING_LOADER = FastLoader(contracts.registry, SEALING)


def test_every_contract_with_personal_leaves_is_sealed_by_its_compiled_loader():
    SEALING_LOADER.compile_all()
    assert [event_type for event_type in PERSONAL_TYPES
            if SEALING_LOADER.compiled(event_type).load_sealed is None] == []


@pytest.mark.parametrize("event_type", PERSONAL_TYPES)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_the_compiled_sealing_equals_seal_after_load(event_type, data):
    stored = valid_data(data, event_type)
    # some leaves stored as tokens, as a Protector stores them
    stored = map_leaves(stored, schema_leaves(contracts.registry.events[event_type]),
                        lambda leaf, value, where: data.draw(TOKENS) if data.draw(st.booleans()) else value)
    version = contracts.registry.current_version(event_type)
    expected = sealed(contracts.registry, event_type, contracts.registry.load(event_type, version, stored))
    assert strictly_equal(SEALING_LOADER.compiled(event_type).load_sealed(stored), expected)


TOKEN = "pd1:0b6f8a52-6d3c-4e2a-9f1e-2c5d7a9b3e41:" + "A" * 40


class Holder(Schema):
    name = Personal(kind="name", subject="visitor", required=True)


class Stamped(Holder):
    @post_load
    def stamped(self, data, **kwargs):
        return {**data, "stamped": True}


class Visit(Schema):
    visitor = Personal(kind="name", subject="visitor", required=True)
    phone = Personal(kind="phone", subject="visitor", allow_none=True, load_default=None)
    notes = fields.List(fields.Tuple((fields.String(), Personal(kind="hidden", subject="item"))), required=True)
    companion = fields.Nested(Holder, required=True)
    desk = fields.String(required=True)


def test_a_compiled_loader_seals_the_leaves_in_nested_schemas_lists_and_tuples_and_nothing_else():
    compiled = compile_schema(Visit(), SEALING, "VisitRecorded")
    stored = {"visitor": TOKEN, "notes": [["伞", TOKEN], ["包", "蓝色"]], "companion": {"name": TOKEN},
              "desk": TOKEN}
    values = compiled.load_sealed(stored)
    assert values == {"visitor": Sealed(TOKEN, "VisitRecorded.visitor"), "phone": None,
                      "notes": [("伞", Sealed(TOKEN, "VisitRecorded.notes.*.1")), ("包", "蓝色")],
                      "companion": {"name": Sealed(TOKEN, "VisitRecorded.companion.name")}, "desk": TOKEN}
    assert strictly_equal(values, seal("VisitRecorded", schema_leaves(Visit), Visit().load(stored), is_token))
    assert strictly_equal(compiled.load(stored), Visit().load(stored))  # the plain loader seals nothing


@pytest.mark.parametrize("nested", [fields.Nested(Holder, many=True, required=True),  # seal does not look in
                                    fields.Nested(Stamped, required=True)])           # a hook reshapes values
def test_leaves_the_compiler_would_not_seal_as_seal_does_leave_the_sealing_to_the_caller(nested):
    schema = Schema.from_dict({"visitor": Personal(kind="name", subject="visitor", required=True),
                               "group": nested})()
    compiled = compile_schema(schema, SEALING, "GroupRecorded")
    assert compiled.load_sealed is None and compiled.load is not None


def test_a_projector_reads_an_old_version_through_the_upcaster_and_the_compiled_loader():
    from types import SimpleNamespace

    from services.chassis.projection import Projector

    registry = Registry()
    registry.event(Renamed)

    @registry.upcaster("ItemRenamed", 1)
    def v1_called_it_title(data):
        data = dict(data)
        data["name"] = data.pop("title")
        return data

    old = {"item_id": "i-1", "title": "伞", "at": "2026-10-01T09:30:00+08:00"}
    new = {"item_id": "i-2", "name": "雨伞", "at": "2026-10-01T10:30:00+08:00"}
    records = [SimpleNamespace(position=1, type="ItemRenamed", schema_version=1, data=old),
               SimpleNamespace(position=2, type="ItemRenamed", schema_version=2, data=new)]
    store = SimpleNamespace(read_for_folds=lambda after, until=None: [r for r in records if r.position > after])

    class Names:
        name, handles = "names", frozenset({"ItemRenamed"})

        def __init__(self):
            self.seen = []

        def apply(self, record, values):
            self.seen.append(values)

    projector = Projector(store, registry, [Names()])
    slow = []
    projector.loader.load = lambda *args: slow.append(args) or FastLoader(registry).load(*args)
    assert projector.catch_up() == 2
    seen = projector.fold(Names).seen
    assert strictly_equal(seen[0], registry.load("ItemRenamed", 1, dict(old)))
    assert strictly_equal(seen[1], registry.load("ItemRenamed", 2, dict(new)))
    assert slow == []  # the old version too went through the route's compiled loader
