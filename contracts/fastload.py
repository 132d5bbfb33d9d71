"""Reading stored events back without marshmallow on the hot path.

An event's data was checked by its contract when it was appended
(``Registry.validate``); reading it back need not check it again. For each
event type a :class:`FastLoader` compiles, from the contract's own fields,
one Python function from stored JSON data to exactly the values
``registry.load`` gives: dates as ``datetime.date``, times as aware
``datetime`` (both by the ``fromisoformat`` marshmallow itself uses),
booleans and integers as they are, lists as new lists, tuples as tuples,
nested schemas as dicts, defaults for absent optional fields. Old schema
versions are upcast first, as ``registry.load`` does.

What it trusts and what it does not:

- Validators are not run (the data passed them on append). Anything that
  does not fit the compiled shape (a missing key, an unknown key, a value of
  another type, a hook that refuses) makes that one record load through
  marshmallow (``registry.load``), which gives its value or its error:
  ``slow_loads`` counts them.
- A field class is read like the marshmallow field it derives from
  (``String``, ``Boolean``, ``Integer``, ``Float``, ``Date``, ``DateTime`` and
  ``AwareDateTime`` in ISO format, ``Time``, ``List``, ``Tuple``, ``Dict``,
  ``Nested``, ``Raw``); a subclass is taken to give the same value for valid
  data (only adding checks, as strict fields do). Any other field, or one
  with its own ``deserialize`` or field-level hooks, is deserialized by the
  field itself. Schema ``pre_load``/``post_load`` hooks run as marshmallow
  runs them.
- A contract the compiler cannot express at all (``partial`` schemas, dotted
  ``attribute`` names) loads wholly through marshmallow and is named in
  ``fallbacks``. The property test (tests/unit/test_fast_loader.py) checks
  ``fast == registry.load`` on generated valid data for every registered
  event type and that ``fallbacks`` is exactly what it expects, so a new
  contract that breaks either assumption fails there, loudly.

``load_frozen`` gives what the codec hands to a domain event's constructor:
the same values with every list (however deep in lists) a tuple, as
``services.chassis.codec`` did with ``_freeze``.

``load_sealed`` (made when the loader is given a :class:`Sealing`) gives
the values with every personal leaf that holds a vault token as
:class:`~contracts.personal.Sealed`, what ``contracts.personal.seal`` makes
of ``load``'s values, without walking them again. The compiler seals the
leaves it meets on its way through the fields; when those are not exactly
the contract's leaves (``schema_leaves``: e.g. a leaf under a field with its
own ``deserialize``, a nested schema with ``post_load`` hooks or renamed
keys), ``load_sealed`` is None and the caller seals the loaded values itself.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable, NamedTuple

from marshmallow import EXCLUDE, INCLUDE, RAISE, fields
from marshmallow.decorators import POST_LOAD, PRE_LOAD

from contracts.personal import PERSONAL, STAR, Sealed, schema_leaves

ISO_FORMATS = (None, "iso", "iso8601")


class Unsupported(Exception):
    """The compiler cannot express this contract; it loads through marshmallow."""


def freeze(value):
    """Lists (and lists in lists) as tuples: the shape of frozen domain events."""
    if isinstance(value, list):
        return tuple(freeze(item) for item in value)
    return value


class Sealing(NamedTuple):
    """How a stored personal leaf is told to be a vault token: ``is_token``
    (``services.privacy.vault.is_token``), and the ``prefix`` every token
    starts with (checked first: a leaf in clear costs no pattern match)."""

    prefix: str
    is_token: Callable[[str], bool]


class _Compiler:
    """Python source for one schema's loader (and its nested schemas')."""

    def __init__(self, sealing: Sealing | None = None, event_type: str = ""):
        self.env: dict = {"_fdt": dt.datetime.fromisoformat, "_fdate": dt.date.fromisoformat,
                          "_ftime": dt.time.fromisoformat, "_freeze": freeze}
        if sealing is not None:
            self.env.update(_Sealed=Sealed, _is_token=sealing.is_token, _prefix=sealing.prefix)
        self.event_type = event_type
        self.sealed: set[tuple] = set()  # the leaf paths sealed by the code made so far
        self.defs: list[str] = []
        self._schemas: dict[tuple, str] = {}
        self._n = 0

    def _name(self, prefix: str, value=None) -> str:
        self._n += 1
        name = f"{prefix}{self._n}"
        if value is not None:
            self.env[name] = value
        return name

    # -- schemas ---------------------------------------------------------------------
    def schema(self, schema, unknown=None, frozen: bool = False, leaf: tuple | None = None) -> str:
        """The name of a function ``(data) -> values`` for ``schema``; with
        ``leaf`` (the schema's path among personal leaves: ``()`` for the
        event), one that seals the personal leaves it holds."""
        unknown = unknown or schema.unknown
        if schema._hooks[POST_LOAD]:
            leaf = None  # a hook may reshape the values: they are sealed after it, by the caller
        key = (id(schema), unknown, frozen, leaf)
        if key in self._schemas:
            return self._schemas[key]
        if schema.partial:
            raise Unsupported(f"{type(schema).__name__} is partial")
        if unknown not in (RAISE, EXCLUDE, INCLUDE):
            raise Unsupported(f"unknown={unknown!r}")
        fn = self._name("_load")
        self._schemas[key] = fn
        s = self._name("_schema", schema)
        body = ["    if d.__class__ is not dict: raise TypeError"]
        pre, post = schema._hooks[PRE_LOAD], schema._hooks[POST_LOAD]
        if pre:
            body.append("    o = d")
            body += [f"    d = {call}" for call in self._hooks(schema, s, PRE_LOAD, "d", unknown)]
            body.append("    if d.__class__ is not dict: raise TypeError")
        required, optional, known = [], [], []
        for attr_name, field in schema.load_fields.items():
            key_in = field.data_key if field.data_key is not None else attr_name
            key_out = field.attribute or attr_name
            if "." in key_out:
                raise Unsupported(f"field {attr_name} has a dotted attribute {key_out!r}")
            known.append(key_in)
            # seal's path names the stored key, and it looks that key up in the loaded values
            path = leaf + (field.data_key or attr_name,) if leaf is not None and key_out == (
                field.data_key or attr_name) else None
            (required if field.required else optional).append((key_in, key_out, field, path))
        literal = ", ".join(f"{key_out!r}: {self.value(field, f'd[{key_in!r}]', frozen, key_in, path)}"
                            for key_in, key_out, field, path in required)
        body.append(f"    r = {{{literal}}}")
        for key_in, key_out, field, path in optional:
            value = self.value(field, f"d[{key_in!r}]", frozen, key_in, path)
            default = field.load_default
            if default is fields.missing_:
                body.append(f"    if {key_in!r} in d: r[{key_out!r}] = {value}")
            else:
                make = f"{self._name('_default', default)}()" if callable(default) \
                    else self._name("_default", _Boxed(default)) + ".value"
                if frozen:
                    make = f"_freeze({make})"
                if self._is_leaf(field, path):
                    make = self._seal(make, path)
                body.append(f"    r[{key_out!r}] = {value} if {key_in!r} in d else {make}")
        if unknown == RAISE:
            present = " + ".join([str(len(required))] + [f"({k!r} in d)" for k, _, _, _ in optional])
            body.append(f"    if len(d) != {present}: raise KeyError")
        elif unknown == INCLUDE:
            names = self._name("_known", frozenset(known))
            extra = "_freeze(d[k])" if frozen else "d[k]"
            body.append(f"    for k in d.keys() - {names}: r[k] = {extra}")
        if post:
            body += [f"    r = {call}" for call in self._hooks(schema, s, POST_LOAD, "r", unknown, "o" if pre else "d")]
        body.append("    return r")
        self.defs.append(f"def {fn}(d):\n" + "\n".join(body))
        return fn

    @staticmethod
    def _hooks(schema, s: str, tag: str, data: str, unknown, original: str = "o") -> list[str]:
        """Calls of a schema's load hooks on one object, in marshmallow's
        order (the collection hooks first), as ``Schema._invoke_processors``
        makes them."""
        calls = []
        for pass_collection in (True, False):
            for attr_name, hook_many, kwargs in schema._hooks[tag]:
                if hook_many != pass_collection:
                    continue
                args = f"{data}, {original}" if kwargs.get("pass_original", False) else data
                calls.append(f"{s}.{attr_name}({args}, many=False, partial={s}.partial, unknown={unknown!r})")
        return calls

    # -- values ----------------------------------------------------------------------
    def value(self, field, src: str, frozen: bool, attr: str | None = None, leaf: tuple | None = None) -> str:
        """An expression for the loaded value of ``src`` (code that reads the
        stored value); ``leaf``: its path among personal leaves, None when
        nothing in it is to be sealed."""
        if type(field).deserialize is not fields.Field.deserialize or field.pre_load or field.post_load:
            own = self._name("_field", field.deserialize)  # the field's own, checks and all
            expr = f"{own}({src}, {attr!r}, d)" if attr is not None else f"{own}({src})"
            expr = f"_freeze({expr})" if frozen else expr
        else:
            expr = self._typed(field, src, frozen, attr, leaf)
            if field.allow_none and expr != src:
                expr = f"(None if {src} is None else {expr})"
        return self._seal(expr, leaf) if self._is_leaf(field, leaf) else expr

    @staticmethod
    def _is_leaf(field, leaf: tuple | None) -> bool:
        return leaf is not None and isinstance(field, fields.String) and bool(field.metadata.get(PERSONAL))

    def _seal(self, expr: str, leaf: tuple) -> str:
        """``expr`` as ``seal`` leaves it: a token as Sealed, anything else as it is."""
        self.sealed.add(leaf)
        name = self._name("_leaf", f"{self.event_type}.{'.'.join(str(step) for step in leaf)}")
        v = self._name("v")
        return (f"(_Sealed({v}, {name}) if isinstance({v} := {expr}, str) and {v}.startswith(_prefix) "
                f"and _is_token({v}) else {v})")

    def _own(self, field, src: str, attr: str | None) -> str:
        own = self._name("_field", field._deserialize)
        return f"{own}({src}, {attr!r}, d)" if attr is not None else f"{own}({src}, None, None)"

    def _typed(self, field, src: str, frozen: bool, attr: str | None, leaf: tuple | None = None) -> str:
        if isinstance(field, fields.Nested):
            if isinstance(field, fields.Pluck):
                return self._generic(field, src, frozen, attr)
            # seal does not look into the items of a many-nested field
            fn = self.schema(field.schema, field.unknown, leaf=None if field.many else leaf)
            if field.many:
                var = self._name("n")
                return f"{'tuple(' if frozen else ''}[{fn}({var}) for {var} in {src}]{')' if frozen else ''}"
            return f"{fn}({src})"
        if isinstance(field, fields.List):
            var = self._name("x")
            inner = self.value(field.inner, var, frozen, None, None if leaf is None else leaf + (STAR,))
            if inner == var:
                return f"{'tuple' if frozen else 'list'}({src})"
            return f"{'tuple(' if frozen else ''}[{inner} for {var} in {src}]{')' if frozen else ''}"
        if isinstance(field, fields.Tuple):
            names = [self._name("t") for _ in field.tuple_fields]
            parts = [self.value(inner, name, False, None, None if leaf is None else leaf + (index,))
                     for index, (inner, name) in enumerate(zip(field.tuple_fields, names))]
            fn = self._name("_tuple")
            self.defs.append(f"def {fn}(v):\n    {', '.join(names)}, = v\n    return ({', '.join(parts)},)")
            return f"{fn}({src})"
        if isinstance(field, fields.Dict) and field.mapping_type is dict:
            if field.key_field is None and field.value_field is None:
                return f"dict({src})"
            k, v = self._name("k"), self._name("v")
            key = self.value(field.key_field, k, False, None) if field.key_field is not None else k
            value = self.value(field.value_field, v, False, None) if field.value_field is not None else v
            return f"{{{key}: {value} for {k}, {v} in {src}.items()}}"
        if isinstance(field, fields.String):
            return src
        if isinstance(field, fields.Boolean):
            return f"(True if {src} is True else False if {src} is False else {self._own(field, src, attr)})"
        if isinstance(field, fields.Integer):
            return f"({src} if {src}.__class__ is int else {self._own(field, src, attr)})"
        if isinstance(field, fields.Float):
            return f"({src} if {src}.__class__ is float else {self._own(field, src, attr)})"
        if isinstance(field, fields.NaiveDateTime):
            return self._generic(field, src, frozen, attr)
        if isinstance(field, fields.AwareDateTime):
            if field.format in ISO_FORMATS and field.default_timezone is None:
                return f"_fdt({src})"
            return self._generic(field, src, frozen, attr)
        if isinstance(field, fields.DateTime):
            return f"_fdt({src})" if field.format in ISO_FORMATS else self._generic(field, src, frozen, attr)
        if isinstance(field, fields.Date):
            return f"_fdate({src})" if field.format in ISO_FORMATS else self._generic(field, src, frozen, attr)
        if isinstance(field, fields.Time):
            return f"_ftime({src})" if field.format in ISO_FORMATS else self._generic(field, src, frozen, attr)
        if type(field) is fields.Raw:
            return f"_freeze({src})" if frozen else src
        return self._generic(field, src, frozen, attr)

    def _generic(self, field, src: str, frozen: bool, attr: str | None) -> str:
        expr = self._own(field, src, attr)
        return f"_freeze({expr})" if frozen else expr


class _Boxed(NamedTuple):
    value: object


class Compiled(NamedTuple):
    version: int
    load: Callable[[dict], dict]
    load_frozen: Callable[[dict], dict]
    source: str
    load_sealed: Callable[[dict], dict] | None = None  # see the module


def compile_schema(schema, sealing: Sealing | None = None, event_type: str = "") -> Compiled:
    """Loaders for one event schema (raises :class:`Unsupported`); with
    ``sealing``, also ``load_sealed`` for the event type ``event_type``."""
    compiler = _Compiler(sealing, event_type)
    plain = compiler.schema(schema)
    frozen = compiler.schema(schema, frozen=True)
    sealed = None
    if sealing is not None:
        leaves = {leaf.path for leaf in schema_leaves(type(schema))}
        sealed = compiler.schema(schema, leaf=()) if leaves else plain
        if compiler.sealed != leaves:
            sealed = None
    source = "\n\n".join(compiler.defs)
    exec(compile(source, f"<fastload {type(schema).__name__}>", "exec"), compiler.env)  # noqa: S102
    return Compiled(getattr(schema, "schema_version", 1), compiler.env[plain], compiler.env[frozen], source,
                    compiler.env[sealed] if sealed is not None else None)


def reading_schema(registry, event_type: str):
    """The schema ``registry.load`` reads stored records with: a lenient
    reader when the registry keeps one, else the event's contract."""
    readers = getattr(registry, "_readers", None)  # contracts.base may keep lenient readers apart
    if readers and event_type in readers:
        return readers[event_type]
    return registry.schema(event_type)


