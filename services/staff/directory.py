"""The staff directory: who exists, their names, roles and desks, and who
is active. A fold (see ``services/duty_log/forms.py``) any service can keep
in its own projector, e.g. to check that a finder named by staff id is a
real staff member. Password hashes are not kept here."""
from __future__ import annotations

from dataclasses import dataclass, replace

from contracts.roles import ADMIN


@dataclass(frozen=True)
class StaffEntry:
    staff_id: str
    display_name: str
    roles: frozenset
    desks: frozenset
    active: bool = True


class StaffDirectory:
    name = "staff_directory"
    handles = frozenset({"StaffAccountCreated", "StaffRolesChanged", "StaffAccountDisabled", "StaffAccountEnabled"})

    def __init__(self):
        self.accounts: dict[str, StaffEntry] = {}

    def apply(self, record, values: dict) -> None:
        staff_id = values["staff_id"]
        match record.type:
            case "StaffAccountCreated":
                self.accounts[staff_id] = StaffEntry(staff_id, values["display_name"], frozenset(values["roles"]),
                                                     frozenset(values["desks"]))
            case "StaffRolesChanged" if staff_id in self.accounts:
                self.accounts[staff_id] = replace(self.accounts[staff_id], roles=frozenset(values["roles"]),
                                                  desks=frozenset(values["desks"]))
            case "StaffAccountDisabled" if staff_id in self.accounts:
                self.accounts[staff_id] = replace(self.accounts[staff_id], active=False)
            case "StaffAccountEnabled" if staff_id in self.accounts:
                self.accounts[staff_id] = replace(self.accounts[staff_id], active=True)

    def get(self, staff_id: str) -> StaffEntry | None:
        return self.accounts.get(staff_id)

    def active(self, staff_id: str) -> StaffEntry | None:
        entry = self.accounts.get(staff_id)
        return entry if entry is not None and entry.active else None

    def active_admins(self, besides: str | None = None) -> int:
        return sum(1 for entry in self.accounts.values()
                   if entry.active and ADMIN in entry.roles and entry.staff_id != besides)

    def rows(self) -> list[StaffEntry]:
        return sorted(self.accounts.values(), key=lambda entry: entry.staff_id)


FOLDS = (StaffDirectory,)
