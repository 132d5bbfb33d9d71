"""Lost-and-found forms (3.3-3.10 and the checklists) rebuilt from a log made
by the real decider through the chassis, then replayed into the folds."""
import dataclasses
import datetime as dt

import pytest

import contracts
from services.chassis.buckets import Buckets
from services.chassis.codec import EventCodec
from services.chassis.commands import execute
from services.chassis.decider import NotFound
from services.chassis.projection import replay
from services.eventstore import open_store
from services.lost_and_found import domain as d
from services.lost_and_found import forms as f
from services.lost_and_found.case_index import CaseIndex

CST = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 5, 1, 10, 0, tzinfo=CST)
DAY = T0.date()
END_OF_DAY = dt.datetime(2026, 5, 2, tzinfo=CST)
SECRET = "SN-SECRET-77"
KEY = "hmac-of-the-claimants-id-number"


def at(hours=0.0, days=0):
    return T0 + dt.timedelta(hours=hours, days=days)


def turn_in(item_id, **changes):
    base = d.TurnInFoundItem(
        item_id=item_id, desk="main-gate", channel=d.DESK_VISITOR, item_name="black phone", category="phone",
        description="black smartphone, blue case", found_place="north gate", found_at=at(-1), finder_kind="visitor",
        finder_id=None, finder_name="路人甲", finder_phone="13900000000", finder_department=None,
        registered_by="c-017", registered_by_role=d.CLERK, storage_place="desk drawer 2", at=T0, business_date=DAY,
        hidden_features=(("serial number", SECRET), ("wallpaper", "grey cat")),
        valuable_categories=frozenset({"phone", "wallet", "camera"}))
    return dataclasses.replace(base, **changes)


