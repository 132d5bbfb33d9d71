"""Folds that build the lost-and-found forms (3.3-3.10) from events. Pure.

Each fold has ``name``, ``handles``, ``version`` and ``apply(record,
values)`` (see ``services/duty_log/forms.py``). Every row, and every part of a form, keeps
the ``positions`` and ``event_ids`` of the events that made it, so it can be
traced back to the log. Hidden features never reach a form: only how many
were recorded, and the labels a verification matched.

The ``serve_*`` functions at the end answer the forms service's RPCs from a
projector holding these folds.
"""
from __future__ import annotations

import copy
import datetime as dt
import functools

from services.chassis.buckets import Buckets
from services.chassis.decider import NotFound
from services.lost_and_found import domain

ITEM_EVENTS = frozenset({"FoundItemTurnedIn", "FoundItemReceiptIssued", "ItemHandedToCustodian",
                         "ClaimVerificationRecorded", "FoundItemClaimed", "OnSpotClaimFormFiled",
                         "ItemHandedToFinance"})
#: corrections, voiding and moves between desks (issue 10)
AMENDING_EVENTS = frozenset({"FoundItemCorrected", "FoundItemVoided", "FoundItemSentToDesk",
                             "FoundItemReceivedAtDesk", "SignatureCaptured", "ClaimAuthorisedByOwner",
                             "CourierReturnArranged", "ItemDispatchedByCourier", "ItemDisposed"})


def _signature(values: dict, record) -> dict:
    return _traced({"part": values["part"], "signer_kind": values["signer_kind"], "signer_id": values["signer_id"],
                    "captured_by": values["captured_by"], "image_ref": values["image_ref"],
                    "signed_at": values["signed_at"]}, record)


#: what the paper forms carry besides the name and description (forms 3.3-3.5, 3.9, 3.10)
PARTICULARS = ("quantity", "cash_amount", "currency", "condition", "contents")


def _particulars(values: dict) -> dict:
    return {"quantity": values["quantity"], "cash_amount": values["cash_amount"], "currency": values["currency"],
            "condition": values["condition"], "contents": list(values["contents"])}


