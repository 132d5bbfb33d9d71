"""The open cases of lost and found, for the desk console's lists and the
lead's day at a glance: found items not yet claimed or handed to finance
(held at a desk or with the custodian) and lost-item reports not yet
returned. A pure fold; no personal data (no finder, visitor or claimant)
and no hidden features.

Each row keeps the position of the event that opened it, so a list is in
the order things happened."""
from __future__ import annotations

import copy

HELD, IN_CUSTODY = "held", "in_custody"
REPORTED, MATCHED, CONTACTED = "reported", "matched", "contacted"


class OpenCases:
    name = "open_cases"
    version = 2  # 2: reports indexed by the item they are matched to
    handles = frozenset({"FoundItemTurnedIn", "ItemHandedToCustodian", "FoundItemClaimed", "ItemHandedToFinance",
                         "ItemDisposed", "FoundItemVoided", "FoundItemCorrected", "FoundItemReceivedAtDesk",
                         "LostItemReported", "LostReportMatched", "LostReportMatchReleased",
                         "VisitorContactTaskOpened", "VisitorContacted"})

    def __init__(self):
        self.items: dict[str, dict] = {}
        self.reports: dict[str, dict] = {}
        self.by_short_code: dict[str, str] = {}  # every item ever turned in, open or not
        # item id -> the open reports matched to it: a claim touches those, not every open report
        self.matched_to: dict[str, set[str]] = {}

    def apply(self, record, values: dict) -> None:
        match record.type:
            case "FoundItemTurnedIn":
                self.items[values["item_id"]] = {
                    "item_id": values["item_id"], "short_code": values["short_code"], "desk": values["desk"],
                    "item_name": values["item_name"], "category": values["category"],
                    "found_place": values["found_place"], "found_at": values["found_at"],
                    "turned_in_at": values["turned_in_at"], "business_date": values["business_date"],
                    "valuable": values["valuable"], "retain_until": values["retain_until"], "status": HELD,
                    "matched_report_id": None, "position": record.position}
                self.by_short_code[values["short_code"]] = values["item_id"]
            case "ItemHandedToCustodian" if values["item_id"] in self.items:
                self.items[values["item_id"]]["status"] = IN_CUSTODY
            case "FoundItemClaimed":
                self.items.pop(values["item_id"], None)
                if values.get("report_id"):
                    self._unmatch(values["report_id"])
                    self.reports.pop(values["report_id"], None)
                for report_id in sorted(self.matched_to.pop(values["item_id"], ())):
                    # matched to an item someone else claimed: open again, to be matched anew
                    self.reports[report_id].update(status=REPORTED, matched_item_id=None, matched_short_code=None,
                                                   contact_task_id=None, contact_task_open=False)
            case "ItemHandedToFinance" | "ItemDisposed" | "FoundItemVoided":
                self.items.pop(values["item_id"], None)
            case "FoundItemCorrected" if values["item_id"] in self.items:
                self.items[values["item_id"]].update({key: values[key] for key in (
                    "item_name", "category", "found_place", "found_at", "valuable", "retain_until")})
            case "FoundItemReceivedAtDesk" if values["item_id"] in self.items:
                self.items[values["item_id"]]["desk"] = values["desk"]
            case "LostReportMatchReleased" if values["report_id"] in self.reports:
                self._unmatch(values["report_id"])
                self.reports[values["report_id"]].update(status=REPORTED, matched_item_id=None,
                                                         matched_short_code=None, contact_task_open=False)
                if values["item_id"] in self.items:
                    self.items[values["item_id"]]["matched_report_id"] = None
            case "LostItemReported":
                self.reports[values["report_id"]] = {
                    "report_id": values["report_id"], "desk": values["desk"], "item_name": values["item_name"],
                    "category": values["category"], "lost_place": values["lost_place"],
                    "reported_at": values["reported_at"], "business_date": values["business_date"],
                    "status": REPORTED, "matched_item_id": None, "matched_short_code": None,
                    "contact_task_id": None, "contact_task_open": False, "position": record.position}
            case "LostReportMatched" if values["report_id"] in self.reports:
                self._unmatch(values["report_id"])
                self.matched_to.setdefault(values["item_id"], set()).add(values["report_id"])
                self.reports[values["report_id"]].update(status=MATCHED, matched_item_id=values["item_id"],
                                                         matched_short_code=values["short_code"])
                if values["item_id"] in self.items:
                    self.items[values["item_id"]]["matched_report_id"] = values["report_id"]
            case "VisitorContactTaskOpened" if values["report_id"] in self.reports:
                self.reports[values["report_id"]].update(contact_task_id=values["task_id"], contact_task_open=True)
            case "VisitorContacted" if values["report_id"] in self.reports:
                report = self.reports[values["report_id"]]
                report["status"] = CONTACTED if values["outcome"] == "reached" else report["status"]
                report["contact_task_open"] = not values["task_closed"]

    def _unmatch(self, report_id: str) -> None:
        item_id = self.reports.get(report_id, {}).get("matched_item_id")
        if item_id in self.matched_to:
            self.matched_to[item_id].discard(report_id)
            if not self.matched_to[item_id]:
                del self.matched_to[item_id]

    def find(self, short_code: str) -> dict | None:
        item_id = self.by_short_code.get(short_code.upper())
        return None if item_id is None else {"item_id": item_id, "short_code": short_code.upper(),
                                             "open": item_id in self.items}

    def open(self, desk: str | None = None) -> dict:
        def mine(row):
            return desk is None or row["desk"] == desk
        return {"items": copy.deepcopy(sorted((r for r in self.items.values() if mine(r)),
                                              key=lambda r: r["position"])),
                "reports": copy.deepcopy(sorted((r for r in self.reports.values() if mine(r)),
                                                key=lambda r: r["position"]))}