@pytest.fixture
def log(tmp_path):
    """A day at the desk; returns the store."""
    store = open_store(f"sqlite:///{tmp_path}/events.db", validator=contracts.registry)
    codec = EventCodec(contracts.registry, d.EVENTS)

    def run(stream, command, when=None):
        return execute(store, codec, d, stream, command, occurred_at=when or command.at, metadata={})

    item = d.item_stream
    # a visitor turns in a phone; a visitor reported it lost; matched, called, verified, claimed
    run(item("v-phone"), turn_in("v-phone"))
    run(d.report_stream("r-1"), d.ReportLostItem(
        "r-1", "main-gate", "black phone", "phone", "black smartphone", "blue case", "north gate", at(-3), at(-2),
        "韩梅梅", "13800000000", "c-017", at(0.5), DAY))
    run(d.report_stream("r-1"), d.ConfirmMatch("r-1", d.ItemFacts("v-phone", d.short_code("v-phone"), d.HELD),
                                               "task-1", "c-017", at(0.6)))
    run(d.report_stream("r-1"), d.RecordVisitorContact("r-1", "task-1", "c-017", d.REACHED, at(0.7)))
    run(item("v-phone"), d.RecordClaimVerification("v-phone", "v-1", "my phone, cat wallpaper", ("wallpaper",),
                                                   True, d.OWNER, "c-017", d.CLERK, at(1), claimant_key=KEY))
    run(item("v-phone"), d.ClaimItem("v-phone", "claim-1", "v-1", d.REPORTED, "韩梅梅", "13800000000",
                                     "resident_id", "110101199001011234", "c-017", d.CLERK, at(1.5), DAY, KEY,
                                     report_id="r-1", report=d.ReportFacts("r-1", "v-phone")))
    # staff turn in an umbrella at the desk (good deed, receipt)
    run(item("s-umbrella"), turn_in("s-umbrella", channel=d.DESK_STAFF, finder_kind="staff", finder_id="s-101",
                                    finder_name="李雷", finder_phone=None, finder_department="security",
                                    category="umbrella", item_name="red umbrella", hidden_features=(), at=at(2)))
    # on site: a team lead registers a wallet with a witness and releases it on the spot
    run(item("o-wallet"), turn_in("o-wallet", channel=d.ON_SITE, finder_kind="staff", finder_id="s-102",
                                  finder_name="王五", finder_department="rides", category="wallet",
                                  item_name="brown wallet", registered_by="tl-3", registered_by_role=d.TEAM_LEAD,
                                  witness_id="s-205", witness_name="张三", owner_urgent=True, at=at(3)))
    run(item("o-wallet"), d.RecordClaimVerification("o-wallet", "v-2", "brown wallet with my card",
                                                    ("serial number",), True, d.OWNER, "tl-3", d.TEAM_LEAD,
                                                    at(3.2), claimant_key=KEY))
    run(item("o-wallet"), d.ClaimItem("o-wallet", "claim-2", "v-2", d.ON_SPOT, "赵六", "13700000000",
                                      "passport", "E12345678", "tl-3", d.TEAM_LEAD, at(3.5), DAY, KEY,
                                      on_spot_form_due=END_OF_DAY))
    # a camera stays unclaimed and goes to the custodian in the evening
    run(item("v-camera"), turn_in("v-camera", category="camera", item_name="silver camera", at=at(4)))
    run(item("v-camera"), d.HandToCustodian("v-camera", "c-017", "k-1", "safe 1", at(8), desk="main-gate"))
    # next day: another report, received by another clerk
    run(d.report_stream("r-2"), d.ReportLostItem(
        "r-2", "south-gate", "blue bag", "bag", "blue backpack", "a keyring", "south lake", at(days=1, hours=-2),
        at(days=1, hours=-1), "孙七", "13600000000", "c-020", at(days=1), DAY + dt.timedelta(days=1)))
    # forty days on: the umbrella goes to finance; finance signs off
    later, later_day = at(days=40), DAY + dt.timedelta(days=40)
    run(d.handover_stream("h-1"), d.DrawFinanceHandoverList(
        "h-1", "2026-06", "k-1", (d.HandoverLine("s-umbrella", d.HELD, DAY + dt.timedelta(days=30)),),
        later, later_day))
    run(item("s-umbrella"), d.HandItemToFinance("s-umbrella", "h-1", "k-1", later, later_day))
    run(d.handover_stream("h-1"), d.RecordFinanceTransfer("h-1", ("s-umbrella",), (), later))
    run(d.handover_stream("h-1"), d.SignOffFinanceHandover("h-1", "f-1", "王会计", at(days=41)))
    yield store
    store.close()


@pytest.fixture
def folds(log):
    return replay(log, contracts.registry, f.FOLDS)


def records_at(store, positions):
    return [next(store.read_all(after=p - 1, until=p)) for p in positions]


def assert_traced(store, part, key, value):
    """Every event a part names exists and is about the same thing."""
    assert part["positions"], "a part without its events"
    recs = records_at(store, part["positions"])
    assert [r.event_id for r in recs] == part["event_ids"]
    for record in recs:
        assert record.data.get(key) == value or value in record.data.get("item_ids", ()), record


def test_the_visitor_found_item_form_3_3_has_registration_verification_and_claim_traced_to_events(log, folds):
    form = folds.fold(f.FoundItemForms).form_of("v-phone")
    assert (form["form"], form["title"]) == ("3.3", "游客拾物登记、认领表")
    reg = form["registration"]
    assert (reg["finder_name"], reg["storage_place"], reg["hidden_features_recorded"]) == ("路人甲", "desk drawer 2", 2)
    assert form["verifications"][0]["matched_features"] == ["wallpaper"]
    claim = form["claim"]
    assert (claim["claimant_name"], claim["claimant_id_type"], claim["report_id"]) == ("韩梅梅", "resident_id", "r-1")
    for part in (reg, form["verifications"][0], claim):
        assert_traced(log, part, "item_id", "v-phone")
    assert [r.type for r in records_at(log, claim["positions"])] == ["FoundItemClaimed"]


def test_no_form_shows_a_hidden_feature_detail(folds):
    everything = repr([fold.__dict__ for fold in folds.folds])
    assert SECRET not in everything and "grey cat" not in everything


