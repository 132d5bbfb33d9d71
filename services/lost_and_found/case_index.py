"""The lost_and_found service's own read model: the open cases, for matching,
for choosing the items due for finance and for the claimant's short-code
lookup. Pure; persisted with its position (``services/chassis/projection.py``)
so a restart resumes instead of replaying the year.

What it persists is the cases as recorded (a hidden feature stays sealed:
ciphertext, see ``services/privacy/protect.py``) and the analysed profiles of
the cases without hidden features (a report's, most items'); a profile made
from hidden features holds their words in clear, so those items are
analysed again after a restore. Profiles are reused only by a matcher with
the same fingerprint (vocabulary, places, weights and the analysing code):
the fold's ``version`` carries it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from services.lost_and_found import domain, matching


class CaseIndex:
    """Open cases (reports not yet matched, items neither claimed nor with
    finance) in a :class:`~services.lost_and_found.matching.MatchPool`, and
    every short code. A case leaves when it closes, so a command costs what
    the open cases cost. The items' hidden features are kept (analysed, in
    memory) for matching only: no suggestion shows them."""

    name = "case_index"
    VERSION = 4  # raise when what it keeps changes; the matcher's fingerprint is added (see the module)
    handles = frozenset({"FoundItemTurnedIn", "FoundItemClaimed", "ItemHandedToCustodian", "ItemHandedToFinance",
                         "LostItemReported", "LostReportMatched", "LostReportMatchReleased", "FoundItemCorrected",
                         "FoundItemVoided", "ItemDisposed"})

    def __init__(self, matcher: matching.Matcher | None = None, open_sealed=None):
        self._matcher = matcher
        self._pool = matching.MatchPool(matcher or matching.load_matcher())
        self.version = f"{self.VERSION}.{self._pool.matcher.fingerprint}"  # see the module
        # cases entered but not analysed yet: analysis (segmentation, the vocabulary) is the
        # dear part, and most cases of a replay close again before anyone asks, so a case is
        # analysed when the pool is next used, and only if it is still open
        self._unanalysed: dict[tuple, object] = {}
        # the plaintext of an encrypted hidden feature (services/privacy/protect.py
        # Protector.open); erased details match nothing
        self._open = open_sealed or (lambda value: value)
        self.open_items: dict[str, dict] = {}
        self.open_reports: dict[str, dict] = {}
        self.by_short_code: dict[str, str] = {}
        self.short_code_collisions: dict[str, list] = {}
        self._closed_items: set[str] = set()
        self._closed_reports: set[str] = set()
        self._cases: dict[tuple, object] = {}   # (kind, id) -> the case as recorded (hidden features sealed)
        self._matched: dict[str, tuple] = {}    # item id -> (report id, its entry, its case)

    # -- the pool, from the cases as recorded --------------------------------------------
    @property
    def matcher(self) -> matching.Matcher:
        return self._pool.matcher

    @property
    def pool(self) -> matching.MatchPool:
        """The open cases, analysed (the ones entered since its last use are analysed now)."""
        self.analyse_pending()
        return self._pool

    def analyse_pending(self, limit: int | None = None) -> int:
        """Analyse up to ``limit`` (all by default) of the cases entered but not
        analysed yet, in the order they were entered; how many are left. A
        service's warm-up calls it a little at a time after a start."""
        while self._unanalysed and limit != 0:
            (kind, case_id_), case = next(iter(self._unanalysed.items()))
            del self._unanalysed[(kind, case_id_)]
            if kind == matching.ITEM:
                opened = tuple((label, detail) for label, detail in
                               ((label, self._open(sealed)) for label, sealed in case.hidden_features)
                               if isinstance(detail, str))
                self._pool.add_item(dataclasses.replace(case, hidden_features=opened))
            else:
                self._pool.add_report(case)
            limit = None if limit is None else limit - 1
        return len(self._unanalysed)

    def _enter(self, kind: str, case) -> None:
        key = (kind, case_id(case))
        self._cases[key] = case
        self._pool.remove(*key)  # a case entered again replaces its old profile
        self._unanalysed[key] = case

    def _leave(self, kind: str, case_id_: str):
        if self._unanalysed.pop((kind, case_id_), None) is None:
            self._pool.remove(kind, case_id_)
        return self._cases.pop((kind, case_id_), None)

    def apply(self, record, values: dict) -> None:
        match record.type:
            case "FoundItemTurnedIn":
                item_id = values["item_id"]
                self._enter(matching.ITEM, matching.FoundItemCase(
                    item_id, values["item_name"], values["category"], values["description"],
                    values["found_place"], values["found_at"], tuple(map(tuple, values["hidden_features"]))))
                self.open_items[item_id] = {"item_name": values["item_name"], "category": values["category"],
                                            "place": values["found_place"], "short_code": values["short_code"],
                                            "retain_until": values["retain_until"]}
                # never overwritten: the service picks a code no item holds (domain.short_code); two
                # desks racing on one colliding code keep the first, the other is kept aside and logged
                holder = self.by_short_code.setdefault(values["short_code"], item_id)
                if holder != item_id:
                    self.short_code_collisions.setdefault(values["short_code"], []).append(item_id)
            case "FoundItemCorrected" if values["item_id"] in self.open_items:
                # matched again on what the registration says now
                item_id = values["item_id"]
                case = self._leave(matching.ITEM, item_id)
                self._enter(matching.ITEM, dataclasses.replace(case, **{key: values[key] for key in (
                    "item_name", "category", "description", "found_place", "found_at")}))
                self.open_items[item_id] |= {"item_name": values["item_name"], "category": values["category"],
                                             "place": values["found_place"], "retain_until": values["retain_until"]}
            case "FoundItemClaimed" | "ItemHandedToFinance" | "FoundItemVoided" | "ItemDisposed" \
                    if values["item_id"] in self.open_items:
                item_id = values["item_id"]
                del self.open_items[item_id]
                self._leave(matching.ITEM, item_id)
                self._closed_items.add(item_id)
                matched = self._matched.pop(item_id, None)
                if matched is not None:
                    report_id, entry, case = matched
                    if record.type != "FoundItemClaimed" or values["report_id"] != report_id:
                        # the item went to someone else or to finance: the visitor's report is open again
                        self._closed_reports.discard(report_id)
                        self.open_reports[report_id] = entry
                        self._enter(matching.REPORT, case)
            case "LostItemReported":
                self._enter(matching.REPORT, matching.LostReportCase(
                    values["report_id"], values["item_name"], values["category"], values["description"],
                    values["features"], values["lost_place"], values["lost_from"], values["lost_until"]))
                self.open_reports[values["report_id"]] = {"item_name": values["item_name"],
                                                          "category": values["category"],
                                                          "place": values["lost_place"], "short_code": None}
            case "LostReportMatched" if values["report_id"] in self.open_reports:
                report_id = values["report_id"]
                entry = self.open_reports.pop(report_id)
                case = self._leave(matching.REPORT, report_id)
                self._closed_reports.add(report_id)
                if values["item_id"] in self.open_items:
                    self._matched[values["item_id"]] = (report_id, entry, case)
            case "LostReportMatchReleased":
                # the clerk took the match back: the report is open again, the item free for another
                matched = self._matched.get(values["item_id"])
                if matched is not None and matched[0] == values["report_id"]:
                    del self._matched[values["item_id"]]
                    report_id, entry, case = matched
                    self._closed_reports.discard(report_id)
                    self.open_reports[report_id] = entry
                    self._enter(matching.REPORT, case)

    # -- persistence (services/chassis/projection.py) -------------------------------------
    def snapshot(self) -> dict:
        return {"open_items": self.open_items, "open_reports": self.open_reports,
                "by_short_code": self.by_short_code, "short_code_collisions": self.short_code_collisions,
                "closed_items": self._closed_items,
                "closed_reports": self._closed_reports, "cases": self._cases, "matched": self._matched,
                "profiles": {key: profile for key in self._cases if key not in self._unanalysed
                             and (profile := self._pool.profile(*key)) is not None and not profile.has_hidden}}

    def restore(self, state: dict) -> None:
        self.__init__(self._matcher, self._open)
        self.open_items, self.open_reports = state["open_items"], state["open_reports"]
        self.by_short_code = state["by_short_code"]
        self.short_code_collisions = state["short_code_collisions"]
        self._closed_items, self._closed_reports = state["closed_items"], state["closed_reports"]
        self._matched, profiles = state["matched"], state["profiles"]
        for key, case in state["cases"].items():
            self._cases[key] = case
            if key in profiles:
                self._pool.add(profiles[key])
            else:
                self._unanalysed[key] = case

    # -- questions --------------------------------------------------------------------------
    def knows(self, kind: str, case_id_: str) -> bool:
        """Whether such an item or report was ever recorded (open or closed)."""
        if kind == matching.ITEM:
            return case_id_ in self.open_items or case_id_ in self._closed_items
        return case_id_ in self.open_reports or case_id_ in self._closed_reports

    def unclaimed(self, item_id: str) -> bool:
        return item_id in self.open_items

    def suggestions(self, kind: str, subject_id: str, limit: int = 10) -> list[dict]:
        """Ranked candidates for an open item (open reports) or an open report
        (unclaimed items), with what a clerk needs to recognise them; none for
        a closed case."""
        others = self.open_reports if kind == matching.ITEM else self.open_items
        return [{"id": s.id, "kind": s.kind, "score": s.score, "reasons": [str(reason) for reason in s.reasons],
                 **{key: others[s.id][key] for key in ("item_name", "category", "place", "short_code")}}
                for s in self.pool.suggest(kind, subject_id, limit)]

    def short_code_holder(self, code: str) -> str | None:
        """The item a short code was given to, if any."""
        return self.by_short_code.get(code)

    def matched_report(self, item_id: str) -> str | None:
        """The open report a clerk confirmed to this unclaimed item (its
        visitor is being called in), if any."""
        matched = self._matched.get(item_id)
        return matched[0] if matched is not None else None

    def due_for_finance(self, business_date: dt.date) -> list[str]:
        """Unclaimed items kept through their ``retain_until`` (inclusive)
        and not matched to an open report."""
        return [item_id for item_id, item in self.open_items.items()
                if domain.retention_over(item["retain_until"], business_date) and item_id not in self._matched]


def case_id(case) -> str:
    return case.item_id if isinstance(case, matching.FoundItemCase) else case.report_id
