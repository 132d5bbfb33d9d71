"""Where personal data sits in a contract: the *leaves* (one string each)
that a field marked ``Personal(kind=..., subject=...)`` puts in a payload,
found by walking the schema (nested schemas, lists and tuples included).

An event's leaves are encrypted before it is appended, one key per data
subject (``services/privacy``). Within an event, the leaves with the same
``subject`` label (``claimant``, ``visitor``, ``finder``, ``item``) belong to
one person (or, for ``item``, to the unknown owner of a found item); their
``phone`` and ``id_number`` leaves identify that person across visits.

:class:`Sealed` is a leaf as read back from the log: the ciphertext and the
leaf's field name, decrypted (and masked for the reader's roles) only when a
reply is written, so that read models never hold personal data in clear and
an erasure shows at once.
"""
from __future__ import annotations

import functools
from typing import Callable, Iterator, NamedTuple

from marshmallow import Schema, fields

PERSONAL = "personal"
KIND = "personal_kind"
SUBJECT = "personal_subject"
KINDS = ("name", "phone", "id_number", "hidden", "other")
STAR = "*"  # any item of a list


class Leaf(NamedTuple):
    path: tuple          # field names, STAR for list items, ints for tuple positions
    kind: str
    subject: str | None

    @property
    def name(self) -> str:
        """The leaf's field name as encryption binds it: ``hidden_features.*.1``."""
        return ".".join(str(step) for step in self.path)


class Sealed(NamedTuple):
    """A personal value as stored: the vault token and the name of the field
    it was encrypted for (``<EventType>.<leaf name>``)."""
    token: str
    field: str

    def __repr__(self) -> str:  # never the token in a log or a test failure
        return f"Sealed({self.field})"


def _leaves(field: fields.Field, path: tuple) -> Iterator[Leaf]:
    if isinstance(field, fields.String) and field.metadata.get(PERSONAL):
        yield Leaf(path, field.metadata.get(KIND, "other"), field.metadata.get(SUBJECT))
    elif isinstance(field, fields.List):
        yield from _leaves(field.inner, path + (STAR,))
    elif isinstance(field, fields.Tuple):
        for index, inner in enumerate(field.tuple_fields):
            yield from _leaves(inner, path + (index,))
    elif isinstance(field, fields.Nested):
        yield from schema_leaves(type(field.schema), path)


def schema_leaves(schema_cls: type[Schema], prefix: tuple = ()) -> tuple[Leaf, ...]:
    """Every personal leaf of a schema, nested ones included."""
    return _cached_leaves(schema_cls, prefix)


@functools.cache
def _cached_leaves(schema_cls: type[Schema], prefix: tuple) -> tuple[Leaf, ...]:
    schema = schema_cls()
    found = []
    for name, field in schema.fields.items():
        found.extend(_leaves(field, prefix + (field.data_key or name,)))
    return tuple(found)


def _map(value, path: tuple, fn: Callable, leaf: Leaf, where: tuple):
    if not path:
        return value if value is None else fn(leaf, value, where)
    step, rest = path[0], path[1:]
    if step == STAR:
        if not isinstance(value, (list, tuple)):
            return value
        mapped = [_map(item, rest, fn, leaf, where + (index,)) for index, item in enumerate(value)]
        return type(value)(mapped) if isinstance(value, tuple) else mapped
    if isinstance(step, int):
        if not isinstance(value, (list, tuple)) or step >= len(value):
            return value
        items = list(value)
        items[step] = _map(items[step], rest, fn, leaf, where + (step,))
        return type(value)(items) if isinstance(value, tuple) else items
    if not isinstance(value, dict) or step not in value:
        return value
    return {**value, step: _map(value[step], rest, fn, leaf, where + (step,))}


def map_leaves(data, leaves: tuple[Leaf, ...], fn: Callable) -> object:
    """``data`` with every present, non-null personal leaf replaced by
    ``fn(leaf, value, where)`` (``where``: the concrete path). Nothing else
    is copied or changed; ``data`` itself is not modified."""
    for leaf in leaves:
        data = _map(data, leaf.path, fn, leaf, ())
    return data


def seal(event_type: str, leaves: tuple[Leaf, ...], values: dict, is_token: Callable[[str], bool]) -> dict:
    """An event's values as read back, each token leaf as :class:`Sealed`
    (a leaf stored in clear, by an older version, stays as it is)."""
    def wrap(leaf, value, _where):
        return Sealed(value, f"{event_type}.{leaf.name}") if isinstance(value, str) and is_token(value) else value
    return map_leaves(values, leaves, wrap) if leaves else values