def test_the_staff_found_item_form_3_4_carries_the_receipt_number(log, folds):
    form = folds.fold(f.FoundItemForms).form_of("s-umbrella")
    assert form["form"] == "3.4"
    assert form["registration"]["receipt_no"] == d.receipt_no("s-umbrella")
    assert [r.type for r in records_at(log, form["registration"]["positions"])] == \
        ["FoundItemTurnedIn", "FoundItemReceiptIssued"]
    assert form["finance"]["handover_id"] == "h-1"


def test_the_on_site_form_3_5_names_the_team_lead_witness_and_the_claim_not_yet_filed(log, folds):
    form = folds.fold(f.FoundItemForms).form_of("o-wallet")
    assert form["form"] == "3.5" and form["title"] == "员工现场拾物登记表、认领表"
    reg = form["registration"]
    assert (reg["registered_by"], reg["registered_by_role"], reg["witness_id"], reg["owner_urgent"]) == \
        ("tl-3", d.TEAM_LEAD, "s-205", True)
    assert (form["claim"]["released_by_role"], form["claim"]["on_spot_form_due"], form["claim"]["filed_at_desk"]) \
        == (d.TEAM_LEAD, END_OF_DAY, None)


def test_the_lost_item_report_3_6_shows_the_match_the_calls_and_the_return(log, folds):
    form = folds.fold(f.LostItemReportForms).form_of("r-1")
    assert (form["form"], form["visitor_phone"], form["matched_short_code"]) == \
        ("3.6", "13800000000", d.short_code("v-phone"))
    assert [c["outcome"] for c in form["contacts"]] == [d.REACHED] and form["contact_task_open"] is False
    assert form["returned_at"] == at(1.5)
    types = [r.type for r in records_at(log, form["positions"])]
    assert types == ["LostItemReported", "LostReportMatched", "VisitorContactTaskOpened", "VisitorContacted",
                     "FoundItemClaimed"]


def test_the_lost_item_summary_3_7_per_day_month_and_clerk(folds):
    summary = folds.fold(f.LostItemSummary)
    day = summary.summary(date=DAY)
    assert [(r["report_id"], r["status"]) for r in day["rows"]] == [("r-1", "returned")]
    # each stage reached counts (r-1 was matched, contacted and returned), not only where it stands now
    assert day["totals"] == {"reported": 1, "matched": 1, "contacted": 1, "returned": 1}
    assert day["rows"][0]["stages"] == ["matched", "contacted", "returned"]
    assert [r["report_id"] for r in summary.summary(month="2026-05")["rows"]] == ["r-1", "r-2"]
    assert [r["report_id"] for r in summary.summary(month="2026-05", staff_id="c-020")["rows"]] == ["r-2"]
    assert summary.summary(month="2026-04")["rows"] == []


def test_the_good_deeds_summary_3_8_counts_staff_finds_at_the_desk_and_on_site(log, folds):
    summary = folds.fold(f.GoodDeedsSummary)
    rows = summary.summary(date=DAY)["rows"]
    assert [(r["staff_id"], r["kind"], r["returned_to_owner"]) for r in rows] == \
        [("s-101", "desk", False), ("s-102", "on_site", True)]
    assert summary.summary(month="2026-05")["per_staff"] == {"s-101": 1, "s-102": 1}
    assert [r["item_id"] for r in summary.summary(month="2026-05", staff_id="s-102")["rows"]] == ["o-wallet"]
    assert [r.type for r in records_at(log, rows[1]["positions"])] == \
        ["FoundItemTurnedIn", "FoundItemReceiptIssued", "FoundItemClaimed"]


def test_the_staff_found_item_receipt_3_9_is_issued_for_staff_finds_only(folds):
    receipts = folds.fold(f.FoundItemReceipts)
    receipt = receipts.receipt("s-umbrella")
    assert (receipt["title"], receipt["finder_name"], receipt["good_deed"]) == ("员工拾到物品回执", "李雷", "desk")
    assert receipts.receipt("v-phone") is None