class FastLoader:
    """``registry.load`` and the codec's frozen values at log speed (see the module)."""

    def __init__(self, registry, sealing: Sealing | None = None):
        self.registry = registry
        self.sealing = sealing  # None: no load_sealed
        self._compiled: dict[str, Compiled] = {}
        self.fallbacks: dict[str, str] = {}   # event type -> why it loads through marshmallow
        self.slow_loads = 0

    def compiled(self, event_type: str) -> Compiled:
        entry = self._compiled.get(event_type)
        if entry is None:
            schema = reading_schema(self.registry, event_type)
            try:
                entry = compile_schema(schema, self.sealing, event_type)
            except Unsupported as why:
                self.fallbacks[event_type] = str(why)
                entry = Compiled(schema.schema_version, schema.load,
                                 lambda data, load=schema.load: {k: freeze(v) for k, v in load(data).items()},
                                 "")
            self._compiled[event_type] = entry
        return entry

    def compile_all(self) -> dict[str, str]:
        """Compile every registered event type now; returns ``fallbacks``."""
        for event_type in self.registry.events:
            self.compiled(event_type)
        return dict(self.fallbacks)

    def load(self, event_type: str, schema_version: int, data: dict) -> dict:
        """What ``registry.load(event_type, schema_version, data)`` returns."""
        entry = self._compiled.get(event_type) or self.compiled(event_type)
        if schema_version != entry.version:
            schema_version, data = self.registry.upcast(event_type, schema_version, data)
        try:
            return entry.load(data)
        except Exception:
            self.slow_loads += 1
            return self.registry.load(event_type, schema_version, data)

    def load_frozen(self, event_type: str, schema_version: int, data: dict) -> dict:
        """The values with lists as tuples, for a frozen domain event."""
        entry = self._compiled.get(event_type) or self.compiled(event_type)
        if schema_version != entry.version:
            schema_version, data = self.registry.upcast(event_type, schema_version, data)
        try:
            return entry.load_frozen(data)
        except Exception:
            self.slow_loads += 1
            return {key: freeze(value) for key, value in
                    self.registry.load(event_type, schema_version, data).items()}