def _shown(value):
    """A corrected value as a form shows it (was / now): JSON as it stands."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return list(value) if isinstance(value, tuple) else value


def _corrected(part: dict, values: dict, record, keys=None) -> list[dict]:
    """Apply a FoundItemCorrected to ``part`` (those of its keys the
    correction changed) and return what changed: field, was, now."""
    changes = []
    for name in values["corrected_fields"]:
        if keys is not None and name not in keys:
            continue
        now = list(values[name]) if name == "contents" else values[name]
        if name in part:
            changes.append({"field": name, "was": _shown(part[name]), "now": _shown(now)})
            part[name] = now
    _also(part, record)
    return changes


def _trace(record) -> dict:
    return {"positions": [record.position], "event_ids": [record.event_id]}


def _traced(row: dict, record) -> dict:
    """``row`` (made for it) with the trace of the event that made it."""
    row["positions"] = [record.position]
    row["event_ids"] = [record.event_id]
    return row


def _joined(trace: dict, record) -> dict:
    """An earlier event's trace (kept, not its record: records hold hidden
    features) followed by a later record."""
    return {"positions": [*trace["positions"], record.position], "event_ids": [*trace["event_ids"], record.event_id]}


def _also(part: dict, record) -> None:
    part["positions"].append(record.position)
    part["event_ids"].append(record.event_id)


def _in_period(day: dt.date, date: dt.date | None, month: str | None) -> bool:
    return day == date if date is not None else day.strftime("%Y-%m") == month


#: the registration & claim form of each channel an item is turned in by: number, title, English title
FORM_OF_CHANNEL = {
    domain.DESK_VISITOR: ("3.3", "游客拾物登记、认领表", "found-by-visitor registration & claim form"),
    domain.DESK_STAFF: ("3.4", "员工拾物登记、认领表", "found-by-staff registration & claim form"),
    domain.ON_SITE: ("3.5", "员工现场拾物登记表、认领表", "found-by-staff-on-site registration & claim form"),
}


class FoundItemForms:
    """One form per found item, the one of the channel it was turned in by:
    3.3 《游客拾物登记、认领表》 (found by a visitor), 3.4 《员工拾物登记、认领表》
    (found by staff), 3.5 《员工现场拾物登记表、认领表》 (found by staff on site).
    Registration (upper half), custody, verifications, claim (lower half,
    认领表) and the handover to finance."""

    name = "found_item_forms"
    version = 2
    handles = ITEM_EVENTS | AMENDING_EVENTS

    def __init__(self):
        # item id -> form, in buckets pickled apart: the first form after a restart reads one bucket
        self.forms = Buckets()

    def apply(self, record, values: dict) -> None:
        if record.type == "FoundItemTurnedIn":
            form_of_channel = FORM_OF_CHANNEL.get(values["channel"])
            if form_of_channel is not None:
                self.forms[values["item_id"]] = self._new(form_of_channel, record, values)
            return
        form = self.forms.get(values.get("item_id"))  # no item: a signature on a handover list
        if form is None:
            return
        match record.type:
            case "SignatureCaptured":
                form["signatures"].append(_signature(values, record))
            case "ClaimVerificationRecorded":
                form["verifications"].append(_traced({
                    "verification_id": values["verification_id"],
                    "claimant_description": values["claimant_description"],
                    "matched_features": values["matched_features"],
                    "description_matched": values["description_matched"], "decision": values["decision"],
                    "verified_by": values["verified_by"], "verified_by_role": values["verified_by_role"],
                    "verified_at": values["verified_at"]}, record))
            case "FoundItemClaimed":
                form["claim"] = _traced({
                    "claim_id": values["claim_id"], "claim_kind": values["claim_kind"],
                    "report_id": values["report_id"], "claimant_name": values["claimant_name"],
                    "claimant_phone": values["claimant_phone"], "claimant_id_type": values["claimant_id_type"],
                    "claimant_id_number": values["claimant_id_number"], "released_by": values["released_by"],
                    "released_by_role": values["released_by_role"], "custodian_id": values["custodian_id"],
                    "claimed_at": values["claimed_at"], "verification_id": values["verification_id"],
                    "on_spot_form_due": values["on_spot_form_due"], "filed_at_desk": None, "filed_late": None},
                    record)
            case "FoundItemReceiptIssued":
                form["registration"]["receipt_no"] = values["receipt_no"]
                _also(form["registration"], record)
            case "ItemHandedToCustodian":
                form["custody"] = _traced({"storage_place": values["storage_place"], "handed_by": values["handed_by"],
                                           "custodian_id": values["custodian_id"], "handed_at": values["handed_at"]},
                                          record)
            case "ItemHandedToFinance":
                form["finance"] = _traced({"handover_id": values["handover_id"],
                                           "custodian_id": values["custodian_id"], "handed_at": values["handed_at"]},
                                          record)
            case "OnSpotClaimFormFiled":
                form["claim"]["filed_at_desk"] = values["filed_at"]
                form["claim"]["filed_late"] = values["late"]
                _also(form["claim"], record)
            case "FoundItemCorrected":
                registration = form["registration"]
                trace = {"positions": list(registration["positions"]), "event_ids": list(registration["event_ids"])}
                changes = _corrected(registration, values, record)
                registration["valuable"] = values["valuable"]
                form["corrections"].append({
                    key: values[key] for key in ("correction_id", "reason", "corrected_by", "corrected_by_role",
                                                 "corrected_at")} | {"changes": changes} | _joined(trace, record))
            case "ItemDisposed":
                form["disposal"] = {key: values[key] for key in ("disposal_id", "route", "custodian_id",
                                                                 "disposed_at")} | _trace(record)
            case "ClaimAuthorisedByOwner":
                form["proxy"] = {key: values[key] for key in (
                    "proxy_kind", "organisation", "owner_name", "owner_phone", "authorisation_method",
                    "authorisation_note", "authorised_at", "recorded_by")} | _trace(record)
            case "CourierReturnArranged":
                form["courier"] = {key: values[key] for key in (
                    "return_id", "recipient_name", "recipient_phone", "address", "fee_paid_by", "fee_amount",
                    "fee_currency", "arranged_by", "arranged_at")} | {
                    "carrier": None, "tracking_number": None, "dispatched_at": None} | _trace(record)
            case "ItemDispatchedByCourier" if form["courier"] is not None:
                form["courier"] |= {"carrier": values["carrier"], "tracking_number": values["tracking_number"],
                                    "dispatched_at": values["dispatched_at"]}
                _also(form["courier"], record)
            case "FoundItemVoided":
                form["void"] = {key: values[key] for key in ("duplicate_of", "reason", "voided_by",
                                                             "voided_by_role", "voided_at")} | _trace(record)
            case "FoundItemSentToDesk":
                form["movements"].append(_traced({"kind": "sent", "from_desk": values["from_desk"],
                                                  "to_desk": values["to_desk"], "storage_place": None,
                                                  "reason": values["reason"], "by": values["sent_by"],
                                                  "at": values["sent_at"]}, record))
            case "FoundItemReceivedAtDesk":
                form["movements"].append(_traced({"kind": "received", "from_desk": values["from_desk"],
                                                  "to_desk": values["desk"], "storage_place": values["storage_place"],
                                                  "reason": None, "by": values["received_by"],
                                                  "at": values["received_at"]}, record))

    @staticmethod
    def _new(form_of_channel: tuple, record, values: dict) -> dict:
        form, title, title_en = form_of_channel
        registration = _traced({
            "item_id": values["item_id"], "short_code": values["short_code"], "desk": values["desk"],
            "item_name": values["item_name"], "category": values["category"], "description": values["description"],
            "found_place": values["found_place"], "found_at": values["found_at"], "finder_id": values["finder_id"],
            "finder_name": values["finder_name"], "finder_phone": values["finder_phone"],
            "finder_department": values["finder_department"], "registered_by": values["registered_by"],
            "registered_by_role": values["registered_by_role"], "witness_id": values["witness_id"],
            "witness_name": values["witness_name"], "owner_urgent": values["owner_urgent"],
            "storage_place": values["storage_place"], "valuable": values["valuable"],
            "turned_in_at": values["turned_in_at"], "quantity": values["quantity"],
            "cash_amount": values["cash_amount"], "currency": values["currency"], "condition": values["condition"],
            "contents": list(values["contents"]), "hidden_features_recorded": len(values["hidden_features"]),
            "receipt_no": None}, record)
        return {"form": form, "title": title, "title_en": title_en, "registration": registration,
                "custody": None, "verifications": [], "claim": None, "finance": None, "corrections": [],
                "void": None, "movements": [], "signatures": [], "proxy": None, "courier": None,
                "disposal": None}

    def form_of(self, item_id: str) -> dict | None:
        form = self.forms.get(item_id)
        return copy.deepcopy(form) if form is not None else None

    def read_back(self) -> bool:
        """One more bucket of forms unpickled (a warm-up after a restart); False when none is left."""
        return self.forms.unpack_next()


#: events after which an item is no longer kept for a report it was matched to: (time field, why)
ITEM_GONE = {"FoundItemClaimed": ("claimed_at", "claimed_by_another"),
             "ItemHandedToFinance": ("handed_at", "handed_to_finance"),
             "ItemDisposed": ("disposed_at", "disposed"), "FoundItemVoided": ("voided_at", "voided")}


class LostItemReportForms:
    """3.6 《游客失物登记表》: visitor lost-item report, with the match and the
    calls to the visitor."""

    name = "lost_item_report_forms"
    version = 2
    form, title = "3.6", "游客失物登记表"
    handles = frozenset({"LostItemReported", "LostReportMatched", "VisitorContactTaskOpened", "VisitorContacted",
                         "LostReportMatchReleased", *ITEM_GONE})

    def __init__(self):
        self.reports: dict[str, dict] = {}
        self._report_of_item: dict[str, str] = {}   # item -> the report currently matched to it

    def apply(self, record, values: dict) -> None:
        if record.type == "LostItemReported":
            self.reports[values["report_id"]] = _traced({
                "form": self.form, "title": self.title, "report_id": values["report_id"], "desk": values["desk"],
                "item_name": values["item_name"], "category": values["category"],
                "description": values["description"], "features": values["features"],
                "lost_place": values["lost_place"], "lost_from": values["lost_from"],
                "lost_until": values["lost_until"], "visitor_name": values["visitor_name"],
                "visitor_phone": values["visitor_phone"], "received_by": values["received_by"],
                "reported_at": values["reported_at"], "matched_item_id": None, "matched_short_code": None,
                "contact_task_id": None, "contact_task_open": False, "contacts": [], "returned_at": None,
                "released_matches": []}, record)
            return
        if record.type in ITEM_GONE:
            # "returned" only when this report's own claim returned its matched item; the item going to
            # someone else or to finance releases the match and the report stays open (to be matched again)
            report = self.reports.get(self._report_of_item.pop(values["item_id"], ""))
            if report is None:
                return
            _also(report, record)
            if record.type == "FoundItemClaimed" and values["report_id"] == report["report_id"]:
                report["returned_at"] = values["claimed_at"]
                report["contact_task_open"] = False
                return
            report["released_matches"].append({
                "item_id": report["matched_item_id"], "short_code": report["matched_short_code"],
                "released_at": values[ITEM_GONE[record.type][0]], "why": ITEM_GONE[record.type][1],
                **_trace(record)})
            report["matched_item_id"] = report["matched_short_code"] = None
            report["contact_task_open"] = False
            return
        report = self.reports.get(values["report_id"])
        if report is None:
            return
        _also(report, record)
        match record.type:
            case "LostReportMatched":
                report["matched_item_id"], report["matched_short_code"] = values["item_id"], values["short_code"]
                self._report_of_item[values["item_id"]] = values["report_id"]
            case "LostReportMatchReleased":
                report["released_matches"].append({
                    "item_id": values["item_id"], "short_code": report["matched_short_code"],
                    "released_at": values["released_at"], "why": "released_by_clerk", **_trace(record)})
                report["matched_item_id"] = report["matched_short_code"] = None
                report["contact_task_open"] = False
                if self._report_of_item.get(values["item_id"]) == values["report_id"]:
                    del self._report_of_item[values["item_id"]]
            case "VisitorContactTaskOpened":
                report["contact_task_id"], report["contact_task_open"] = values["task_id"], True
            case "VisitorContacted":
                report["contacts"].append(_traced({
                    "task_id": values["task_id"], "contacted_by": values["contacted_by"],
                    "outcome": values["outcome"], "contacted_at": values["contacted_at"]}, record))
                report["contact_task_open"] = not values["task_closed"]

    def form_of(self, report_id: str) -> dict | None:
        report = self.reports.get(report_id)
        return copy.deepcopy(report) if report is not None else None


class LostItemSummary:
    """3.7 《游客失物登记汇总表》: lost-item summary per day, month and clerk."""

    name = "lost_item_summary"
    version = 3
    form, title = "3.7", "游客失物登记汇总表"
    handles = frozenset({"LostItemReported", "LostReportMatched", "VisitorContacted", "LostReportMatchReleased",
                         *ITEM_GONE})
    STAGES = ("matched", "contacted", "returned")

    def __init__(self):
        self.rows: dict[str, dict] = {}
        self._report_of_item: dict[str, str] = {}

    def apply(self, record, values: dict) -> None:
        if record.type == "LostItemReported":
            self.rows[values["report_id"]] = _traced({
                "business_date": values["business_date"], "report_id": values["report_id"], "desk": values["desk"],
                "item_name": values["item_name"], "category": values["category"],
                "lost_place": values["lost_place"], "visitor_name": values["visitor_name"],
                "visitor_phone": values["visitor_phone"], "received_by": values["received_by"],
                "status": "reported", "stages": [], "matched_short_code": None}, record)
            return
        if record.type in ITEM_GONE:
            report_id = self._report_of_item.pop(values["item_id"], None)
        else:
            report_id = values["report_id"]
        row = self.rows.get(report_id or "")
        if row is None:
            return
        _also(row, record)
        match record.type:
            case "LostReportMatched":
                row["status"], row["matched_short_code"] = "matched", values["short_code"]
                self._report_of_item[values["item_id"]] = report_id
                self._reached(row, "matched")
            case "VisitorContacted" if values["task_closed"] and row["status"] == "matched":
                row["status"] = "contacted"
                self._reached(row, "contacted")
            case "VisitorContacted":  # a call that did not reach the visitor: still matched, the task open
                pass
            case "FoundItemClaimed" if values["report_id"] == report_id:
                row["status"] = "returned"
                self._reached(row, "returned")
            case "LostReportMatchReleased":
                row["status"], row["matched_short_code"] = "reported", None
                if self._report_of_item.get(values["item_id"]) == report_id:
                    del self._report_of_item[values["item_id"]]
            case _:  # its item went to someone else or to finance: open again, to be matched anew
                row["status"], row["matched_short_code"] = "reported", None

    @staticmethod
    def _reached(row: dict, stage: str) -> None:
        if stage not in row["stages"]:
            row["stages"].append(stage)

    def summary(self, date: dt.date | None = None, month: str | None = None, staff_id: str | None = None) -> dict:
        rows = [copy.deepcopy(row) for row in self.rows.values()
                if _in_period(row["business_date"], date, month) and staff_id in (None, row["received_by"])]
        rows.sort(key=lambda row: row["positions"][0])
        # each stage a report reached counts, not only where it stands now: a report matched, contacted
        # and returned counts once in each
        totals = {"reported": len(rows)}
        for stage in self.STAGES:
            totals[stage] = sum(stage in row["stages"] for row in rows)
        return {"form": self.form, "title": self.title, "rows": rows, "totals": totals}


class GoodDeedsSummary:
    """3.8 《员工好人好事汇总表》: staff good deeds per day, month and staff member
    (an item found by staff and turned in, at the desk or on site)."""

    name = "good_deeds_summary"
    version = 2
    form, title = "3.8", "员工好人好事汇总表"
    handles = frozenset({"FoundItemTurnedIn", "FoundItemReceiptIssued", "FoundItemClaimed", "FoundItemCorrected",
                         "FoundItemVoided"})

    def __init__(self):
        self.rows: dict[str, dict] = {}
        self._items: dict[str, tuple] = {}

    def apply(self, record, values: dict) -> None:
        match record.type:
            case "FoundItemTurnedIn" if values["finder_kind"] == "staff":
                self._items[values["item_id"]] = (_trace(record), values["item_name"], values["category"],
                                                  values["found_place"])
            case "FoundItemReceiptIssued":
                turned_in, item_name, category, found_place = self._items[values["item_id"]]
                self.rows[values["item_id"]] = {
                    "business_date": values["business_date"], "staff_id": values["finder_id"],
                    "staff_name": values["finder_name"], "department": values["finder_department"],
                    "kind": values["good_deed"], "receipt_no": values["receipt_no"], "item_id": values["item_id"],
                    "item_name": item_name, "category": category, "found_place": found_place,
                    "returned_to_owner": False, **_joined(turned_in, record)}
            case "FoundItemClaimed" if values["item_id"] in self.rows:
                row = self.rows[values["item_id"]]
                row["returned_to_owner"] = True
                _also(row, record)
            case "FoundItemCorrected" if values["item_id"] in self.rows:
                _corrected(self.rows[values["item_id"]], values, record, ("item_name", "category", "found_place"))
            case "FoundItemVoided" if values["item_id"] in self.rows:
                # a duplicate registration is not a second good deed
                self.rows.pop(values["item_id"])

    def summary(self, date: dt.date | None = None, month: str | None = None, staff_id: str | None = None) -> dict:
        rows = [copy.deepcopy(row) for row in self.rows.values()
                if _in_period(row["business_date"], date, month) and staff_id in (None, row["staff_id"])]
        rows.sort(key=lambda row: row["positions"][0])
        per_staff: dict[str, int] = {}
        for row in rows:
            per_staff[row["staff_id"]] = per_staff.get(row["staff_id"], 0) + 1
        return {"form": self.form, "title": self.title, "rows": rows, "per_staff": per_staff}


class FoundItemReceipts:
    """3.9 《员工拾到物品回执》: the staff finder's receipt (no hidden features)."""

    name = "found_item_receipts"
    version = 2
    form, title = "3.9", "员工拾到物品回执"
    handles = frozenset({"FoundItemTurnedIn", "FoundItemReceiptIssued", "FoundItemCorrected"})

    def __init__(self):
        self.receipts: dict[str, dict] = {}
        self._items: dict[str, tuple] = {}

    def apply(self, record, values: dict) -> None:
        if record.type == "FoundItemTurnedIn":
            if values["finder_kind"] == "staff":
                self._items[values["item_id"]] = (_trace(record), {
                    "short_code": values["short_code"], "desk": values["desk"], "item_name": values["item_name"],
                    "category": values["category"], "found_place": values["found_place"],
                    "found_at": values["found_at"], **_particulars(values)})
            return
        if record.type == "FoundItemCorrected":
            if values["item_id"] in self.receipts:
                _corrected(self.receipts[values["item_id"]], values, record)
            return
        turned_in, item = self._items.pop(values["item_id"])
        self.receipts[values["item_id"]] = {
            "form": self.form, "title": self.title, "item_id": values["item_id"], **item,
            "receipt_no": values["receipt_no"], "finder_id": values["finder_id"], "finder_name": values["finder_name"],
            "finder_department": values["finder_department"], "good_deed": values["good_deed"],
            "issued_by": values["issued_by"], "issued_at": values["issued_at"], **_joined(turned_in, record)}

    def receipt(self, item_id: str) -> dict | None:
        receipt = self.receipts.get(item_id)
        return copy.deepcopy(receipt) if receipt is not None else None


