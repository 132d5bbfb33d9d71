"""What each role is shown of a personal value: pure functions, no I/O.

Kinds of value: ``name``, ``phone``, ``id_number``, ``hidden`` (the hidden
features of a found item, which prove ownership) and ``other`` (any other
personal text). For each role and kind, :data:`POLICY` gives one of three
levels: ``clear``, ``masked`` (:func:`mask_name`, :func:`mask_phone`,
:func:`mask_id_number`; a hidden feature or other text cannot be masked
usefully, so masked means withheld for them) or ``withheld``
(:data:`WITHHELD`). A person with several roles gets the most open level any
of them gives; an unknown role gives nothing. The table is in docs/privacy.md.

:data:`ERASED` (from the vault) and ``None`` pass through unchanged: the
presentation layer shows ERASED as :data:`ERASED_TEXT` in its language.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable

from services.privacy.errors import InvalidIdentifier
from services.privacy.vault import ERASED, normalise_id_number, normalise_phone

NAME, PHONE, ID_NUMBER, HIDDEN, OTHER = "name", "phone", "id_number", "hidden", "other"
KINDS = (NAME, PHONE, ID_NUMBER, HIDDEN, OTHER)
CLEAR, MASKED, WITHHELD_LEVEL = "clear", "masked", "withheld"
_RANK = {WITHHELD_LEVEL: 0, MASKED: 1, CLEAR: 2}

WITHHELD = "[personal]"
"""Shown instead of a value the role may not see at all."""

ERASED_TEXT = {"zh": "已删除", "en": "erased"}
"""How :data:`ERASED` reads in each language."""

ROLES = ("clerk", "team_lead", "custodian", "supervisor", "lead", "section_head", "department_manager",
         "duty_manager", "finance", "safety_officer", "asset_officer", "auditor", "admin")


def _levels(name, phone, id_number, hidden, other) -> dict[str, str]:
    return {NAME: name, PHONE: phone, ID_NUMBER: id_number, HIDDEN: hidden, OTHER: other}


_ALL_CLEAR = _levels(CLEAR, CLEAR, CLEAR, CLEAR, CLEAR)
_DESK = _levels(CLEAR, MASKED, MASKED, CLEAR, CLEAR)
_NOTHING = _levels(WITHHELD_LEVEL, WITHHELD_LEVEL, WITHHELD_LEVEL, WITHHELD_LEVEL, WITHHELD_LEVEL)
_MANAGER = _levels(MASKED, MASKED, MASKED, WITHHELD_LEVEL, WITHHELD_LEVEL)

POLICY: dict[str, dict[str, str]] = {
    # the center's lead and the custodian hand items over and answer for them
    "lead": _ALL_CLEAR,
    "custodian": _ALL_CLEAR,
    # the desk talks to the visitor and verifies claims by the hidden features;
    # it needs the name, and the last digits to confirm a phone or ID number
    "clerk": _DESK,
    "team_lead": _DESK,
    # on site with the visitor: the name, not the hidden features
    "supervisor": _levels(CLEAR, MASKED, MASKED, WITHHELD_LEVEL, WITHHELD_LEVEL),
    # told of incidents; enough to tell two cases apart
    "section_head": _MANAGER,
    "department_manager": _MANAGER,
    "duty_manager": _MANAGER,
    # accounts and staff, not visitors: enough to confirm the right subject
    # when erasing on request (erasure works from the identifier the person gives)
    "admin": _MANAGER,
    # receives unclaimed items and good-deed records: names only
    "finance": _levels(CLEAR, WITHHELD_LEVEL, WITHHELD_LEVEL, WITHHELD_LEVEL, WITHHELD_LEVEL),
    "safety_officer": _NOTHING,
    "asset_officer": _NOTHING,
    "auditor": _NOTHING,
}


def level(kind: str, roles: Iterable[str]) -> str:
    """The most open level any of ``roles`` has for ``kind`` (``withheld``
    for no or unknown roles). A caller can skip decrypting what is withheld."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of personal value {kind!r}; expected one of {KINDS}")
    if isinstance(roles, str):
        roles = (roles,)
    best = WITHHELD_LEVEL
    for role in roles:
        found = POLICY.get(role, _NOTHING)[kind]
        if _RANK[found] > _RANK[best]:
            best = found
    return best


def present(value, kind: str, roles: Iterable[str]):
    """``value`` as a person with ``roles`` may see it: the value, its masked
    form, or :data:`WITHHELD`. ``None`` and :data:`ERASED` are returned as
    they are."""
    shown = level(kind, roles)
    if value is None or value is ERASED:
        return value
    if shown == CLEAR:
        return value
    if shown == MASKED and isinstance(value, str):
        if kind == NAME:
            return mask_name(value)
        if kind == PHONE:
            return mask_phone(value)
        if kind == ID_NUMBER:
            return mask_id_number(value)
    return WITHHELD


def _keep_last(text: str, keep: int, shortest: int) -> str:
    if len(text) < shortest:
        return "*" * len(text)
    return "*" * (len(text) - keep) + text[-keep:]


def mask_phone(phone: str) -> str:
    """The last 4 digits of the normalised number, a ``*`` for each other
    digit, a leading ``+`` kept: ``138-1234-5678`` -> ``*******5678``. A
    number of fewer than 7 digits is all stars (4 shown would be most of it)."""
    try:
        normal = normalise_phone(phone)
    except InvalidIdentifier:
        return "****"
    plus = "+" if normal.startswith("+") else ""
    return plus + _keep_last(normal.lstrip("+"), 4, 7)


def mask_id_number(id_number: str) -> str:
    """The last 4 characters of the normalised number, a ``*`` for each
    other: ``11010519491231002x`` -> ``**************002X``. Fewer than 8
    characters: all stars."""
    try:
        normal = normalise_id_number(id_number)
    except InvalidIdentifier:
        return "****"
    return _keep_last(normal, 4, 8)


_SEPARATORS = re.compile(r"(\s+|[·•・.])")


def mask_name(name: str) -> str:
    """Each part of the name (parts split by spaces or the middle dot of
    transliterated names) keeps its first and, from 3 characters on, its
    last character: ``韩梅梅`` -> ``韩*梅``, ``韩梅`` -> ``韩*``, ``欧阳娜娜`` ->
    ``欧**娜``, ``Li Wei`` -> ``L* W*i``; one character -> ``*``."""
    text = unicodedata.normalize("NFKC", name).strip() if isinstance(name, str) else ""
    if not text:
        return "*"
    out = []
    for part in _SEPARATORS.split(text):
        if not part or _SEPARATORS.fullmatch(part):
            out.append(part)
        elif len(part) == 1:
            out.append("*")
        elif len(part) == 2:
            out.append(part[0] + "*")
        else:
            out.append(part[0] + "*" * (len(part) - 2) + part[-1])
    masked = "".join(out)
    return masked if "*" in masked else "*"  # nothing but separators ("." or "·"): still masked