def test_the_item_information_card_3_10_has_code_and_qr_and_no_personal_data(log, folds):
    cards = folds.fold(f.ItemInformationCards)
    card = cards.card(short_code=d.short_code("v-camera"))
    assert (card["item_id"], card["qr_payload"], card["storage_place"]) == \
        ("v-camera", "vsc:found-item:v-camera", "safe 1")
    assert "路人甲" not in repr(card) and "13900000000" not in repr(card)
    assert [r.type for r in records_at(log, card["positions"])] == \
        ["FoundItemTurnedIn", "ItemInformationCardIssued", "ItemHandedToCustodian"]
    assert cards.card(item_id="s-umbrella") is None  # staff desk turn-ins get a receipt, not a card


def test_valuables_awaiting_custody_as_of_a_time(folds):
    checklist = folds.fold(f.ValuablesAwaitingCustody)
    assert [r["item_id"] for r in checklist.awaiting(at(1))] == ["v-phone"]
    assert [r["item_id"] for r in checklist.awaiting(at(4.5))] == ["v-camera"]
    assert checklist.awaiting(at(9)) == []
    assert checklist.awaiting(at(4.5), desk="south-gate") == []


def test_an_on_spot_claim_not_filed_by_the_end_of_that_day_is_flagged(folds):
    flagged = folds.fold(f.OnSpotClaimsNotFiled)
    assert flagged.flagged(at(6)) == []
    [row] = flagged.flagged(END_OF_DAY + dt.timedelta(minutes=1))
    assert (row["item_id"], row["released_by"], row["filed_at"]) == ("o-wallet", "tl-3", None)


def test_a_form_filed_in_time_is_not_flagged():
    fold = f.OnSpotClaimsNotFiled()

    @dataclasses.dataclass
    class Rec:
        type: str
        position: int
        event_id: str = "e"

    fold.apply(Rec("FoundItemTurnedIn", 1), {"channel": d.ON_SITE, "item_id": "i", "short_code": "LF-AAAAAA"})
    fold.apply(Rec("FoundItemClaimed", 2), {"item_id": "i", "claim_id": "c", "released_by": "tl",
                                            "claimed_at": at(1), "on_spot_form_due": END_OF_DAY})
    fold.apply(Rec("OnSpotClaimFormFiled", 3), {"item_id": "i", "filed_at": at(5)})
    assert fold.flagged(END_OF_DAY + dt.timedelta(hours=1)) == []


def test_the_finance_handover_list_shows_each_item_and_the_sign_off(log, folds):
    handover = folds.fold(f.FinanceHandoverLists).handover("h-1")
    assert [(line["item_id"], line["state"], line["item_name"]) for line in handover["lines"]] == \
        [("s-umbrella", "handed_over", "red umbrella")]
    assert (handover["signed_by"], handover["signer_name"]) == ("f-1", "王会计")
    assert [r.type for r in records_at(log, handover["lines"][0]["positions"])] == \
        ["FinanceHandoverListDrawn", "ItemHandedToFinance"]


def test_forms_replayed_as_of_an_earlier_position_show_the_past(log):
    position_before_claim = next(r.position for r in log.read_all() if r.type == "FoundItemClaimed") - 1
    past = replay(log, contracts.registry, f.FOLDS, as_of_position=position_before_claim)
    assert past.fold(f.FoundItemForms).form_of("v-phone")["claim"] is None


def test_every_row_of_every_form_names_events_that_exist(log, folds):
    def parts(value):
        if isinstance(value, Buckets):  # a fold's rows in buckets (services/chassis/buckets.py)
            value = dict(value.items())
        if isinstance(value, dict):
            if "positions" in value:
                yield value
            for inner in value.values():
                yield from parts(inner)
        elif isinstance(value, list):
            for inner in value:
                yield from parts(inner)

    found = list(parts([fold.__dict__ for fold in folds.folds]))
    assert len(found) > 20
    for part in found:
        assert [r.event_id for r in records_at(log, part["positions"])] == part["event_ids"]