class ItemInformationCards:
    """3.10 《物品信息卡》: the label stuck on the item, with short code and QR
    payload; no personal data and no hidden features."""

    name = "item_information_cards"
    version = 2
    form, title = "3.10", "物品信息卡"
    handles = frozenset({"FoundItemTurnedIn", "ItemInformationCardIssued", "ItemHandedToCustodian",
                         "FoundItemCorrected", "FoundItemVoided", "FoundItemReceivedAtDesk"})

    def __init__(self):
        self.cards: dict[str, dict] = {}
        self.by_short_code: dict[str, str] = {}
        self._items: dict[str, tuple] = {}

    def apply(self, record, values: dict) -> None:
        match record.type:
            case "FoundItemTurnedIn" if values["channel"] != domain.DESK_STAFF:
                disposal_from, note = _retention(values["retain_until"])
                self._items[values["item_id"]] = (_trace(record), {
                    "item_name": values["item_name"], "category": values["category"],
                    "found_place": values["found_place"], "found_at": values["found_at"],
                    "turned_in_on": values["business_date"], "retain_until": values["retain_until"],
                    "desk": values["desk"], "storage_place": values["storage_place"],
                    "registered_by": values["registered_by"], "disposal_from": disposal_from,
                    "retention_note": note, **_particulars(values)})
            case "ItemInformationCardIssued":
                turned_in, item = self._items.pop(values["item_id"])
                self.cards[values["item_id"]] = {
                    "form": self.form, "title": self.title, "item_id": values["item_id"],
                    "short_code": values["short_code"], "qr_payload": values["qr_payload"], **item,
                    "issued_at": values["issued_at"], "voided": False, **_joined(turned_in, record)}
                self.by_short_code[values["short_code"]] = values["item_id"]
            case "ItemHandedToCustodian" if values["item_id"] in self.cards:
                card = self.cards[values["item_id"]]
                card["storage_place"] = values["storage_place"]
                _also(card, record)
            case "FoundItemCorrected" if values["item_id"] in self.cards:
                card = self.cards[values["item_id"]]
                _corrected(card, values, record)
                card["retain_until"] = values["retain_until"]
                card["disposal_from"], card["retention_note"] = _retention(values["retain_until"])
            case "FoundItemVoided" if values["item_id"] in self.cards:
                card = self.cards[values["item_id"]]
                card["voided"] = True
                _also(card, record)
            case "FoundItemReceivedAtDesk" if values["item_id"] in self.cards:
                card = self.cards[values["item_id"]]
                card["desk"], card["storage_place"] = values["desk"], values["storage_place"]
                _also(card, record)

    def card(self, item_id: str | None = None, short_code: str | None = None) -> dict | None:
        card = self.cards.get(item_id or self.by_short_code.get(short_code or "", ""))
        return copy.deepcopy(card) if card is not None else None


