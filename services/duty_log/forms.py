"""Folds that build duty-log forms from events (pure: no I/O).

A fold has ``name``, ``handles`` (event types) and ``apply(record, values)``
where ``values`` is the event's data loaded by its contract (current schema
version), and ``version``: raise it whenever a change of the fold's code
changes what its state holds, so that a persisted snapshot of the old state
is rebuilt instead of resumed (see services/chassis/projection.py). Its
state is its instance attributes (plain data, pickled into the snapshot). Every row keeps the position of the event that made it, so a form
row can always be traced back to the log.
"""
from __future__ import annotations


class SignInSheets:
    """签到表: who signed in at which desk on which duty day, in order."""

    name = "sign_in_sheets"
    version = 1
    handles = frozenset({"ClerkSignedIn"})

    def __init__(self):
        self.sheets: dict[tuple, list[dict]] = {}

    def apply(self, record, values: dict) -> None:
        key = (values["desk"], values["shift_date"])
        self.sheets.setdefault(key, []).append({
            "clerk_id": values["clerk_id"],
            "clerk_name": values["clerk_name"],
            "signed_in_at": values["signed_in_at"],
            "position": record.position,
        })

    def sheet(self, desk: str, shift_date) -> list[dict]:
        return list(self.sheets.get((desk, shift_date), ()))


FOLDS = (SignInSheets,)