def test_the_serving_functions_refuse_unknown_ids(folds):
    with pytest.raises(NotFound):
        f.serve_found_item_form(folds, {"item_id": "nope"})
    assert f.serve_found_item_form(folds, {"item_id": "o-wallet"})["form"] == "3.5"


def test_the_case_index_suggests_open_reports_and_unclaimed_items(log):
    index = replay(log, contracts.registry, [CaseIndex]).fold(CaseIndex)
    assert index.by_short_code[d.short_code("v-camera")] == "v-camera"
    assert "v-phone" not in [s["id"] for s in index.suggestions("report", "r-1")]  # claimed
    # kept until DAY+30 means through DAY+30: due from the day after; the camera, not the claimed ones
    assert index.due_for_finance(DAY + dt.timedelta(days=30)) == []
    assert index.due_for_finance(DAY + dt.timedelta(days=31)) == ["v-camera"]


# -- issue 10: links between streams, the custody flag, retention on the card, short codes -------------
@pytest.fixture
def relinked(tmp_path):
    """rP is matched to p7 and called; p7 goes to another claimant; rP is matched to p8 and returned by its
    own claim. A third report rQ is matched to an item that goes to finance. Returns the store."""
    store = open_store(f"sqlite:///{tmp_path}/relinked.db", validator=contracts.registry)
    codec = EventCodec(contracts.registry, d.EVENTS)

    def run(stream, command):
        return execute(store, codec, d, stream, command, occurred_at=command.at, metadata={})

    def report(report_id, when):
        run(d.report_stream(report_id), d.ReportLostItem(
            report_id, "main-gate", "black phone", "phone", "black smartphone", "blue case", "north gate",
            at(-3), at(-2), "韩梅梅", "13800000000", "c-017", when, DAY))

    def claim(item_id, claim_id, when, report_id=None, key=KEY):
        run(d.item_stream(item_id), d.RecordClaimVerification(item_id, f"v-{claim_id}", "mine", ("wallpaper",),
                                                              True, d.OWNER, "c-017", d.CLERK, when,
                                                              claimant_key=key))
        run(d.item_stream(item_id), d.ClaimItem(
            item_id, claim_id, f"v-{claim_id}", d.REPORTED if report_id else d.UNREPORTED, "某人", "13800000000",
            "resident_id", "110101199001011234", "c-017", d.CLERK, when + dt.timedelta(minutes=5), DAY, key,
            report_id=report_id, report=d.ReportFacts(report_id, item_id) if report_id else None))

    for item_id in ("p7", "p8"):
        run(d.item_stream(item_id), turn_in(item_id))
    report("rP", at(0.5))
    run(d.report_stream("rP"), d.ConfirmMatch("rP", d.ItemFacts("p7", d.short_code("p7"), d.HELD), "task-1",
                                              "c-017", at(0.6)))
    run(d.report_stream("rP"), d.RecordVisitorContact("rP", "task-1", "c-017", d.REACHED, at(0.7)))
    claim("p7", "claim-other", at(1), key="someone-else")           # p7 goes to someone else
    run(d.report_stream("rP"), d.ConfirmMatch(
        "rP", d.ItemFacts("p8", d.short_code("p8"), d.HELD), "task-2", "c-017", at(2),
        d.ItemFacts("p7", d.short_code("p7"), d.CLAIMED)))
    claim("p8", "claim-own", at(3), report_id="rP")
    # rQ: matched to an umbrella that then goes to finance
    run(d.item_stream("u1"), turn_in("u1", category="umbrella", item_name="red umbrella", hidden_features=()))
    report("rQ", at(0.5))
    run(d.report_stream("rQ"), d.ConfirmMatch("rQ", d.ItemFacts("u1", d.short_code("u1"), d.HELD), "task-3",
                                              "c-017", at(0.6)))
    later = DAY + dt.timedelta(days=31)
    run(d.item_stream("u1"), d.HandItemToFinance("u1", "h-9", "k-1", at(days=31), later))
    yield store
    store.close()