@functools.cache
def _retention(retain_until: dt.date) -> tuple[dt.date, str]:
    """A card's first day for finance and its note, for a "kept until" (the year has a few hundred)."""
    return domain.disposal_from(retain_until), retention_note(retain_until)


def retention_note(retain_until: dt.date) -> str:
    """What the card says about "kept until": through that day, inclusive."""
    return (f"保管至 {retain_until.isoformat()}（含当日），{domain.disposal_from(retain_until).isoformat()} 起可移交财务部 / "
            f"kept through {retain_until.isoformat()} inclusive; may go to finance from "
            f"{domain.disposal_from(retain_until).isoformat()}")


class ValuablesAwaitingCustody:
    """Shift-end checklist: valuables turned in and neither claimed nor handed
    to the lost-and-found custodian as of a given (business) time. A row is
    ``overdue`` once the local day it was turned in is over (2.2.5.3 a: not
    claimed that day, it belongs with the custodian): the lead's view is the
    same list for every desk."""

    name = "valuables_awaiting_custody"
    version = 3
    handles = frozenset({"FoundItemTurnedIn", "FoundItemClaimed", "ItemHandedToCustodian", "ItemHandedToFinance",
                         "FoundItemCorrected", "FoundItemVoided", "FoundItemReceivedAtDesk", "ItemDisposed"})

    def __init__(self):
        self.items: dict[str, dict] = {}

    def apply(self, record, values: dict) -> None:
        if record.type == "FoundItemTurnedIn":
            # every item: a correction may make one a valuable (a 包 that was a 钱包)
            self.items[values["item_id"]] = _traced({
                "item_id": values["item_id"], "short_code": values["short_code"], "desk": values["desk"],
                "item_name": values["item_name"], "category": values["category"],
                "registered_by": values["registered_by"], "storage_place": values["storage_place"],
                "turned_in_at": values["turned_in_at"], "business_date": values["business_date"],
                "valuable": values["valuable"], "gone_at": None}, record)
            return
        item = self.items.get(values["item_id"])
        if item is None or item["gone_at"] is not None:
            return
        match record.type:
            case "FoundItemCorrected":
                _corrected(item, values, record, ("item_name", "category"))
                item["valuable"] = values["valuable"]
            case "FoundItemReceivedAtDesk":
                item["desk"], item["storage_place"] = values["desk"], values["storage_place"]
                _also(item, record)
            case "FoundItemVoided":
                item["gone_at"] = values["voided_at"]
            case "ItemDisposed":
                item["gone_at"] = values["disposed_at"]
            case _:
                item["gone_at"] = values.get("claimed_at") or values["handed_at"]

    def awaiting(self, as_of: dt.datetime, desk: str | None = None, zone: dt.tzinfo = dt.timezone.utc,
                 overdue_only: bool = False) -> list[dict]:
        today = as_of.astimezone(zone).date()
        rows = [{key: value for key, value in item.items() if key not in ("gone_at", "valuable")}
                | {"overdue": today > item["business_date"]} for item in self.items.values()
                if item["valuable"] and item["turned_in_at"] <= as_of
                and (item["gone_at"] is None or item["gone_at"] > as_of) and desk in (None, item["desk"])]
        rows = [row for row in rows if row["overdue"] or not overdue_only]
        return copy.deepcopy(sorted(rows, key=lambda row: row["positions"][0]))


