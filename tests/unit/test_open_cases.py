"""The open cases fold (services/forms/open_cases.py): what the desk's
unclaimed-items list and the lead's day show, given events."""
import datetime as dt
from types import SimpleNamespace

from services.forms.open_cases import OpenCases

AT = dt.datetime(2026, 5, 1, 2, 0, tzinfo=dt.timezone.utc)


def given(*events) -> OpenCases:
    fold = OpenCases()
    for position, (event_type, values) in enumerate(events, start=1):
        fold.apply(SimpleNamespace(type=event_type, position=position, event_id=f"e{position}"), values)
    return fold


def turned_in(item_id, desk="main-gate", valuable=True):
    return ("FoundItemTurnedIn", {"item_id": item_id, "short_code": f"LF-{item_id.upper()}", "desk": desk,
                                  "item_name": "手机", "category": "phone", "found_place": "北门", "found_at": AT,
                                  "turned_in_at": AT, "business_date": AT.date(), "valuable": valuable,
                                  "retain_until": dt.date(2026, 6, 1), "finder_name": "pd:sealed",
                                  "hidden_features": [["壁纸", "pd:sealed"]]})


def reported(report_id, desk="main-gate"):
    return ("LostItemReported", {"report_id": report_id, "desk": desk, "item_name": "手机", "category": "phone",
                                 "lost_place": "北门", "reported_at": AT, "business_date": AT.date(),
                                 "visitor_name": "pd:sealed", "visitor_phone": "pd:sealed"})


def matched(report_id, item_id):
    return ("LostReportMatched", {"report_id": report_id, "item_id": item_id, "short_code": f"LF-{item_id.upper()}",
                                  "confirmed_by": "c-017", "confirmed_at": AT})


def claimed(item_id, report_id=None):
    return ("FoundItemClaimed", {"item_id": item_id, "claim_id": "k1", "report_id": report_id, "claimed_at": AT})


def test_a_turned_in_item_is_open_and_held_until_claimed():
    fold = given(turned_in("a1"), turned_in("a2"), claimed("a1"))
    assert [row["item_id"] for row in fold.open()["items"]] == ["a2"]
    assert fold.open()["items"][0]["status"] == "held"


def test_custody_changes_the_status_and_finance_closes_the_item():
    fold = given(turned_in("a1"), turned_in("a2"),
                 ("ItemHandedToCustodian", {"item_id": "a1", "handed_at": AT, "storage_place": "保险柜"}),
                 ("ItemHandedToFinance", {"item_id": "a2", "handed_at": AT}))
    assert [(row["item_id"], row["status"]) for row in fold.open()["items"]] == [("a1", "in_custody")]


def test_lists_are_per_desk_when_asked_and_carry_no_personal_data_or_hidden_features():
    fold = given(turned_in("a1", desk="main-gate"), turned_in("b1", desk="north-gate"), reported("r1", "north-gate"))
    assert [row["item_id"] for row in fold.open("north-gate")["items"]] == ["b1"]
    assert [row["report_id"] for row in fold.open("main-gate")["reports"]] == []
    everything = repr(fold.open())
    assert "pd:sealed" not in everything and "壁纸" not in everything


def test_a_report_goes_matched_contacted_and_closes_with_its_own_claim():
    fold = given(turned_in("a1"), reported("r1"), matched("r1", "a1"),
                 ("VisitorContactTaskOpened", {"report_id": "r1", "task_id": "t1", "item_id": "a1", "opened_at": AT}))
    report = fold.open()["reports"][0]
    assert (report["status"], report["matched_short_code"], report["contact_task_open"]) == ("matched", "LF-A1", True)
    assert fold.open()["items"][0]["matched_report_id"] == "r1"
    fold.apply(SimpleNamespace(type="VisitorContacted", position=9, event_id="e9"),
               {"report_id": "r1", "task_id": "t1", "outcome": "reached", "task_closed": True, "contacted_at": AT})
    assert (fold.open()["reports"][0]["status"], fold.open()["reports"][0]["contact_task_open"]) == ("contacted", False)
    fold.apply(SimpleNamespace(type="FoundItemClaimed", position=10, event_id="e10"), claimed("a1", "r1")[1])
    assert fold.open() == {"items": [], "reports": []}