def test_a_report_shows_returned_only_when_its_own_claim_returned_the_item(relinked):
    folds = replay(relinked, contracts.registry, f.FOLDS)
    reports = folds.fold(f.LostItemReportForms)
    rp = reports.form_of("rP")
    assert (rp["matched_item_id"], rp["returned_at"]) == ("p8", at(3) + dt.timedelta(minutes=5))
    [released] = rp["released_matches"]
    assert (released["item_id"], released["why"]) == ("p7", "claimed_by_another")
    rq = reports.form_of("rQ")
    assert (rq["matched_item_id"], rq["returned_at"], rq["contact_task_open"]) == (None, None, False)
    assert [m["why"] for m in rq["released_matches"]] == ["handed_to_finance"]


def test_the_summary_counts_each_stage_reached_and_a_released_report_is_open_again(relinked):
    summary = replay(relinked, contracts.registry, f.FOLDS).fold(f.LostItemSummary).summary(date=DAY)
    rows = {row["report_id"]: row for row in summary["rows"]}
    assert (rows["rP"]["status"], rows["rP"]["stages"]) == ("returned", ["matched", "contacted", "returned"])
    assert (rows["rQ"]["status"], rows["rQ"]["stages"]) == ("reported", ["matched"])
    assert summary["totals"] == {"reported": 2, "matched": 2, "contacted": 1, "returned": 1}


def test_a_report_whose_item_went_elsewhere_is_suggested_again(relinked):
    index = replay(relinked, contracts.registry, [CaseIndex]).fold(CaseIndex)
    assert index.knows("report", "rQ") and "rQ" in index.open_reports
    assert "rP" not in index.open_reports and index.matched_report("p8") is None


def test_an_item_matched_to_an_open_report_is_not_due_for_finance(log):
    index = replay(log, contracts.registry, [CaseIndex]).fold(CaseIndex)
    record = type("R", (), {"type": "LostReportMatched", "position": 999, "event_id": "e"})
    index.open_reports["r-x"] = {"item_name": "camera", "category": "camera", "place": "x", "short_code": None}
    index.apply(record, {"report_id": "r-x", "item_id": "v-camera", "short_code": d.short_code("v-camera")})
    assert index.matched_report("v-camera") == "r-x"
    assert index.due_for_finance(DAY + dt.timedelta(days=31)) == []


def test_a_colliding_short_code_never_overwrites_the_first_item(log):
    index = replay(log, contracts.registry, [CaseIndex]).fold(CaseIndex)
    code = d.short_code("v-camera")
    record = type("R", (), {"type": "FoundItemTurnedIn", "position": 999, "event_id": "e"})
    values = {"item_id": "intruder", "item_name": "x", "category": "other", "description": "x", "found_place": "x",
              "found_at": at(), "hidden_features": [], "short_code": code, "retain_until": DAY}
    index.apply(record, values)
    assert index.short_code_holder(code) == "v-camera"
    assert index.short_code_collisions == {code: ["intruder"]}


def test_the_custody_checklist_flags_a_valuable_still_at_the_desk_after_its_local_day(folds):
    checklist = folds.fold(f.ValuablesAwaitingCustody)
    [phone] = checklist.awaiting(at(1), zone=CST)
    assert phone["overdue"] is False
    # the camera was handed over at 18:00; a phone turned in at 23:00 local and left overnight is flagged
    # at 07:30 local the next morning (23:30 UTC: still the same UTC date)
    fold = f.ValuablesAwaitingCustody()

    @dataclasses.dataclass
    class Rec:
        type: str
        position: int
        event_id: str = "e"

    evening = dt.datetime(2026, 5, 1, 23, 0, tzinfo=CST)
    fold.apply(Rec("FoundItemTurnedIn", 1), {
        "valuable": True, "item_id": "i", "short_code": "LF-AAAAAA", "desk": "main-gate", "item_name": "phone",
        "category": "phone", "registered_by": "c-017", "storage_place": "drawer", "turned_in_at": evening,
        "business_date": dt.date(2026, 5, 1)})
    morning = dt.datetime(2026, 5, 2, 7, 30, tzinfo=CST).astimezone(dt.timezone.utc)
    assert [row["overdue"] for row in fold.awaiting(morning, zone=CST)] == [True]
    assert fold.awaiting(evening + dt.timedelta(minutes=30), zone=CST, overdue_only=True) == []
    assert [row["item_id"] for row in fold.awaiting(morning, zone=CST, overdue_only=True)] == ["i"]