class OnSpotClaimsNotFiled:
    """Team leads' on-spot claims whose form (3.5, lower half) has not reached
    the desk by the end of that day: flagged."""

    name = "on_spot_claims_not_filed"
    version = 1
    handles = frozenset({"FoundItemTurnedIn", "FoundItemClaimed", "OnSpotClaimFormFiled"})

    def __init__(self):
        self.claims: dict[str, dict] = {}
        self._codes: dict[str, str] = {}

    def apply(self, record, values: dict) -> None:
        match record.type:
            case "FoundItemTurnedIn" if values["channel"] == domain.ON_SITE:
                self._codes[values["item_id"]] = values["short_code"]
            case "FoundItemClaimed" if values["on_spot_form_due"] is not None:
                self.claims[values["item_id"]] = _traced({
                    "item_id": values["item_id"], "short_code": self._codes.get(values["item_id"], ""),
                    "claim_id": values["claim_id"], "released_by": values["released_by"],
                    "claimed_at": values["claimed_at"], "due": values["on_spot_form_due"], "filed_at": None},
                    record)
            case "OnSpotClaimFormFiled" if values["item_id"] in self.claims:
                claim = self.claims[values["item_id"]]
                claim["filed_at"] = values["filed_at"]
                _also(claim, record)

    def flagged(self, as_of: dt.datetime) -> list[dict]:
        rows = []
        for claim in self.claims.values():
            filed_at = claim["filed_at"] if claim["filed_at"] is not None and claim["filed_at"] <= as_of else None
            if claim["due"] <= as_of and (filed_at is None or filed_at > claim["due"]):
                row = copy.deepcopy(claim)
                if filed_at is None:  # the filing is after as_of: not yet known then
                    row["filed_at"] = None
                    row["positions"], row["event_ids"] = row["positions"][:1], row["event_ids"][:1]
                rows.append(row)
        return sorted(rows, key=lambda row: row["positions"][0])