def test_a_call_that_did_not_reach_the_visitor_keeps_the_task_open():
    fold = given(turned_in("a1"), reported("r1"), matched("r1", "a1"),
                 ("VisitorContactTaskOpened", {"report_id": "r1", "task_id": "t1", "item_id": "a1", "opened_at": AT}),
                 ("VisitorContacted", {"report_id": "r1", "task_id": "t1", "outcome": "no_answer",
                                       "task_closed": False, "contacted_at": AT}))
    assert (fold.open()["reports"][0]["status"], fold.open()["reports"][0]["contact_task_open"]) == ("matched", True)


def test_a_report_whose_item_went_to_someone_else_is_open_again_unmatched():
    fold = given(turned_in("a1"), reported("r1"), matched("r1", "a1"), claimed("a1", report_id=None))
    report = fold.open()["reports"][0]
    assert (report["status"], report["matched_item_id"]) == ("reported", None)


def test_a_short_code_finds_its_item_in_any_case_open_or_not():
    fold = given(turned_in("a1"), claimed("a1"))
    assert fold.find("lf-a1") == {"item_id": "a1", "short_code": "LF-A1", "open": False}
    assert fold.find("LF-ZZZZZZ") is None


def test_a_voided_or_disposed_item_leaves_the_list_and_a_correction_shows():
    fold = given(turned_in("a1"), turned_in("a2"), turned_in("a3"),
                 ("FoundItemVoided", {"item_id": "a1", "reason": "duplicate"}),
                 ("ItemDisposed", {"item_id": "a2", "route": "police"}),
                 ("FoundItemCorrected", {"item_id": "a3", "item_name": "钱包", "category": "wallet",
                                         "found_place": "南门", "found_at": AT, "valuable": True,
                                         "retain_until": dt.date(2026, 6, 2)}),
                 ("FoundItemReceivedAtDesk", {"item_id": "a3", "desk": "north-gate", "from_desk": "main-gate"}))
    assert [(r["item_id"], r["item_name"], r["category"], r["desk"]) for r in fold.open()["items"]] == [
        ("a3", "钱包", "wallet", "north-gate")]


def test_a_released_match_opens_the_report_again():
    fold = given(turned_in("a1"), reported("r1"), matched("r1", "a1"),
                 ("LostReportMatchReleased", {"report_id": "r1", "item_id": "a1", "closed_task_id": None}))
    assert (fold.open()["reports"][0]["status"], fold.open()["items"][0]["matched_report_id"]) == ("reported", None)


def released(report_id, item_id):
    return ("LostReportMatchReleased", {"report_id": report_id, "item_id": item_id, "released_at": AT})


def test_a_report_matched_anew_follows_its_new_item_not_the_one_it_left():
    # r1 matched to a1, released, matched to a2; a1 goes to someone else: r1 stays matched to a2
    fold = given(turned_in("a1"), turned_in("a2"), reported("r1"), matched("r1", "a1"), released("r1", "a1"),
                 matched("r1", "a2"), claimed("a1"))
    report = fold.open()["reports"][0]
    assert (report["status"], report["matched_item_id"]) == ("matched", "a2")
    # now a2 goes to someone else: r1 is open again, to be matched anew
    fold.apply(SimpleNamespace(type="FoundItemClaimed", position=20, event_id="e20"), claimed("a2")[1])
    report = fold.open()["reports"][0]
    assert (report["status"], report["matched_item_id"], report["matched_short_code"]) == ("reported", None, None)
    assert fold.matched_to == {}


def test_a_report_closed_by_its_own_claim_leaves_no_match_behind():
    fold = given(turned_in("a1"), reported("r1"), reported("r2"), matched("r1", "a1"), claimed("a1", "r1"))
    assert [row["report_id"] for row in fold.open()["reports"]] == ["r2"]
    assert fold.matched_to == {}