def test_the_card_states_that_kept_until_is_inclusive(folds):
    card = folds.fold(f.ItemInformationCards).card(item_id="v-camera")
    assert (card["retain_until"], card["disposal_from"]) == (DAY + dt.timedelta(days=30), DAY + dt.timedelta(days=31))
    assert "inclusive" in card["retention_note"] and "含当日" in card["retention_note"]


def test_a_report_whose_item_was_voided_or_disposed_is_open_again():
    @dataclasses.dataclass
    class Rec:
        type: str
        position: int
        event_id: str = "e"

    for gone, values in (("FoundItemVoided", {"voided_at": at(2)}), ("ItemDisposed", {"disposed_at": at(2)})):
        form, summary = f.LostItemReportForms(), f.LostItemSummary()
        reported = {"report_id": "r", "desk": "d", "item_name": "x", "category": "other", "description": "x",
                    "features": "x", "lost_place": "x", "lost_from": at(-2), "lost_until": at(-1),
                    "visitor_name": "v", "visitor_phone": "1", "received_by": "c", "reported_at": at(),
                    "business_date": DAY}
        for fold in (form, summary):
            fold.apply(Rec("LostItemReported", 1), reported)
            fold.apply(Rec("LostReportMatched", 2), {"report_id": "r", "item_id": "i", "short_code": "LF-AAAAAA"})
            fold.apply(Rec(gone, 3), {"item_id": "i", **values})
        report = form.form_of("r")
        assert (report["matched_item_id"], report["returned_at"]) == (None, None)
        assert report["released_matches"][0]["why"] == {"FoundItemVoided": "voided", "ItemDisposed": "disposed"}[gone]
        assert summary.summary(date=DAY)["rows"][0]["status"] == "reported"


def test_a_released_match_reopens_the_report_on_the_forms_and_in_the_index(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/released.db", validator=contracts.registry)
    codec = EventCodec(contracts.registry, d.EVENTS)

    def run(stream, command):
        return execute(store, codec, d, stream, command, occurred_at=command.at, metadata={})

    run(d.item_stream("p7"), turn_in("p7"))
    run(d.report_stream("rP"), d.ReportLostItem(
        "rP", "main-gate", "black phone", "phone", "black smartphone", "blue case", "north gate", at(-3), at(-2),
        "韩梅梅", "13800000000", "c-017", at(0.5), DAY))
    run(d.report_stream("rP"), d.ConfirmMatch("rP", d.ItemFacts("p7", d.short_code("p7"), d.HELD), "task-1",
                                              "c-017", at(0.6)))
    run(d.report_stream("rP"), d.ReleaseMatch("rP", "not theirs", "c-017", at(1),
                                              d.ItemFacts("p7", d.short_code("p7"), d.HELD)))
    folds = replay(store, contracts.registry, [*f.FOLDS, CaseIndex])
    form = folds.fold(f.LostItemReportForms).form_of("rP")
    assert (form["matched_item_id"], form["contact_task_open"]) == (None, False)
    assert [m["why"] for m in form["released_matches"]] == ["released_by_clerk"]
    row = folds.fold(f.LostItemSummary).summary(date=DAY)["rows"][0]
    assert (row["status"], row["stages"]) == ("reported", ["matched"])
    index = folds.fold(CaseIndex)
    assert "rP" in index.open_reports and index.matched_report("p7") is None
    assert index.due_for_finance(DAY + dt.timedelta(days=31)) == ["p7"]
    store.close()