class FinanceHandoverLists:
    """The monthly handover list of unclaimed items to finance (财务部), with
    what was handed over, what was withdrawn and finance's sign-off."""

    name = "finance_handover_lists"
    version = 2
    handles = frozenset({"FoundItemTurnedIn", "FinanceHandoverListDrawn", "ItemHandedToFinance",
                         "FinanceHandoverTransferred", "FinanceHandoverSignedOff", "SignatureCaptured",
                         "FoundItemCorrected"})

    def __init__(self):
        self.lists: dict[str, dict] = {}
        self._items: dict[str, dict] = {}

    def apply(self, record, values: dict) -> None:
        if record.type == "FoundItemTurnedIn":
            self._items[values["item_id"]] = {"short_code": values["short_code"], "item_name": values["item_name"],
                                              "category": values["category"],
                                              "turned_in_on": values["business_date"]}
            return
        if record.type == "FoundItemCorrected":
            if values["item_id"] in self._items:
                self._items[values["item_id"]] |= {"item_name": values["item_name"], "category": values["category"]}
            return
        if values.get("handover_id") is None:  # a signature on an item's form
            return
        handover = self.lists.get(values["handover_id"])
        match record.type:
            case "FinanceHandoverListDrawn":
                self.lists[values["handover_id"]] = {
                    "handover_id": values["handover_id"], "month": values["month"],
                    "custodian_id": values["custodian_id"], "drawn_at": values["drawn_at"],
                    "lines": {item_id: {"item_id": item_id, **self._items.get(item_id, {}), "state": "listed",
                                        **_trace(record)} for item_id in values["item_ids"]},
                    "transferred_at": None, "signed_by": None, "signer_name": None, "signed_at": None,
                    "signatures": [], **_trace(record)}
            case "ItemHandedToFinance" if handover is not None and values["item_id"] in handover["lines"]:
                line = handover["lines"][values["item_id"]]
                line["state"] = "handed_over"
                _also(line, record)
            case "FinanceHandoverTransferred" if handover is not None:
                handover["transferred_at"] = values["transferred_at"]
                for item_id in values["withdrawn_item_ids"]:
                    handover["lines"][item_id]["state"] = "withdrawn"
                    _also(handover["lines"][item_id], record)
                _also(handover, record)
            case "SignatureCaptured" if handover is not None:
                handover["signatures"].append(_signature(values, record))
            case "FinanceHandoverSignedOff" if handover is not None:
                handover |= {"signed_by": values["signed_by"], "signer_name": values["signer_name"],
                             "signed_at": values["signed_at"]}
                _also(handover, record)

    def handover(self, handover_id: str) -> dict | None:
        return _list_as_shown(self.lists.get(handover_id))


def _list_as_shown(kept: dict | None) -> dict | None:
    """A handover or disposal list as a reply: a copy, its lines (kept by item id) in order."""
    if kept is None:
        return None
    shown = copy.deepcopy(kept)
    shown["lines"] = list(shown["lines"].values())
    return shown


