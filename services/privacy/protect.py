"""Personal data between the contracts and the vault.

- :meth:`Protector.protect`: before an event is appended, every personal leaf
  (``contracts/personal.py``) is encrypted with its data subject's key. The
  leaves of one ``subject`` label in one event belong to one person, found
  (or made) through the blind index of their phone and ID number; the
  subject is kept at least ``PERSONAL_RETENTION_DAYS[label]`` days from the
  event's business day.
- :meth:`Protector.present`: when a reply is written, every personal leaf of
  its contract is decrypted (a :class:`~contracts.personal.Sealed` value) and
  shown as the caller's roles allow (``masking``); an erased one reads
  :data:`ERASED_TEXT`.
- :meth:`Protector.open`: the plaintext of one sealed value, for the code that
  needs it (matching on hidden features).

Config: ``PERSONAL_RETENTION_DAYS`` (mapping of subject label, or
``default``, to days; defaults below).
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from contracts.personal import Leaf, Sealed, map_leaves, schema_leaves
from services.privacy import masking
from services.privacy.vault import ERASED, ID_NUMBER, PHONE, SubjectVault

DEFAULT_RETENTION_DAYS = {"default": 365, "claimant": 365, "visitor": 365, "finder": 365, "item": 730}
ERASED_TEXT = masking.ERASED_TEXT["zh"]   # what a reply says for an erased value; the console translates it


def retention_days(config: dict) -> dict[str, int]:
    days = dict(DEFAULT_RETENTION_DAYS, **(config.get("PERSONAL_RETENTION_DAYS") or {}))
    return {label: int(value) for label, value in days.items()}


class Protector:
    def __init__(self, vault: SubjectVault, registry, retention: dict[str, int] | None = None,
                 zone: dt.tzinfo = dt.timezone.utc):
        self.vault, self.registry = vault, registry
        self.retention = retention or dict(DEFAULT_RETENTION_DAYS)
        self.zone = zone

    # -- writing ----------------------------------------------------------------------
    def protect(self, event_type: str, data: dict, occurred_at: dt.datetime) -> dict:
        """``data`` (as the contract dumped it) with its personal leaves encrypted."""
        leaves = schema_leaves(self.registry.events[event_type])
        if not leaves:
            return data
        present: dict[str, dict] = {}
        for leaf in leaves:
            for value in _values(data, leaf.path):
                identifiers = present.setdefault(leaf.subject, {})
                if leaf.kind in (PHONE, ID_NUMBER) and len(leaf.path) == 1:
                    identifiers[leaf.kind] = value
        if not present:
            return data
        subjects = {label: self.vault.subject_for(identifiers) for label, identifiers in present.items()}
        day = occurred_at.astimezone(self.zone).date()
        for label, subject_id in subjects.items():
            days = self.retention.get(label, self.retention["default"])
            self.vault.keep(subject_id, label, day + dt.timedelta(days=days))

        def encrypt(leaf: Leaf, value, _where):
            return self.vault.encrypt(subjects[leaf.subject], f"{event_type}.{leaf.name}", value)
        return map_leaves(data, leaves, encrypt)

    # -- reading ----------------------------------------------------------------------
    def open(self, value):
        """A sealed value's plaintext (or ERASED); anything else as it is."""
        if isinstance(value, Sealed):
            return self.vault.decrypt(value.token, value.field)
        return value

    def present(self, schema_cls, reply, roles: Iterable[str]):
        """``reply`` with every personal leaf of ``schema_cls`` as ``roles`` may see it."""
        leaves = schema_leaves(schema_cls)
        if not leaves:
            return reply
        roles = tuple(roles)

        def show(leaf: Leaf, value, _where):
            if masking.level(leaf.kind, roles) != masking.WITHHELD_LEVEL:
                value = self.open(value)
            elif isinstance(value, Sealed):
                return masking.WITHHELD
            if value is ERASED:
                return ERASED_TEXT
            return masking.present(value, leaf.kind, roles)
        return map_leaves(reply, leaves, show)


def _values(data, path: tuple) -> list:
    """The non-null values at ``path`` (``*`` for every list item)."""
    if not path:
        return [] if data is None else [data]
    step, rest = path[0], path[1:]
    if step == "*":
        return [found for item in (data if isinstance(data, (list, tuple)) else ()) for found in _values(item, rest)]
    if isinstance(step, int):
        return _values(data[step], rest) if isinstance(data, (list, tuple)) and step < len(data) else []
    return _values(data.get(step), rest) if isinstance(data, dict) else []