class DisposalLists:
    """The handover list of each disposal by another route than finance:
    to the police (公安), to the issuing bank, or destroyed before a staff
    witness; what was handed over, what was withdrawn, the sign-off and the
    signatures."""

    name = "disposal_lists"
    version = 1
    handles = frozenset({"FoundItemTurnedIn", "FoundItemCorrected", "DisposalListDrawn", "ItemDisposed",
                         "DisposalRecorded", "DisposalSignedOff", "SignatureCaptured"})

    def __init__(self):
        self.lists: dict[str, dict] = {}
        self._items: dict[str, dict] = {}

    def apply(self, record, values: dict) -> None:
        if record.type in ("FoundItemTurnedIn", "FoundItemCorrected"):
            self._items[values["item_id"]] = {"short_code": values.get("short_code") or self._items.get(
                values["item_id"], {}).get("short_code"), "item_name": values["item_name"],
                "category": values["category"], "quantity": values["quantity"]}
            return
        key = values.get("disposal_id") or values.get("handover_id")
        if record.type == "DisposalListDrawn":
            self.lists[key] = {
                **{k: values[k] for k in ("disposal_id", "route", "receiver", "custodian_id", "drawn_at")},
                "lines": {item_id: {"item_id": item_id, **self._items.get(item_id, {}), "state": "listed",
                                    **_trace(record)} for item_id in values["item_ids"]},
                "recorded_at": None, "receiver_name": None, "receiver_reference": None, "witness_id": None,
                "witness_name": None, "signed_by": None, "signed_at": None, "signatures": [], **_trace(record)}
            return
        disposal = self.lists.get(key or "")
        if disposal is None:
            return
        match record.type:
            case "ItemDisposed" if values["item_id"] in disposal["lines"]:
                line = disposal["lines"][values["item_id"]]
                line["state"] = "disposed"
                _also(line, record)
            case "DisposalRecorded":
                disposal["recorded_at"] = values["recorded_at"]
                for item_id in values["withdrawn_item_ids"]:
                    disposal["lines"][item_id]["state"] = "withdrawn"
                    _also(disposal["lines"][item_id], record)
                _also(disposal, record)
            case "DisposalSignedOff":
                disposal |= {k: values[k] for k in ("receiver_name", "receiver_reference", "witness_id",
                                                    "witness_name", "signed_by", "signed_at")}
                _also(disposal, record)
            case "SignatureCaptured" if values["part"].startswith("disposal_"):
                disposal["signatures"].append(_signature(values, record))

    def disposal(self, disposal_id: str) -> dict | None:
        return _list_as_shown(self.lists.get(disposal_id))


class ItemsOnTheWay:
    """The lead's follow-up: items sent to another desk and not received
    there, and courier returns arranged and not yet dispatched, as of a time
    (an item claimed for the courier is no longer open anywhere else)."""

    name = "items_on_the_way"
    version = 2  # 2: the moves not yet done indexed by item and kind
    handles = frozenset({"FoundItemTurnedIn", "FoundItemSentToDesk", "FoundItemReceivedAtDesk",
                         "CourierReturnArranged", "ItemDispatchedByCourier"})

    def __init__(self):
        self.codes: dict[str, str] = {}
        self.moves: list[dict] = []
        # (item id, kind) -> its moves not yet done, oldest first: an arrival finds them without a scan
        self.undone: dict[tuple[str, str], list[dict]] = {}

    def apply(self, record, values: dict) -> None:
        item_id = values["item_id"]
        match record.type:
            case "FoundItemTurnedIn":
                self.codes[item_id] = values["short_code"]
            case "FoundItemSentToDesk":
                self._move({"kind": "to_desk", "item_id": item_id, "short_code": self.codes.get(item_id, ""),
                            "from_desk": values["from_desk"], "to": values["to_desk"],
                            "since": values["sent_at"], "done_at": None, **_trace(record)})
            case "CourierReturnArranged":
                self._move({"kind": "by_courier", "item_id": item_id,
                            "short_code": self.codes.get(item_id, ""), "from_desk": None,
                            "to": values["return_id"], "since": values["arranged_at"], "done_at": None,
                            **_trace(record)})
            case "FoundItemReceivedAtDesk" | "ItemDispatchedByCourier":
                kind = "to_desk" if record.type == "FoundItemReceivedAtDesk" else "by_courier"
                done = values.get("received_at") or values["dispatched_at"]
                for move in self.undone.pop((item_id, kind), ()):
                    move["done_at"] = done
                    _also(move, record)

    def _move(self, move: dict) -> None:
        self.moves.append(move)
        self.undone.setdefault((move["item_id"], move["kind"]), []).append(move)

    def pending(self, as_of: dt.datetime) -> list[dict]:
        rows = []
        for move in self.moves:
            if move["since"] <= as_of and (move["done_at"] is None or move["done_at"] > as_of):
                row = {key: value for key, value in move.items() if key != "done_at"}
                row["positions"], row["event_ids"] = move["positions"][:1], move["event_ids"][:1]
                rows.append(row)
        return copy.deepcopy(rows)


class PublicNoticeList:
    """招领公告: the unclaimed items, for a display board or web page. Only
    what a passer-by may read: code, name, category, where and when found,
    which desk to ask at and until when; never a description, a hidden
    feature, a finder, an amount or where or by whom the item is kept."""

    name = "public_notice_list"
    version = 1
    handles = frozenset({"FoundItemTurnedIn", "FoundItemCorrected", "FoundItemReceivedAtDesk", "FoundItemClaimed",
                         "ItemHandedToFinance", "FoundItemVoided", "ItemDisposed"})
    GONE = frozenset({"FoundItemClaimed", "ItemHandedToFinance", "FoundItemVoided", "ItemDisposed"})

    def __init__(self):
        self.items: dict[str, dict] = {}

    def apply(self, record, values: dict) -> None:
        item_id = values["item_id"]
        if record.type == "FoundItemTurnedIn":
            self.items[item_id] = {
                "short_code": values["short_code"], "item_name": values["item_name"], "category": values["category"],
                "found_place": values["found_place"], "found_at": values["found_at"], "desk": values["desk"],
                "retain_until": values["retain_until"], "quantity": values["quantity"]}
        elif item_id not in self.items:
            return
        elif record.type in self.GONE:
            del self.items[item_id]
        elif record.type == "FoundItemCorrected":
            self.items[item_id] |= {key: values[key] for key in (
                "item_name", "category", "found_place", "found_at", "retain_until", "quantity")}
        elif record.type == "FoundItemReceivedAtDesk":
            self.items[item_id]["desk"] = values["desk"]

    def notices(self, zone: dt.tzinfo, desk: str | None = None, category: str | None = None,
                limit: int = 200) -> list[dict]:
        rows = [{**item, "found_on": item["found_at"].astimezone(zone).date()} for item in self.items.values()
                if desk in (None, item["desk"]) and category in (None, item["category"])]
        rows.sort(key=lambda row: (row["found_at"], row["short_code"]), reverse=True)
        return [{key: value for key, value in row.items() if key != "found_at"} for row in rows[:limit]]


FOLDS = (FoundItemForms, LostItemReportForms, LostItemSummary, GoodDeedsSummary, FoundItemReceipts,
         ItemInformationCards, ValuablesAwaitingCustody, OnSpotClaimsNotFiled, FinanceHandoverLists, DisposalLists,
         PublicNoticeList, ItemsOnTheWay)


# -- serving the forms service's RPCs ------------------------------------------------------
def _fold(projector, cls):
    return projector.fold(cls)


def serve_found_item_form(projector, request: dict) -> dict:
    position = projector.catch_up()
    form = _fold(projector, FoundItemForms).form_of(request["item_id"])
    if form is not None:
        return {**form, "as_of_position": position}
    raise NotFound(f"no found item {request['item_id']}", field="item_id")


def serve_lost_item_report_form(projector, request: dict) -> dict:
    position = projector.catch_up()
    form = _fold(projector, LostItemReportForms).form_of(request["report_id"])
    if form is None:
        raise NotFound(f"no lost-item report {request['report_id']}", field="report_id")
    return {**form, "as_of_position": position}


def _period(request: dict) -> str:
    return request["date"].isoformat() if request["date"] is not None else request["month"]


def serve_lost_item_summary(projector, request: dict) -> dict:
    position = projector.catch_up()
    summary = _fold(projector, LostItemSummary).summary(request["date"], request["month"], request["staff_id"])
    return {**summary, "period": _period(request), "staff_id": request["staff_id"], "as_of_position": position}


def serve_good_deeds_summary(projector, request: dict) -> dict:
    position = projector.catch_up()
    summary = _fold(projector, GoodDeedsSummary).summary(request["date"], request["month"], request["staff_id"])
    return {**summary, "period": _period(request), "staff_id": request["staff_id"], "as_of_position": position}


def serve_found_item_receipt(projector, request: dict) -> dict:
    position = projector.catch_up()
    receipt = _fold(projector, FoundItemReceipts).receipt(request["item_id"])
    if receipt is None:
        raise NotFound(f"no staff found-item receipt for item {request['item_id']}", field="item_id")
    return {**receipt, "as_of_position": position}


def serve_item_information_card(projector, request: dict) -> dict:
    position = projector.catch_up()
    card = _fold(projector, ItemInformationCards).card(request["item_id"], request["short_code"])
    if card is None:
        raise NotFound("no item information card for that item", field="item_id" if request["item_id"]
                       else "short_code")
    return {**card, "as_of_position": position}


def serve_valuables_awaiting_custody(projector, request: dict, zone: dt.tzinfo = dt.timezone.utc) -> dict:
    position = projector.catch_up()
    rows = _fold(projector, ValuablesAwaitingCustody).awaiting(request["as_of"], request["desk"], zone,
                                                               request.get("overdue_only", False))
    return {"as_of": request["as_of"], "rows": rows, "as_of_position": position}


def serve_on_spot_claims_not_filed(projector, request: dict) -> dict:
    position = projector.catch_up()
    return {"as_of": request["as_of"], "rows": _fold(projector, OnSpotClaimsNotFiled).flagged(request["as_of"]),
            "as_of_position": position}


def serve_finance_handover_list(projector, request: dict) -> dict:
    position = projector.catch_up()
    handover = _fold(projector, FinanceHandoverLists).handover(request["handover_id"])
    if handover is None:
        raise NotFound(f"no finance handover {request['handover_id']}", field="handover_id")
    return {**handover, "as_of_position": position}


def serve_public_notice_list(projector, request: dict, zone: dt.tzinfo) -> dict:
    position = projector.catch_up()
    fold = _fold(projector, PublicNoticeList)
    return {"form": "招领公告", "title": "招领公告 (unclaimed found items)",
            "rows": fold.notices(zone, request["desk"], request["category"], request["limit"]),
            "as_of_position": position}


def serve_disposal_list(projector, request: dict) -> dict:
    position = projector.catch_up()
    disposal = _fold(projector, DisposalLists).disposal(request["disposal_id"])
    if disposal is None:
        raise NotFound(f"no disposal {request['disposal_id']}", field="disposal_id")
    return {**disposal, "as_of_position": position}


def serve_items_on_the_way(projector, request: dict) -> dict:
    position = projector.catch_up()
    return {"as_of": request["as_of"], "rows": _fold(projector, ItemsOnTheWay).pending(request["as_of"]),
            "as_of_position": position}
