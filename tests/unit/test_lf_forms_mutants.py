"""Lost and found's paper forms, lists and replies, pinned field by field
(issue 10: the mutants of services/lost_and_found/forms.py). Each log is
written by the real decider through the chassis and replayed into the folds
as the forms service does; a form is then read as the clerk, the lead, the
custodian or finance reads it: every field, every boundary of an "as of"
list, and the events each part names."""
import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

import contracts
from services.chassis.codec import EventCodec
from services.chassis.commands import execute
from services.chassis.decider import NotFound
from services.chassis.projection import replay
from services.eventstore import open_store
from services.lost_and_found import domain as d
from services.lost_and_found import forms as f
from tests.unit.test_lost_and_found_forms import CST, DAY, END_OF_DAY, KEY, T0, at, turn_in

UTC = dt.timezone.utc
VALUABLES = frozenset({"phone", "wallet", "camera", "cash"})
IMAGE = "sha256:" + "ab" * 32   # the reference the desk screen stored for a signature image


class Desk:
    """A log the real decider writes through the chassis; each step returns its stored events."""

    def __init__(self, path):
        self.store = open_store(f"sqlite:///{path}", validator=contracts.registry)
        self.codec = EventCodec(contracts.registry, d.EVENTS)

    def run(self, stream: str, command) -> tuple:
        return execute(self.store, self.codec, d, stream, command, occurred_at=command.at, metadata={}).events

    def item(self, command) -> tuple:
        return self.run(d.item_stream(getattr(command, "item_id", None) or command.document_id), command)

    def report(self, command) -> tuple:
        return self.run(d.report_stream(command.report_id), command)

    def handover(self, command) -> tuple:
        return self.run(d.handover_stream(getattr(command, "handover_id", None) or command.document_id), command)

    def disposal(self, command) -> tuple:
        return self.run(d.disposal_stream(getattr(command, "disposal_id", None) or command.document_id), command)

    def folds(self, classes=f.FOLDS):
        return replay(self.store, contracts.registry, classes)

    def head(self) -> int:
        return self.store.head().position


@pytest.fixture
def desk(tmp_path):
    desk = Desk(tmp_path / "events.db")
    yield desk
    desk.store.close()


def one(events, event_type):
    [event] = [e for e in events if e.type == event_type]
    return event


def trace(*events) -> dict:
    """The positions and event ids a part of a form names, in order."""
    return {"positions": [e.position for e in events], "event_ids": [e.event_id for e in events]}


def verify(item_id, verification_id, when, features=("wallpaper",), by="c-017", role=d.CLERK, key=KEY,
           description="my phone, cat wallpaper"):
    return d.RecordClaimVerification(item_id, verification_id, description, features, True, d.OWNER, by, role,
                                     when, claimant_key=key)


def claim(item_id, claim_id, verification_id, when, **changes):
    base = d.ClaimItem(item_id, claim_id, verification_id, d.UNREPORTED, "韩梅梅", "13800000000", "resident_id",
                       "110101199001011234", "c-017", d.CLERK, when, when.astimezone(CST).date(), KEY)
    return dataclasses.replace(base, **changes)


def report(report_id, when, received_by="c-017", **changes):
    base = d.ReportLostItem(report_id, "main-gate", "black phone", "phone", "black smartphone", "blue case",
                            "north gate", at(-3), at(-2), "韩梅梅", "13800000000", received_by, when,
                            when.astimezone(CST).date())
    return dataclasses.replace(base, **changes)


def held(item_id, status=d.HELD, **more):
    return d.ItemFacts(item_id, d.short_code(item_id), status, **more)


def staff_turn_in(item_id, **changes):
    return turn_in(item_id, **{"channel": d.DESK_STAFF, "finder_kind": "staff", "finder_id": "s-101",
                               "finder_name": "李雷", "finder_phone": None, "finder_department": "security",
                               "category": "umbrella", "item_name": "red umbrella", "hidden_features": (),
                               **changes})


def on_site_turn_in(item_id, **changes):
    return turn_in(item_id, **{"channel": d.ON_SITE, "finder_kind": "staff", "finder_id": "s-102",
                               "finder_name": "王五", "finder_department": "rides", "category": "wallet",
                               "item_name": "brown wallet", "registered_by": "tl-3",
                               "registered_by_role": d.TEAM_LEAD, "witness_id": "s-205", "witness_name": "张三",
                               "owner_urgent": True, **changes})


# -- the forms service's replies: the fold's answer, the position it stands at, or not found ----------------
@pytest.fixture
def served(desk):
    """One item of each channel, a report, an on-spot claim, a handover to finance and a disposal."""
    desk.item(turn_in("v-phone"))
    desk.item(staff_turn_in("s-umbrella", found_at=at(0.5), at=at(1)))
    desk.item(on_site_turn_in("o-wallet", at=at(2)))
    desk.item(verify("o-wallet", "v-2", at(2.2), features=("serial number",), by="tl-3", role=d.TEAM_LEAD))
    desk.item(claim("o-wallet", "claim-2", "v-2", at(2.5), claim_kind=d.ON_SPOT, released_by="tl-3",
                    released_by_role=d.TEAM_LEAD, on_spot_form_due=END_OF_DAY))
    desk.report(report("r-1", at(0.5)))
    desk.report(report("r-2", at(days=1), received_by="c-020"))
    later = DAY + dt.timedelta(days=40)
    desk.handover(d.DrawFinanceHandoverList("h-1", "2026-06", "k-1",
                                            (d.HandoverLine("s-umbrella", d.HELD, DAY + dt.timedelta(days=30)),),
                                            at(days=40), later))
    desk.item(turn_in("v-card", category="card", item_name="bank card", hidden_features=(), found_at=at(2.5),
                      at=at(3)))
    desk.disposal(d.DrawDisposalList("dp-1", d.ISSUING_BANK, "工商银行景区支行", "k-1",
                                     (d.HandoverLine("v-card", d.HELD, DAY + dt.timedelta(days=30), None,
                                                     d.ISSUING_BANK),), at(days=40), later))
    desk.item(d.SendItemToDesk("v-phone", "south-gate", "the owner waits there", "c-017", at(4)))
    return desk.folds()


def test_every_reply_carries_the_position_of_the_log_it_was_read_from(desk, served):
    head = desk.head()
    replies = [
        f.serve_found_item_form(served, {"item_id": "v-phone"}),
        f.serve_lost_item_report_form(served, {"report_id": "r-1"}),
        f.serve_lost_item_summary(served, {"date": DAY, "month": None, "staff_id": None}),
        f.serve_good_deeds_summary(served, {"date": DAY, "month": None, "staff_id": None}),
        f.serve_found_item_receipt(served, {"item_id": "s-umbrella"}),
        f.serve_item_information_card(served, {"item_id": "v-phone", "short_code": None}),
        f.serve_valuables_awaiting_custody(served, {"as_of": at(5), "desk": None}),
        f.serve_on_spot_claims_not_filed(served, {"as_of": at(5)}),
        f.serve_finance_handover_list(served, {"handover_id": "h-1"}),
        f.serve_public_notice_list(served, {"desk": None, "category": None, "limit": 10}, CST),
        f.serve_disposal_list(served, {"disposal_id": "dp-1"}),
        f.serve_items_on_the_way(served, {"as_of": at(5)}),
    ]
    assert [reply["as_of_position"] for reply in replies] == [head] * len(replies)


def test_the_found_item_form_is_found_on_whichever_channel_it_came_in_by(served):
    assert [f.serve_found_item_form(served, {"item_id": item})["form"] for item in
            ("v-phone", "s-umbrella", "o-wallet")] == ["3.3", "3.4", "3.5"]
    form = f.serve_found_item_form(served, {"item_id": "v-phone"})
    assert form == {**served.fold(f.FoundItemForms).form_of("v-phone"), "as_of_position": form["as_of_position"]}


@pytest.mark.parametrize("serve, request_, message, field", [
    (f.serve_found_item_form, {"item_id": "nope"}, "no found item nope", "item_id"),
    (f.serve_lost_item_report_form, {"report_id": "r-9"}, "no lost-item report r-9", "report_id"),
    (f.serve_found_item_receipt, {"item_id": "v-phone"}, "no staff found-item receipt for item v-phone", "item_id"),
    (f.serve_item_information_card, {"item_id": "s-umbrella", "short_code": None},
     "no item information card for that item", "item_id"),
    (f.serve_item_information_card, {"item_id": None, "short_code": "LF-NOPE00"},
     "no item information card for that item", "short_code"),
    (f.serve_finance_handover_list, {"handover_id": "h-9"}, "no finance handover h-9", "handover_id"),
    (f.serve_disposal_list, {"disposal_id": "dp-9"}, "no disposal dp-9", "disposal_id"),
])
def test_an_unknown_form_is_not_found_naming_what_was_asked_for(served, serve, request_, message, field):
    with pytest.raises(NotFound) as raised:
        serve(served, request_)
    assert (raised.value.code, raised.value.message, raised.value.field) == ("not_found", message, field)


def test_the_lost_item_report_form_reply_is_the_report_as_folded(served):
    reply = f.serve_lost_item_report_form(served, {"report_id": "r-1"})
    assert reply == {**served.fold(f.LostItemReportForms).form_of("r-1"), "as_of_position": reply["as_of_position"]}


def test_a_summary_names_its_period_as_a_day_or_a_month_and_the_clerk_asked_for(served):
    day = f.serve_lost_item_summary(served, {"date": DAY, "month": None, "staff_id": None})
    assert (day["period"], day["staff_id"], day["form"], [r["report_id"] for r in day["rows"]]) == \
        ("2026-05-01", None, "3.7", ["r-1"])
    month = f.serve_lost_item_summary(served, {"date": None, "month": "2026-05", "staff_id": "c-020"})
    assert (month["period"], month["staff_id"], [r["report_id"] for r in month["rows"]]) == \
        ("2026-05", "c-020", ["r-2"])
    assert month["totals"] == {"reported": 1, "matched": 0, "contacted": 0, "returned": 0}


def test_the_good_deeds_reply_names_its_period_and_staff_member(served):
    reply = f.serve_good_deeds_summary(served, {"date": None, "month": "2026-05", "staff_id": "s-102"})
    assert (reply["period"], reply["staff_id"], reply["form"], reply["per_staff"]) == \
        ("2026-05", "s-102", "3.8", {"s-102": 1})
    assert [row["item_id"] for row in reply["rows"]] == ["o-wallet"]
    day = f.serve_good_deeds_summary(served, {"date": DAY, "month": None, "staff_id": None})
    assert (day["period"], day["per_staff"]) == ("2026-05-01", {"s-101": 1, "s-102": 1})


def test_the_receipt_and_the_card_replies_are_the_folded_forms(served):
    receipt = f.serve_found_item_receipt(served, {"item_id": "s-umbrella"})
    assert (receipt["form"], receipt["receipt_no"]) == ("3.9", d.receipt_no("s-umbrella"))
    by_code = f.serve_item_information_card(served, {"item_id": None, "short_code": d.short_code("o-wallet")})
    assert (by_code["form"], by_code["item_id"]) == ("3.10", "o-wallet")


def test_the_custody_checklist_reply_reads_the_local_day_and_may_show_only_the_overdue(desk, served):
    as_of = dt.datetime(2026, 5, 2, 7, 30, tzinfo=CST)   # 23:30 UTC on 1 May: another day only locally
    everyone = f.serve_valuables_awaiting_custody(served, {"as_of": as_of, "desk": None})
    assert everyone["as_of"] == as_of
    assert [(r["item_id"], r["overdue"]) for r in everyone["rows"]] == [("v-phone", False)]
    local = f.serve_valuables_awaiting_custody(served, {"as_of": as_of, "desk": "main-gate", "overdue_only": True},
                                               CST)
    assert [(r["item_id"], r["overdue"]) for r in local["rows"]] == [("v-phone", True)]
    assert f.serve_valuables_awaiting_custody(served, {"as_of": as_of, "desk": "east", "overdue_only": False},
                                              CST)["rows"] == []
    same_day = {"as_of": at(5), "desk": None, "overdue_only": True}
    assert f.serve_valuables_awaiting_custody(served, same_day, CST)["rows"] == []
    assert [r["item_id"] for r in f.serve_valuables_awaiting_custody(served, {**same_day, "overdue_only": False},
                                                                     CST)["rows"]] == ["v-phone"]


def test_the_on_spot_reply_flags_the_claims_whose_form_is_due_as_of_the_time_asked(served):
    late = END_OF_DAY + dt.timedelta(minutes=1)
    reply = f.serve_on_spot_claims_not_filed(served, {"as_of": late})
    assert reply["as_of"] == late and [row["item_id"] for row in reply["rows"]] == ["o-wallet"]
    assert f.serve_on_spot_claims_not_filed(served, {"as_of": at(5)})["rows"] == []


def test_the_handover_and_disposal_replies_list_their_lines(served):
    handover = f.serve_finance_handover_list(served, {"handover_id": "h-1"})
    assert (handover["month"], [line["item_id"] for line in handover["lines"]]) == ("2026-06", ["s-umbrella"])
    disposal = f.serve_disposal_list(served, {"disposal_id": "dp-1"})
    assert (disposal["route"], disposal["receiver"], [line["item_id"] for line in disposal["lines"]]) == \
        (d.ISSUING_BANK, "工商银行景区支行", ["v-card"])


def test_the_public_notice_reply_is_the_notice_board_filtered_and_limited(served):
    reply = f.serve_public_notice_list(served, {"desk": None, "category": None, "limit": 10}, CST)
    assert (reply["form"], reply["title"]) == ("招领公告", "招领公告 (unclaimed found items)")
    assert [row["item_name"] for row in reply["rows"]] == ["bank card", "red umbrella", "black phone"]
    assert [row["item_name"] for row in f.serve_public_notice_list(
        served, {"desk": "main-gate", "category": "umbrella", "limit": 10}, CST)["rows"]] == ["red umbrella"]
    assert len(f.serve_public_notice_list(served, {"desk": None, "category": None, "limit": 1}, CST)["rows"]) == 1
    assert f.serve_public_notice_list(served, {"desk": "south-gate", "category": None, "limit": 10}, CST)["rows"] == []


def test_the_items_on_the_way_reply_lists_what_is_moving_as_of_the_time_asked(served):
    reply = f.serve_items_on_the_way(served, {"as_of": at(5)})
    assert reply["as_of"] == at(5)
    assert [(row["item_id"], row["kind"], row["to"]) for row in reply["rows"]] == [("v-phone", "to_desk", "south-gate")]
    assert f.serve_items_on_the_way(served, {"as_of": at(3)})["rows"] == []


# -- 3.3-3.5: one form per found item, every part as the paper has it --------------------------------------
@pytest.fixture
def phone_life(desk):
    """A visitor's phone: signed at registration, corrected, moved to another desk, handed to the custodian,
    signed for, verified and released to a hotel for its owner. Returns the stored events by step."""
    steps = {}
    steps["turned_in"] = desk.item(turn_in("v-phone", valuable_categories=VALUABLES, condition="scratched"))
    steps["finder_signs"] = desk.item(d.CaptureSignature("v-phone", "registration_finder", None, "c-017", at(0.1)))
    steps["clerk_signs"] = desk.item(d.CaptureSignature("v-phone", "registration_clerk", "c-017", "c-017", at(0.2),
                                                        image_ref=IMAGE))
    steps["corrected"] = desk.item(d.CorrectFoundItem(
        "v-phone", "corr-1", (("item_name", "black phone and charger"), ("found_at", at(-1.5)), ("quantity", 2),
                              ("contents", ("card",))),
        "the charger was in the same bag", "tl-3", d.TEAM_LEAD, at(0.5), valuable_categories=VALUABLES))
    steps["verified_early"] = desk.item(verify("v-phone", "v-1", at(1)))
    steps["sent"] = desk.item(d.SendItemToDesk("v-phone", "south-gate", "the owner waits there", "c-017", at(2)))
    steps["received"] = desk.item(d.ReceiveItemAtDesk("v-phone", "south-gate", "drawer 9", "c-020", at(2.5)))
    steps["custody"] = desk.item(d.HandToCustodian("v-phone", "c-020", "k-1", "safe 1", at(3)))
    steps["verified"] = desk.item(verify("v-phone", "v-2", at(4), features=("serial number", "wallpaper"),
                                         by="k-1", role=d.CUSTODIAN, description="the hotel's letter"))
    steps["claimed"] = desk.item(d.ClaimByProxy(
        claim("v-phone", "claim-1", "v-2", at(4.5), claimant_name="王经理", claimant_phone="13500000000",
              custodian_id="k-1"),
        "hotel", "景区酒店", "韩梅梅", "13800000000", "written", "请把手机交给酒店王经理", at(4.2)))
    steps["claimant_signs"] = desk.item(d.CaptureSignature("v-phone", "claim_claimant", None, "k-1", at(4.6)))
    return steps


def test_the_visitor_form_3_3_shows_every_part_of_a_phones_life_traced_to_its_events(desk, phone_life):
    s = {name: events for name, events in phone_life.items()}
    form = desk.folds().fold(f.FoundItemForms).form_of("v-phone")
    turned_in, corrected = one(s["turned_in"], "FoundItemTurnedIn"), s["corrected"][0]
    assert form["form"] == "3.3" and form["title"] == "游客拾物登记、认领表"
    assert form["title_en"] == "found-by-visitor registration & claim form"
    assert form["registration"] == {
        "item_id": "v-phone", "short_code": d.short_code("v-phone"), "desk": "main-gate",
        "item_name": "black phone and charger", "category": "phone", "description": "black smartphone, blue case",
        "found_place": "north gate", "found_at": at(-1.5), "finder_id": None, "finder_name": "路人甲",
        "finder_phone": "13900000000", "finder_department": None, "registered_by": "c-017",
        "registered_by_role": d.CLERK, "witness_id": None, "witness_name": None, "owner_urgent": False,
        "storage_place": "desk drawer 2", "valuable": True, "turned_in_at": T0, "quantity": 2, "cash_amount": None,
        "currency": None, "condition": "scratched", "contents": ["card"], "hidden_features_recorded": 2,
        "receipt_no": None, **trace(turned_in, corrected)}
    assert form["corrections"] == [{
        "correction_id": "corr-1", "reason": "the charger was in the same bag", "corrected_by": "tl-3",
        "corrected_by_role": d.TEAM_LEAD, "corrected_at": at(0.5),
        "changes": [{"field": "item_name", "was": "black phone", "now": "black phone and charger"},
                    {"field": "found_at", "was": "2026-05-01T01:00:00+00:00", "now": "2026-05-01T00:30:00+00:00"},
                    {"field": "quantity", "was": 1, "now": 2},
                    {"field": "contents", "was": [], "now": ["card"]}],
        **trace(turned_in, corrected)}]
    assert form["movements"] == [
        {"kind": "sent", "from_desk": "main-gate", "to_desk": "south-gate", "storage_place": None,
         "reason": "the owner waits there", "by": "c-017", "at": at(2), **trace(*s["sent"])},
        {"kind": "received", "from_desk": "main-gate", "to_desk": "south-gate", "storage_place": "drawer 9",
         "reason": None, "by": "c-020", "at": at(2.5), **trace(*s["received"])}]
    assert form["custody"] == {"storage_place": "safe 1", "handed_by": "c-020", "custodian_id": "k-1",
                               "handed_at": at(3), **trace(*s["custody"])}
    assert form["verifications"] == [
        {"verification_id": "v-1", "claimant_description": "my phone, cat wallpaper",
         "matched_features": ["wallpaper"], "description_matched": True, "decision": d.OWNER, "verified_by": "c-017",
         "verified_by_role": d.CLERK, "verified_at": at(1), **trace(*s["verified_early"])},
        {"verification_id": "v-2", "claimant_description": "the hotel's letter",
         "matched_features": ["serial number", "wallpaper"], "description_matched": True, "decision": d.OWNER,
         "verified_by": "k-1", "verified_by_role": d.CUSTODIAN, "verified_at": at(4), **trace(*s["verified"])}]
    claimed, authorised = one(s["claimed"], "FoundItemClaimed"), one(s["claimed"], "ClaimAuthorisedByOwner")
    assert form["claim"] == {
        "claim_id": "claim-1", "claim_kind": d.UNREPORTED, "report_id": None, "claimant_name": "王经理",
        "claimant_phone": "13500000000", "claimant_id_type": "resident_id", "claimant_id_number": "110101199001011234",
        "released_by": "c-017", "released_by_role": d.CLERK, "custodian_id": "k-1", "claimed_at": at(4.5),
        "verification_id": "v-2", "on_spot_form_due": None, "filed_at_desk": None, "filed_late": None,
        **trace(claimed)}
    assert form["proxy"] == {
        "proxy_kind": "hotel", "organisation": "景区酒店", "owner_name": "韩梅梅", "owner_phone": "13800000000",
        "authorisation_method": "written", "authorisation_note": "请把手机交给酒店王经理", "authorised_at": at(4.2),
        "recorded_by": "c-017", **trace(authorised)}
    assert form["signatures"] == [
        {"part": "registration_finder", "signer_kind": "finder", "signer_id": None, "captured_by": "c-017",
         "image_ref": None, "signed_at": at(0.1), **trace(*s["finder_signs"])},
        {"part": "registration_clerk", "signer_kind": "clerk", "signer_id": "c-017", "captured_by": "c-017",
         "image_ref": IMAGE, "signed_at": at(0.2), **trace(*s["clerk_signs"])},
        {"part": "claim_claimant", "signer_kind": "claimant", "signer_id": None, "captured_by": "k-1",
         "image_ref": None, "signed_at": at(4.6), **trace(*s["claimant_signs"])}]
    assert (form["finance"], form["void"], form["courier"], form["disposal"]) == (None, None, None, None)


def test_a_form_just_registered_has_its_later_parts_blank(desk):
    desk.item(turn_in("v-phone"))
    form = desk.folds().fold(f.FoundItemForms).form_of("v-phone")
    assert {part: value for part, value in form.items() if part != "registration"} == {
        "form": "3.3", "title": "游客拾物登记、认领表", "title_en": "found-by-visitor registration & claim form",
        "custody": None, "verifications": [], "claim": None, "finance": None, "corrections": [], "void": None,
        "movements": [], "signatures": [], "proxy": None, "courier": None, "disposal": None}


def test_a_form_is_a_copy_the_reader_cannot_change(desk, phone_life):
    forms = desk.folds().fold(f.FoundItemForms)
    form = forms.form_of("v-phone")
    form["registration"]["item_name"] = "scribbled over"
    form["verifications"].clear()
    again = forms.form_of("v-phone")
    assert again["registration"]["item_name"] == "black phone and charger" and len(again["verifications"]) == 2
    assert forms.form_of("v-unknown") is None


def test_an_item_has_the_form_of_the_channel_it_was_turned_in_by(desk, phone_life):
    desk.item(staff_turn_in("s-umbrella"))
    desk.item(on_site_turn_in("o-wallet", at=at(3)))
    forms = desk.folds().fold(f.FoundItemForms)
    assert [forms.form_of(item_id)["form"] for item_id in ("v-phone", "s-umbrella", "o-wallet")] == \
        ["3.3", "3.4", "3.5"]


def test_the_staff_form_3_4_carries_the_receipt_the_finance_handover_and_its_custodian(desk):
    turned_in = desk.item(staff_turn_in("s-umbrella", condition="one rib bent"))
    later = DAY + dt.timedelta(days=40)
    desk.handover(d.DrawFinanceHandoverList(
        "h-1", "2026-06", "k-1", (d.HandoverLine("s-umbrella", d.HELD, DAY + dt.timedelta(days=30)),), at(days=40),
        later))
    handed = desk.item(d.HandItemToFinance("s-umbrella", "h-1", "k-1", at(days=40), later))
    desk.handover(d.CaptureSignature("h-1", "handover_custodian", "k-1", "k-1", at(days=40)))
    form = desk.folds().fold(f.FoundItemForms).form_of("s-umbrella")
    assert (form["form"], form["title"], form["title_en"]) == \
        ("3.4", "员工拾物登记、认领表", "found-by-staff registration & claim form")
    reg = form["registration"]
    assert (reg["finder_id"], reg["finder_name"], reg["finder_department"], reg["hidden_features_recorded"]) == \
        ("s-101", "李雷", "security", 0)
    assert (reg["receipt_no"], reg["valuable"], reg["condition"]) == (d.receipt_no("s-umbrella"), False, "one rib bent")
    assert reg["positions"] == [e.position for e in turned_in]       # turned in, then its receipt
    assert form["finance"] == {"handover_id": "h-1", "custodian_id": "k-1", "handed_at": at(days=40),
                               **trace(*handed)}
    assert form["signatures"] == []          # the custodian's line on the handover list is not this form's


def test_the_on_site_form_3_5_shows_when_the_team_leads_claim_form_reached_the_desk(desk):
    desk.item(on_site_turn_in("o-wallet", at=at(3)))
    desk.item(verify("o-wallet", "v-2", at(3.2), features=("serial number",), by="tl-3", role=d.TEAM_LEAD))
    desk.item(claim("o-wallet", "claim-2", "v-2", at(3.5), claim_kind=d.ON_SPOT, released_by="tl-3",
                    released_by_role=d.TEAM_LEAD, on_spot_form_due=at(8)))
    claimed = desk.folds().fold(f.FoundItemForms).form_of("o-wallet")["claim"]
    filed = desk.item(d.FileOnSpotClaimForm("o-wallet", "c-017", at(9)))
    form = desk.folds().fold(f.FoundItemForms).form_of("o-wallet")
    assert (form["form"], form["title"], form["title_en"]) == \
        ("3.5", "员工现场拾物登记表、认领表", "found-by-staff-on-site registration & claim form")
    assert (claimed["filed_at_desk"], claimed["filed_late"]) == (None, None)
    assert (form["claim"]["on_spot_form_due"], form["claim"]["filed_at_desk"], form["claim"]["filed_late"]) == \
        (at(8), at(9), True)
    assert form["claim"]["positions"] == [*claimed["positions"], filed[0].position]
    assert form["claim"]["event_ids"] == [*claimed["event_ids"], filed[0].event_id]


def test_a_courier_return_shows_the_address_who_pays_and_then_the_tracking_number(desk):
    desk.item(turn_in("v-bag", category="bag", item_name="红色双肩包", hidden_features=(("inside", "a notebook"),)))
    desk.item(verify("v-bag", "v-1", at(1), features=("inside",)))
    arranged = desk.item(d.ArrangeCourierReturn(claim("v-bag", "claim-1", "v-1", at(2)), "ret-1", "韩梅梅",
                                                "13800000000", "北京市东城区某街1号", "visitor", Decimal("23.00"),
                                                "CNY"))
    before = desk.folds().fold(f.FoundItemForms).form_of("v-bag")["courier"]
    dispatched = desk.item(d.RecordCourierDispatch("v-bag", "ret-1", "顺丰速运", "SF1234567890", "c-017", at(3)))
    after = desk.folds().fold(f.FoundItemForms).form_of("v-bag")["courier"]
    expected = {"return_id": "ret-1", "recipient_name": "韩梅梅", "recipient_phone": "13800000000",
                "address": "北京市东城区某街1号", "fee_paid_by": "visitor", "fee_amount": "23.00", "fee_currency": "CNY",
                "arranged_by": "c-017", "arranged_at": at(2)}
    assert before == {**expected, "carrier": None, "tracking_number": None, "dispatched_at": None,
                      **trace(one(arranged, "CourierReturnArranged"))}
    assert after == {**expected, "carrier": "顺丰速运", "tracking_number": "SF1234567890", "dispatched_at": at(3),
                     **trace(one(arranged, "CourierReturnArranged"), *dispatched)}


def test_a_voided_duplicate_and_a_disposed_item_say_so_on_their_forms(desk):
    desk.item(turn_in("v-1", category="document", item_name="身份证", hidden_features=()))
    desk.item(turn_in("v-2", category="document", item_name="身份证", hidden_features=(), at=at(0.1)))
    voided = desk.item(d.VoidFoundItem("v-2", "the same card registered twice", "tl-3", d.TEAM_LEAD, at(1),
                                       held("v-1"), "v-1"))
    late = DAY + dt.timedelta(days=40)
    desk.disposal(d.DrawDisposalList("dp-1", d.POLICE, "景区派出所", "k-1",
                                     (d.HandoverLine("v-1", d.HELD, DAY + dt.timedelta(days=30), None, d.POLICE),),
                                     at(days=40), late))
    disposed = desk.item(d.DisposeItem("v-1", "dp-1", d.POLICE, "k-1", at(days=40), late))
    forms = desk.folds().fold(f.FoundItemForms)
    assert forms.form_of("v-2")["void"] == {"duplicate_of": "v-1", "reason": "the same card registered twice",
                                            "voided_by": "tl-3", "voided_by_role": d.TEAM_LEAD, "voided_at": at(1),
                                            **trace(*voided)}
    assert forms.form_of("v-1")["disposal"] == {"disposal_id": "dp-1", "route": d.POLICE, "custodian_id": "k-1",
                                                "disposed_at": at(days=40), **trace(*disposed)}
    assert forms.form_of("v-1")["void"] is None


# -- 3.6 the visitor's lost-item report, and 3.7 the summary of reports ---------------------------------------
def match(report_id, item_id, task_id, when, current=None, **facts):
    return d.ConfirmMatch(report_id, held(item_id, **facts), task_id, "c-017", when, current)


def contact(report_id, task_id, when, outcome=d.REACHED):
    return d.RecordVisitorContact(report_id, task_id, "c-017", outcome, when)


def test_the_report_form_3_6_as_reported_names_the_visitor_and_the_loss(desk):
    reported = desk.report(report("r-1", at(0.5)))
    form = desk.folds().fold(f.LostItemReportForms).form_of("r-1")
    assert form == {
        "form": "3.6", "title": "游客失物登记表", "report_id": "r-1", "desk": "main-gate", "item_name": "black phone",
        "category": "phone", "description": "black smartphone", "features": "blue case", "lost_place": "north gate",
        "lost_from": at(-3), "lost_until": at(-2), "visitor_name": "韩梅梅", "visitor_phone": "13800000000",
        "received_by": "c-017", "reported_at": at(0.5), "matched_item_id": None, "matched_short_code": None,
        "contact_task_id": None, "contact_task_open": False, "contacts": [], "returned_at": None,
        "released_matches": [], **trace(*reported)}
    assert desk.folds().fold(f.LostItemReportForms).form_of("r-9") is None


def test_the_report_form_is_a_copy_the_reader_cannot_change(desk):
    desk.item(turn_in("p1"))
    desk.report(report("r-1", at(0.5)))
    desk.report(match("r-1", "p1", "task-1", at(0.6)))
    desk.report(contact("r-1", "task-1", at(0.7)))
    forms = desk.folds().fold(f.LostItemReportForms)
    form = forms.form_of("r-1")
    form["contacts"].clear()
    form["positions"].append(99)
    again = forms.form_of("r-1")
    assert [c["outcome"] for c in again["contacts"]] == [d.REACHED] and 99 not in again["positions"]


def test_a_confirmed_match_opens_a_task_to_call_the_visitor_in(desk):
    desk.item(turn_in("p1"))
    reported = desk.report(report("r-1", at(0.5)))
    matched = desk.report(match("r-1", "p1", "task-1", at(0.6)))
    form = desk.folds().fold(f.LostItemReportForms).form_of("r-1")
    assert (form["matched_item_id"], form["matched_short_code"], form["contact_task_id"], form["contact_task_open"],
            form["contacts"]) == ("p1", d.short_code("p1"), "task-1", True, [])
    assert form["positions"] == [e.position for e in (*reported, *matched)]


def test_a_call_that_does_not_reach_the_visitor_keeps_the_contact_task_open(desk):
    desk.item(turn_in("p1"))
    reported = desk.report(report("r-1", at(0.5)))
    matched = desk.report(match("r-1", "p1", "task-1", at(0.6)))
    missed = desk.report(contact("r-1", "task-1", at(0.7), outcome="no_answer"))
    form = desk.folds().fold(f.LostItemReportForms).form_of("r-1")
    assert (form["matched_item_id"], form["matched_short_code"]) == ("p1", d.short_code("p1"))
    assert (form["contact_task_id"], form["contact_task_open"]) == ("task-1", True)
    assert form["contacts"] == [{"task_id": "task-1", "contacted_by": "c-017", "outcome": "no_answer",
                                 "contacted_at": at(0.7), **trace(*missed)}]
    reached = desk.report(contact("r-1", "task-1", at(0.8)))
    form = desk.folds().fold(f.LostItemReportForms).form_of("r-1")
    assert form["contact_task_open"] is False and [c["outcome"] for c in form["contacts"]] == ["no_answer", d.REACHED]
    assert form["positions"] == [e.position for e in (*reported, *matched, *missed, *reached)]
    row = desk.folds().fold(f.LostItemSummary).summary(date=DAY)["rows"][0]
    assert (row["status"], row["stages"]) == ("contacted", ["matched", "contacted"])


def test_a_missed_call_does_not_count_the_report_as_contacted(desk):
    desk.item(turn_in("p1"))
    desk.report(report("r-1", at(0.5)))
    desk.report(match("r-1", "p1", "task-1", at(0.6)))
    desk.report(contact("r-1", "task-1", at(0.7), outcome="no_answer"))
    summary = desk.folds().fold(f.LostItemSummary).summary(date=DAY)
    assert (summary["rows"][0]["status"], summary["rows"][0]["stages"]) == ("matched", ["matched"])
    assert summary["totals"] == {"reported": 1, "matched": 1, "contacted": 0, "returned": 0}


def test_a_report_whose_item_another_claimant_took_shows_the_released_match_with_when_and_why(desk):
    desk.item(turn_in("p7"))
    desk.report(report("r-1", at(0.5)))
    desk.report(match("r-1", "p7", "task-1", at(0.6)))
    desk.item(verify("p7", "v-1", at(1), key="someone-else"))
    claimed = desk.item(claim("p7", "claim-x", "v-1", at(1.1), claimant_key="someone-else"))
    form = desk.folds().fold(f.LostItemReportForms).form_of("r-1")
    assert form["released_matches"] == [{"item_id": "p7", "short_code": d.short_code("p7"), "released_at": at(1.1),
                                         "why": "claimed_by_another", **trace(*claimed)}]
    assert (form["matched_item_id"], form["matched_short_code"], form["contact_task_open"], form["returned_at"]) == \
        (None, None, False, None)
    assert form["positions"][-1] == claimed[0].position
    row = desk.folds().fold(f.LostItemSummary).summary(date=DAY)["rows"][0]
    assert (row["status"], row["matched_short_code"], row["positions"][-1]) == ("reported", None, claimed[0].position)


def test_a_report_returned_by_its_own_claim_keeps_its_match_and_closes_the_call(desk):
    desk.item(turn_in("p8"))
    desk.report(report("r-1", at(0.5)))
    desk.report(match("r-1", "p8", "task-1", at(0.6)))
    desk.item(verify("p8", "v-1", at(1)))
    desk.item(claim("p8", "claim-1", "v-1", at(1.2), claim_kind=d.REPORTED, report_id="r-1",
                    report=d.ReportFacts("r-1", "p8")))
    form = desk.folds().fold(f.LostItemReportForms).form_of("r-1")
    assert (form["returned_at"], form["matched_item_id"], form["matched_short_code"], form["contact_task_open"],
            form["released_matches"]) == (at(1.2), "p8", d.short_code("p8"), False, [])
    row = desk.folds().fold(f.LostItemSummary).summary(date=DAY)["rows"][0]
    assert (row["status"], row["matched_short_code"], row["stages"]) == ("returned", d.short_code("p8"),
                                                                         ["matched", "returned"])


def test_a_match_the_clerk_released_names_the_item_and_the_item_no_longer_follows_the_report(desk):
    desk.item(turn_in("p7"))
    desk.report(report("r-1", at(0.5)))
    desk.report(match("r-1", "p7", "task-1", at(0.6)))
    released = desk.report(d.ReleaseMatch("r-1", "not theirs", "c-017", at(0.9), held("p7")))
    desk.item(verify("p7", "v-1", at(1), key="someone-else"))
    desk.item(claim("p7", "claim-x", "v-1", at(1.1), claimant_key="someone-else"))  # later, to someone else
    folds = desk.folds()
    form = folds.fold(f.LostItemReportForms).form_of("r-1")
    assert form["released_matches"] == [{"item_id": "p7", "short_code": d.short_code("p7"), "released_at": at(0.9),
                                         "why": "released_by_clerk", **trace(*released)}]
    assert form["positions"][-1] == released[0].position
    assert (form["matched_item_id"], form["matched_short_code"], form["contact_task_open"]) == (None, None, False)
    row = folds.fold(f.LostItemSummary).summary(date=DAY)["rows"][0]
    assert (row["status"], row["matched_short_code"], row["positions"][-1]) == ("reported", None,
                                                                                released[0].position)


def test_releasing_one_reports_match_leaves_the_item_kept_for_the_report_matched_to_it_since(desk):
    """Two clerks confirmed the same item for two reports; the first takes hers back: the item still follows
    the second report, which learns when it goes to another claimant."""
    desk.item(turn_in("p7"))
    desk.report(report("r-1", at(0.5)))
    desk.report(report("r-2", at(0.55)))
    desk.report(match("r-1", "p7", "task-1", at(0.6)))
    desk.report(match("r-2", "p7", "task-2", at(0.65)))
    desk.report(d.ReleaseMatch("r-1", "not theirs", "c-017", at(0.9), held("p7")))
    desk.item(verify("p7", "v-1", at(1), key="someone-else"))
    claimed = desk.item(claim("p7", "claim-x", "v-1", at(1.1), claimant_key="someone-else"))
    folds = desk.folds()
    second = folds.fold(f.LostItemReportForms).form_of("r-2")
    assert [(m["item_id"], m["why"]) for m in second["released_matches"]] == [("p7", "claimed_by_another")]
    rows = {row["report_id"]: row for row in folds.fold(f.LostItemSummary).summary(date=DAY)["rows"]}
    assert rows["r-2"]["positions"][-1] == claimed[0].position and rows["r-2"]["status"] == "reported"
    assert rows["r-1"]["positions"][-1] != claimed[0].position


def test_an_item_never_matched_to_a_report_leaves_every_report_as_it_was(desk):
    desk.item(turn_in("p1"))
    reported = desk.report(report("r-1", at(0.5)))
    desk.item(verify("p1", "v-1", at(1)))
    desk.item(claim("p1", "claim-1", "v-1", at(1.1)))
    folds = desk.folds()
    assert folds.fold(f.LostItemReportForms).form_of("r-1")["positions"] == [reported[0].position]
    assert folds.fold(f.LostItemSummary).summary(date=DAY)["rows"][0]["positions"] == [reported[0].position]


def test_the_summary_3_7_row_is_what_the_desk_wrote_down_and_where_the_report_stands(desk):
    reported = desk.report(report("r-1", at(0.5)))
    summary = desk.folds().fold(f.LostItemSummary).summary(date=DAY)
    assert (summary["form"], summary["title"]) == ("3.7", "游客失物登记汇总表")
    assert summary["rows"] == [{
        "business_date": DAY, "report_id": "r-1", "desk": "main-gate", "item_name": "black phone",
        "category": "phone", "lost_place": "north gate", "visitor_name": "韩梅梅", "visitor_phone": "13800000000",
        "received_by": "c-017", "status": "reported", "stages": [], "matched_short_code": None, **trace(*reported)}]


def test_the_summary_keeps_the_order_reports_were_taken_in_and_is_a_copy(desk):
    desk.report(report("r-b", at(0.5)))
    desk.report(report("r-a", at(0.7)))
    desk.report(report("r-c", at(0.9), received_by="c-020"))
    summary = desk.folds().fold(f.LostItemSummary)
    first = summary.summary(month="2026-05")
    assert [r["report_id"] for r in first["rows"]] == ["r-b", "r-a", "r-c"]
    assert [r["report_id"] for r in summary.summary(date=DAY, staff_id="c-017")["rows"]] == ["r-b", "r-a"]
    first["rows"][0]["stages"].append("returned")
    assert summary.summary(month="2026-05")["rows"][0]["stages"] == []
    assert summary.summary(date=DAY + dt.timedelta(days=1))["totals"] == \
        {"reported": 0, "matched": 0, "contacted": 0, "returned": 0}


def test_a_report_matched_again_after_its_item_went_elsewhere_counts_each_stage_once(desk):
    desk.item(turn_in("p7"))
    desk.item(turn_in("p8"))
    desk.report(report("r-1", at(0.5)))
    desk.report(match("r-1", "p7", "task-1", at(0.6)))
    desk.report(contact("r-1", "task-1", at(0.7)))
    desk.item(verify("p7", "v-1", at(1), key="someone-else"))
    desk.item(claim("p7", "claim-x", "v-1", at(1.1), claimant_key="someone-else"))
    desk.report(match("r-1", "p8", "task-2", at(2), current=held("p7", d.CLAIMED)))
    desk.report(contact("r-1", "task-2", at(2.1)))
    row = desk.folds().fold(f.LostItemSummary).summary(date=DAY)["rows"][0]
    assert (row["status"], row["stages"], row["matched_short_code"]) == \
        ("contacted", ["matched", "contacted"], d.short_code("p8"))


# -- 3.8 good deeds, 3.9 the staff finder's receipt, 3.10 the card on the item --------------------------------
def test_the_good_deeds_row_3_8_names_the_staff_finder_the_receipt_and_where_it_was_found(desk):
    turned_in, receipt = desk.item(staff_turn_in("s-umbrella", found_place="east lake"))
    desk.item(turn_in("v-phone", at=at(0.5)))                    # found by a visitor: no good deed of staff
    summary = desk.folds().fold(f.GoodDeedsSummary).summary(date=DAY)
    assert (summary["form"], summary["title"]) == ("3.8", "员工好人好事汇总表")
    assert summary["rows"] == [{
        "business_date": DAY, "staff_id": "s-101", "staff_name": "李雷", "department": "security", "kind": "desk",
        "receipt_no": d.receipt_no("s-umbrella"), "item_id": "s-umbrella", "item_name": "red umbrella",
        "category": "umbrella", "found_place": "east lake", "returned_to_owner": False, **trace(turned_in, receipt)}]
    assert summary["per_staff"] == {"s-101": 1}


def test_a_good_deed_follows_a_correction_of_what_and_where_and_the_return_to_its_owner(desk):
    desk.item(staff_turn_in("s-bag", category="bag", item_name="包", hidden_features=(("inside", "a notebook"),)))
    corrected = desk.item(d.CorrectFoundItem(
        "s-bag", "corr-1", (("item_name", "钱包"), ("category", "wallet"), ("found_place", "west gate"),
                            ("description", "brown leather")), "typed 包 for 钱包", "tl-3", d.TEAM_LEAD, at(0.5)))
    desk.item(verify("s-bag", "v-1", at(1), features=("inside",)))
    claimed = desk.item(claim("s-bag", "claim-1", "v-1", at(1.5)))
    [row] = desk.folds().fold(f.GoodDeedsSummary).summary(month="2026-05")["rows"]
    assert (row["item_name"], row["category"], row["found_place"], row["returned_to_owner"]) == \
        ("钱包", "wallet", "west gate", True)
    assert "description" not in row
    assert row["positions"][-2:] == [corrected[0].position, claimed[0].position]


def test_a_duplicate_registration_is_not_a_second_good_deed(desk):
    desk.item(staff_turn_in("s-1"))
    desk.item(staff_turn_in("s-2", at=at(0.1)))
    desk.item(staff_turn_in("s-3", finder_id="s-107", finder_name="韩梅", at=at(0.2)))
    desk.item(d.VoidFoundItem("s-2", "registered twice", "tl-3", d.TEAM_LEAD, at(1), held("s-1"), "s-1"))
    summary = desk.folds().fold(f.GoodDeedsSummary)
    assert [row["item_id"] for row in summary.summary(date=DAY)["rows"]] == ["s-1", "s-3"]
    assert summary.summary(date=DAY)["per_staff"] == {"s-101": 1, "s-107": 1}
    assert summary.summary(date=DAY, staff_id="s-107")["per_staff"] == {"s-107": 1}
    assert summary.summary(date=DAY + dt.timedelta(days=1)) == {"form": "3.8", "title": "员工好人好事汇总表", "rows": [],
                                                                "per_staff": {}}


def test_each_staff_members_good_deeds_are_counted(desk):
    desk.item(staff_turn_in("s-1"))
    desk.item(staff_turn_in("s-2", at=at(0.1)))
    desk.item(on_site_turn_in("o-3", finder_id="s-101", finder_name="李雷", at=at(0.2)))
    desk.item(staff_turn_in("s-4", finder_id="s-107", finder_name="韩梅", at=at(0.3)))
    summary = desk.folds().fold(f.GoodDeedsSummary)
    assert summary.summary(month="2026-05")["per_staff"] == {"s-101": 3, "s-107": 1}
    assert summary.summary(month="2026-05", staff_id="s-101")["per_staff"] == {"s-101": 3}


def test_good_deeds_are_listed_in_the_order_they_were_turned_in_and_the_list_is_a_copy(desk):
    desk.item(staff_turn_in("s-b", finder_id="s-107", finder_name="韩梅"))
    desk.item(staff_turn_in("s-a", at=at(0.1)))
    desk.item(on_site_turn_in("o-c", at=at(0.2)))
    summary = desk.folds().fold(f.GoodDeedsSummary)
    rows = summary.summary(month="2026-05")["rows"]
    assert [(row["item_id"], row["kind"]) for row in rows] == [("s-b", "desk"), ("s-a", "desk"), ("o-c", "on_site")]
    rows[0]["item_name"] = "changed"
    assert summary.summary(month="2026-05")["rows"][0]["item_name"] == "red umbrella"


def test_the_receipt_3_9_is_the_finders_proof_with_what_was_turned_in(desk):
    turned_in, receipt = desk.item(staff_turn_in("s-cash", category="cash", item_name="现金", quantity=1,
                                                 cash_amount=Decimal("520.50"), currency="CNY",
                                                 condition="folded", valuable_categories=VALUABLES))
    receipts = desk.folds().fold(f.FoundItemReceipts)
    assert receipts.receipt("s-cash") == {
        "form": "3.9", "title": "员工拾到物品回执", "item_id": "s-cash", "short_code": d.short_code("s-cash"),
        "desk": "main-gate", "item_name": "现金", "category": "cash", "found_place": "north gate", "found_at": at(-1),
        "quantity": 1, "cash_amount": "520.50", "currency": "CNY", "condition": "folded", "contents": [],
        "receipt_no": d.receipt_no("s-cash"), "finder_id": "s-101", "finder_name": "李雷",
        "finder_department": "security", "good_deed": "desk", "issued_by": "c-017", "issued_at": T0,
        **trace(turned_in, receipt)}
    copy = receipts.receipt("s-cash")
    copy["contents"].append("phone")
    assert receipts.receipt("s-cash")["contents"] == []


def test_the_receipt_shows_a_corrected_amount_and_an_on_site_find_has_one_too(desk):
    desk.item(staff_turn_in("s-cash", category="cash", item_name="现金", cash_amount=Decimal("520"), currency="CNY",
                            valuable_categories=VALUABLES))
    corrected = desk.item(d.CorrectFoundItem("s-cash", "corr-1", (("cash_amount", Decimal("502")),),
                                             "counted again", "tl-3", d.TEAM_LEAD, at(0.5),
                                             valuable_categories=VALUABLES))
    desk.item(on_site_turn_in("o-wallet", at=at(1)))
    receipts = desk.folds().fold(f.FoundItemReceipts)
    cash = receipts.receipt("s-cash")
    assert (cash["cash_amount"], cash["positions"][-1]) == ("502", corrected[0].position)
    assert (receipts.receipt("o-wallet")["good_deed"], receipts.receipt("o-wallet")["finder_name"]) == \
        ("on_site", "王五")


def test_the_card_3_10_carries_code_qr_where_it_is_kept_and_until_when(desk):
    turned_in, card_issued = desk.item(turn_in("v-bag", category="bag", item_name="红色双肩包", quantity=2,
                                               condition="wet", contents=("card",)))
    card = desk.folds().fold(f.ItemInformationCards).card(item_id="v-bag")
    kept = DAY + dt.timedelta(days=30)
    assert card == {
        "form": "3.10", "title": "物品信息卡", "item_id": "v-bag", "short_code": d.short_code("v-bag"),
        "qr_payload": "vsc:found-item:v-bag", "item_name": "红色双肩包", "category": "bag", "found_place": "north gate",
        "found_at": at(-1), "turned_in_on": DAY, "retain_until": kept, "desk": "main-gate",
        "storage_place": "desk drawer 2", "registered_by": "c-017", "disposal_from": kept + dt.timedelta(days=1),
        "retention_note": f.retention_note(kept), "quantity": 2, "cash_amount": None, "currency": None,
        "condition": "wet", "contents": ["card"], "issued_at": T0, "voided": False, **trace(turned_in, card_issued)}


def test_the_card_says_kept_through_the_day_inclusive_and_from_when_it_may_go_to_finance():
    assert f.retention_note(dt.date(2026, 5, 31)) == (
        "保管至 2026-05-31（含当日），2026-06-01 起可移交财务部 / "
        "kept through 2026-05-31 inclusive; may go to finance from 2026-06-01")


def test_the_card_follows_the_item_to_the_custodian_to_another_desk_and_through_a_correction(desk):
    desk.item(on_site_turn_in("o-bag", category="bag", item_name="包", storage_place="with the team lead"))
    received = desk.item(d.ReceiveItemAtDesk("o-bag", "south-gate", "drawer 9", "c-020", at(1)))
    cards = desk.folds().fold(f.ItemInformationCards)
    assert (cards.card(item_id="o-bag")["desk"], cards.card(item_id="o-bag")["storage_place"]) == \
        ("south-gate", "drawer 9")
    assert cards.card(item_id="o-bag")["positions"][-1] == received[0].position
    corrected = desk.item(d.CorrectFoundItem("o-bag", "corr-1", (("item_name", "钱包"), ("category", "wallet")),
                                             "typed 包 for 钱包", "tl-3", d.TEAM_LEAD, at(2),
                                             valuable_categories=VALUABLES,
                                             retention=d.RetentionPolicy(default_days=30, valuable_days=90)))
    custody = desk.item(d.HandToCustodian("o-bag", "c-020", "k-1", "safe 1", at(3)))
    card = desk.folds().fold(f.ItemInformationCards).card(short_code=d.short_code("o-bag"))
    kept = DAY + dt.timedelta(days=90)
    assert (card["item_name"], card["category"], card["storage_place"]) == ("钱包", "wallet", "safe 1")
    assert (card["retain_until"], card["disposal_from"], card["retention_note"]) == \
        (kept, kept + dt.timedelta(days=1), f.retention_note(kept))
    assert card["positions"][-2:] == [corrected[0].position, custody[0].position]


def test_a_voided_card_says_so_and_a_staff_desk_find_has_no_card(desk):
    desk.item(turn_in("v-1"))
    desk.item(turn_in("v-2", at=at(0.1)))
    voided = desk.item(d.VoidFoundItem("v-2", "registered twice", "tl-3", d.TEAM_LEAD, at(1), held("v-1"), "v-1"))
    desk.item(staff_turn_in("s-umbrella"))
    cards = desk.folds().fold(f.ItemInformationCards)
    assert (cards.card(item_id="v-2")["voided"], cards.card(item_id="v-2")["positions"][-1]) == \
        (True, voided[0].position)
    assert cards.card(item_id="v-1")["voided"] is False
    assert cards.card(item_id="s-umbrella") is None and cards.card(short_code=d.short_code("s-umbrella")) is None
    assert cards.card() is None
    card = cards.card(short_code=d.short_code("v-1"))
    card["contents"].append("x")
    assert cards.card(item_id="v-1")["contents"] == []


# -- the shift-end checklist of valuables not yet with the custodian ------------------------------------------
def test_the_custody_checklist_row_says_what_where_and_by_whom_and_nothing_of_its_value(desk):
    turned_in = desk.item(turn_in("v-phone"))
    [row] = desk.folds().fold(f.ValuablesAwaitingCustody).awaiting(at(1))
    assert row == {"item_id": "v-phone", "short_code": d.short_code("v-phone"), "desk": "main-gate",
                   "item_name": "black phone", "category": "phone", "registered_by": "c-017",
                   "storage_place": "desk drawer 2", "turned_in_at": T0, "business_date": DAY, "overdue": False,
                   **trace(one(turned_in, "FoundItemTurnedIn"))}


def test_a_valuable_is_on_the_checklist_from_the_moment_it_is_turned_in_until_the_moment_it_leaves(desk):
    desk.item(turn_in("v-claimed"))
    desk.item(turn_in("v-custody", at=at(0.1)))
    desk.item(turn_in("v-void", at=at(0.2)))
    desk.item(turn_in("v-umbrella", category="umbrella", item_name="umbrella", hidden_features=(), at=at(0.3)))
    desk.item(verify("v-claimed", "v-1", at(1)))
    desk.item(claim("v-claimed", "claim-1", "v-1", at(2)))
    desk.item(d.HandToCustodian("v-custody", "c-017", "k-1", "safe 1", at(3)))
    desk.item(d.VoidFoundItem("v-void", "registered twice", "tl-3", d.TEAM_LEAD, at(4), held("v-claimed"),
                              "v-claimed"))
    checklist = desk.folds().fold(f.ValuablesAwaitingCustody)

    def listed(as_of):
        return [row["item_id"] for row in checklist.awaiting(as_of)]

    assert listed(T0 - dt.timedelta(seconds=1)) == []
    assert listed(T0) == ["v-claimed"]                     # the umbrella is no valuable
    assert listed(at(2) - dt.timedelta(seconds=1)) == ["v-claimed", "v-custody", "v-void"]
    assert listed(at(2)) == ["v-custody", "v-void"]
    assert listed(at(3)) == ["v-void"]
    assert listed(at(4)) == []


def test_a_valuable_handed_to_finance_or_disposed_of_leaves_the_checklist_then(desk):
    late = DAY + dt.timedelta(days=91)
    for item_id in ("v-finance", "v-police"):
        desk.item(turn_in(item_id, category="camera", item_name="camera", hidden_features=()))
    desk.item(d.HandItemToFinance("v-finance", "h-1", "k-1", at(days=91), late))
    desk.item(d.DisposeItem("v-police", "dp-1", d.POLICE, "k-1", at(days=92), late))
    checklist = desk.folds().fold(f.ValuablesAwaitingCustody)
    assert [row["item_id"] for row in checklist.awaiting(at(days=91) - dt.timedelta(seconds=1))] == \
        ["v-finance", "v-police"]
    assert [row["item_id"] for row in checklist.awaiting(at(days=91))] == ["v-police"]
    assert checklist.awaiting(at(days=92)) == []


def test_the_checklist_follows_a_move_to_another_desk_and_a_correction_of_what_it_is(desk):
    desk.item(turn_in("v-bag", category="bag", item_name="包", hidden_features=(), valuable_categories=VALUABLES))
    desk.item(d.CorrectFoundItem("v-bag", "corr-1", (("item_name", "钱包"), ("category", "wallet"),
                                                     ("description", "brown leather")),
                                 "typed 包 for 钱包", "tl-3", d.TEAM_LEAD, at(0.5), valuable_categories=VALUABLES))
    desk.item(d.SendItemToDesk("v-bag", "south-gate", "the owner waits there", "c-017", at(1)))
    received = desk.item(d.ReceiveItemAtDesk("v-bag", "south-gate", "drawer 9", "c-020", at(1.5)))
    checklist = desk.folds().fold(f.ValuablesAwaitingCustody)
    [row] = checklist.awaiting(at(2), desk="south-gate")
    assert (row["item_name"], row["category"], row["desk"], row["storage_place"]) == \
        ("钱包", "wallet", "south-gate", "drawer 9")
    assert "description" not in row and row["positions"][-1] == received[0].position
    assert checklist.awaiting(at(2), desk="main-gate") == []


def test_the_evening_checklist_is_not_rewritten_by_a_correction_after_the_handover(desk):
    desk.item(turn_in("v-camera", category="camera", item_name="silver camera", hidden_features=(),
                      valuable_categories=VALUABLES))
    desk.item(d.HandToCustodian("v-camera", "c-017", "k-1", "safe 1", at(8)))
    desk.item(d.CorrectFoundItem("v-camera", "corr-1", (("category", "toy"), ("item_name", "toy camera")),
                                 "a toy", "tl-3", d.TEAM_LEAD, at(9), valuable_categories=VALUABLES))
    [row] = desk.folds().fold(f.ValuablesAwaitingCustody).awaiting(at(7))
    assert (row["item_name"], row["category"]) == ("silver camera", "camera")


def test_a_valuable_is_overdue_for_the_custodian_once_its_local_day_is_over(desk):
    desk.item(turn_in("v-phone"))
    checklist = desk.folds().fold(f.ValuablesAwaitingCustody)
    midnight = dt.datetime(2026, 5, 2, tzinfo=CST)
    assert [row["overdue"] for row in checklist.awaiting(midnight - dt.timedelta(seconds=1), zone=CST)] == [False]
    assert [row["overdue"] for row in checklist.awaiting(midnight, zone=CST)] == [True]
    assert checklist.awaiting(midnight - dt.timedelta(seconds=1), zone=CST, overdue_only=True) == []
    rows = checklist.awaiting(midnight, zone=CST, overdue_only=True)
    rows[0]["positions"].append(99)
    assert checklist.awaiting(midnight, zone=CST)[0]["positions"] == [1]


# -- team leads' on-spot claims whose form has not reached the desk -----------------------------------------
@pytest.fixture
def on_spot(desk):
    """Two on-site wallets released on the spot by a team lead, forms due at 18:00; a desk claim too."""
    steps = {}
    for item_id, hour in (("o-late", 1), ("o-filed", 2)):
        steps[item_id] = desk.item(on_site_turn_in(item_id, at=at(hour)))
        desk.item(verify(item_id, f"v-{item_id}", at(hour + 0.2), features=("serial number",), by="tl-3",
                         role=d.TEAM_LEAD))
        steps[f"{item_id} claimed"] = desk.item(claim(item_id, f"claim-{item_id}", f"v-{item_id}", at(hour + 0.5),
                                                      claim_kind=d.ON_SPOT, released_by="tl-3",
                                                      released_by_role=d.TEAM_LEAD, on_spot_form_due=at(8)))
    steps["filed on time"] = desk.item(d.FileOnSpotClaimForm("o-filed", "c-017", at(8)))
    steps["filed late"] = desk.item(d.FileOnSpotClaimForm("o-late", "c-017", at(10)))
    desk.item(turn_in("v-phone", at=at(3)))
    desk.item(verify("v-phone", "v-1", at(3.1)))
    desk.item(claim("v-phone", "claim-3", "v-1", at(3.2)))
    return steps


def test_an_on_spot_claim_is_flagged_from_the_moment_its_form_is_due(desk, on_spot):
    flagged = desk.folds().fold(f.OnSpotClaimsNotFiled)
    assert flagged.flagged(at(8) - dt.timedelta(seconds=1)) == []
    claimed = on_spot["o-late claimed"][0]
    assert flagged.flagged(at(8)) == [{
        "item_id": "o-late", "short_code": d.short_code("o-late"), "claim_id": "claim-o-late", "released_by": "tl-3",
        "claimed_at": at(1.5), "due": at(8), "filed_at": None, **trace(claimed)}]


def test_a_form_filed_late_stays_flagged_with_when_it_came_and_one_filed_on_time_never_is(desk, on_spot):
    flagged = desk.folds().fold(f.OnSpotClaimsNotFiled)
    claimed, filed = on_spot["o-late claimed"][0], on_spot["filed late"][0]
    [row] = flagged.flagged(at(11))
    assert (row["item_id"], row["filed_at"], row["due"]) == ("o-late", at(10), at(8))
    assert row["positions"] == [claimed.position, filed.position]
    assert row["event_ids"] == [claimed.event_id, filed.event_id]
    assert [r["item_id"] for r in flagged.flagged(at(10))] == ["o-late"]
    assert [r["filed_at"] for r in flagged.flagged(at(10) - dt.timedelta(seconds=1))] == [None]


def test_on_spot_claims_are_flagged_in_the_order_they_were_taken(desk):
    for item_id, hour in (("o-b", 1), ("o-a", 2)):
        desk.item(on_site_turn_in(item_id, at=at(hour)))
        desk.item(verify(item_id, f"v-{item_id}", at(hour + 0.2), features=("serial number",), by="tl-3",
                         role=d.TEAM_LEAD))
        desk.item(claim(item_id, f"claim-{item_id}", f"v-{item_id}", at(hour + 0.5), claim_kind=d.ON_SPOT,
                        released_by="tl-3", released_by_role=d.TEAM_LEAD, on_spot_form_due=at(8)))
    assert [row["item_id"] for row in desk.folds().fold(f.OnSpotClaimsNotFiled).flagged(at(9))] == ["o-b", "o-a"]


# -- the monthly handover list to finance, and the disposal lists (police, bank, destruction) -----------------
LATE = DAY + dt.timedelta(days=40)


def line(item_id, route=d.FINANCE_ROUTE):
    return d.HandoverLine(item_id, d.HELD, DAY + dt.timedelta(days=30), None, route)


@pytest.fixture
def handover(desk):
    """Two unclaimed items on June's list, the umbrella's name corrected before; one handed over, one
    withdrawn (claimed meanwhile), one handed to finance under another list; finance signs off."""
    steps = {}
    steps["umbrella"] = desk.item(staff_turn_in("s-umbrella", item_name="umbrela"))
    desk.item(turn_in("v-hat", category="clothing", item_name="straw hat", hidden_features=(), at=at(0.1)))
    desk.item(turn_in("v-scarf", category="clothing", item_name="scarf", hidden_features=(), at=at(0.2)))
    steps["corrected"] = desk.item(d.CorrectFoundItem("s-umbrella", "corr-1", (("item_name", "red umbrella"),),
                                                      "typo", "tl-3", d.TEAM_LEAD, at(days=39)))
    steps["drawn"] = desk.handover(d.DrawFinanceHandoverList(
        "h-1", "2026-06", "k-1", (line("s-umbrella"), line("v-hat")), at(days=40), LATE))
    steps["handed"] = desk.item(d.HandItemToFinance("s-umbrella", "h-1", "k-1", at(days=40, hours=0.5), LATE))
    desk.item(d.HandItemToFinance("v-scarf", "h-1", "k-1", at(days=40, hours=0.6), LATE))   # not on this list
    desk.item(d.CaptureSignature("s-umbrella", "registration_finder", None, "c-017", at(days=40, hours=0.7)))
    steps["transferred"] = desk.handover(d.RecordFinanceTransfer("h-1", ("s-umbrella",), ("v-hat",),
                                                                 at(days=40, hours=1)))
    steps["custodian signs"] = desk.handover(d.CaptureSignature("h-1", "handover_custodian", "k-1", "k-1",
                                                                at(days=40, hours=1.1), image_ref=IMAGE))
    steps["signed off"] = desk.handover(d.SignOffFinanceHandover("h-1", "f-1", "王会计", at(days=41)))
    return steps


def test_the_handover_list_shows_each_line_as_listed_handed_over_or_withdrawn_and_finances_sign_off(desk, handover):
    s = handover
    shown = desk.folds().fold(f.FinanceHandoverLists).handover("h-1")
    drawn, transferred, signed_off = s["drawn"][0], s["transferred"][0], s["signed off"][0]
    assert shown == {
        "handover_id": "h-1", "month": "2026-06", "custodian_id": "k-1", "drawn_at": at(days=40),
        "lines": [
            {"item_id": "s-umbrella", "short_code": d.short_code("s-umbrella"), "item_name": "red umbrella",
             "category": "umbrella", "turned_in_on": DAY, "state": "handed_over", **trace(drawn, *s["handed"])},
            {"item_id": "v-hat", "short_code": d.short_code("v-hat"), "item_name": "straw hat", "category": "clothing",
             "turned_in_on": DAY, "state": "withdrawn", **trace(drawn, transferred)}],
        "transferred_at": at(days=40, hours=1), "signed_by": "f-1", "signer_name": "王会计", "signed_at": at(days=41),
        "signatures": [{"part": "handover_custodian", "signer_kind": "custodian", "signer_id": "k-1",
                        "captured_by": "k-1", "image_ref": IMAGE, "signed_at": at(days=40, hours=1.1),
                        **trace(*s["custodian signs"])}],
        **trace(drawn, transferred, signed_off)}


def test_a_handover_list_as_drawn_waits_for_the_transfer_and_the_sign_off(desk):
    desk.item(staff_turn_in("s-umbrella"))
    drawn = desk.handover(d.DrawFinanceHandoverList("h-1", "2026-06", "k-1", (line("s-umbrella"),), at(days=40),
                                                    LATE))
    lists = desk.folds().fold(f.FinanceHandoverLists)
    shown = lists.handover("h-1")
    assert (shown["transferred_at"], shown["signed_by"], shown["signer_name"], shown["signed_at"],
            shown["signatures"]) == (None, None, None, None, [])
    assert [(row["state"], row["positions"]) for row in shown["lines"]] == [("listed", [drawn[0].position])]
    shown["lines"][0]["state"] = "scribbled"
    assert lists.handover("h-1")["lines"][0]["state"] == "listed"
    assert lists.handover("h-9") is None


def test_a_disposal_list_for_the_issuing_bank_shows_its_lines_the_receivers_sign_off_and_signatures(desk):
    desk.item(turn_in("v-card", category="card", item_name="银行卡", hidden_features=(), quantity=2))
    desk.item(turn_in("v-card2", category="card", item_name="银行卡", hidden_features=(), at=at(0.1)))
    desk.item(d.CorrectFoundItem("v-card", "corr-1", (("item_name", "工商银行卡"),), "the bank's name", "tl-3",
                                 d.TEAM_LEAD, at(1)))
    drawn = desk.disposal(d.DrawDisposalList("dp-1", d.ISSUING_BANK, "工商银行景区支行", "k-1",
                                             (line("v-card", d.ISSUING_BANK), line("v-card2", d.ISSUING_BANK)),
                                             at(days=40), LATE))
    disposed = desk.item(d.DisposeItem("v-card", "dp-1", d.ISSUING_BANK, "k-1", at(days=40, hours=1), LATE))
    desk.item(d.CaptureSignature("v-card2", "registration_finder", None, "c-017", at(2)))   # the item's form's
    recorded = desk.disposal(d.RecordDisposal("dp-1", ("v-card",), ("v-card2",), at(days=40, hours=2)))
    signed_off = desk.disposal(d.SignOffDisposal("dp-1", "k-1", at(days=40, hours=3), "李柜员", "回执 0042"))
    custodian_signs = desk.disposal(d.CaptureSignature("dp-1", "disposal_custodian", "k-1", "k-1",
                                                       at(days=40, hours=3.1)))
    receiver_signs = desk.disposal(d.CaptureSignature("dp-1", "disposal_receiver", None, "k-1",
                                                      at(days=40, hours=3.2), image_ref=IMAGE))
    lists = desk.folds().fold(f.DisposalLists)
    assert lists.disposal("dp-1") == {
        "disposal_id": "dp-1", "route": d.ISSUING_BANK, "receiver": "工商银行景区支行", "custodian_id": "k-1",
        "drawn_at": at(days=40),
        "lines": [
            {"item_id": "v-card", "short_code": d.short_code("v-card"), "item_name": "工商银行卡", "category": "card",
             "quantity": 2, "state": "disposed", **trace(drawn[0], *disposed)},
            {"item_id": "v-card2", "short_code": d.short_code("v-card2"), "item_name": "银行卡", "category": "card",
             "quantity": 1, "state": "withdrawn", **trace(drawn[0], recorded[0])}],
        "recorded_at": at(days=40, hours=2), "receiver_name": "李柜员", "receiver_reference": "回执 0042",
        "witness_id": None, "witness_name": None, "signed_by": "k-1", "signed_at": at(days=40, hours=3),
        "signatures": [
            {"part": "disposal_custodian", "signer_kind": "custodian", "signer_id": "k-1", "captured_by": "k-1",
             "image_ref": None, "signed_at": at(days=40, hours=3.1), **trace(*custodian_signs)},
            {"part": "disposal_receiver", "signer_kind": "receiver", "signer_id": None, "captured_by": "k-1",
             "image_ref": IMAGE, "signed_at": at(days=40, hours=3.2), **trace(*receiver_signs)}],
        **trace(drawn[0], recorded[0], signed_off[0])}
    assert lists.disposal("dp-9") is None
    shown = lists.disposal("dp-1")
    shown["lines"].clear()
    assert len(lists.disposal("dp-1")["lines"]) == 2


def test_a_disposal_list_as_drawn_lists_every_item_and_waits_for_the_hand_over_and_the_sign_off(desk):
    desk.item(turn_in("v-id", category="document", item_name="身份证", hidden_features=()))
    drawn = desk.disposal(d.DrawDisposalList("dp-1", d.POLICE, "景区派出所", "k-1", (line("v-id", d.POLICE),),
                                             at(days=40), LATE))
    shown = desk.folds().fold(f.DisposalLists).disposal("dp-1")
    assert [(row["item_id"], row["item_name"], row["state"], row["positions"]) for row in shown["lines"]] == \
        [("v-id", "身份证", "listed", [drawn[0].position])]
    assert (shown["recorded_at"], shown["receiver_name"], shown["receiver_reference"], shown["witness_id"],
            shown["witness_name"], shown["signed_by"], shown["signed_at"], shown["signatures"]) == \
        (None, None, None, None, None, None, None, [])


def test_a_destruction_is_signed_off_by_its_witness(desk):
    desk.item(turn_in("v-cake", category="perishable", item_name="蛋糕", hidden_features=()))
    desk.disposal(d.DrawDisposalList("dp-2", d.DESTROY, None, "k-1", (line("v-cake", d.DESTROY),), at(days=40),
                                     LATE))
    desk.item(d.DisposeItem("v-cake", "dp-2", d.DESTROY, "k-1", at(days=40, hours=1), LATE))
    desk.disposal(d.RecordDisposal("dp-2", ("v-cake",), (), at(days=40, hours=2)))
    desk.disposal(d.SignOffDisposal("dp-2", "k-1", at(days=40, hours=3), witness_id="s-205", witness_name="张三"))
    witness_signs = desk.disposal(d.CaptureSignature("dp-2", "disposal_witness", "s-205", "k-1",
                                                     at(days=40, hours=3.1)))
    shown = desk.folds().fold(f.DisposalLists).disposal("dp-2")
    assert (shown["route"], shown["receiver"], shown["witness_id"], shown["witness_name"], shown["receiver_name"],
            shown["receiver_reference"]) == (d.DESTROY, None, "s-205", "张三", None, None)
    assert [(s_["part"], s_["signer_id"], s_["positions"]) for s_ in shown["signatures"]] == \
        [("disposal_witness", "s-205", [witness_signs[0].position])]
    assert [row["state"] for row in shown["lines"]] == ["disposed"]


# -- the lead's follow-up: items on their way to another desk or by courier -----------------------------------
@pytest.fixture
def moving(desk):
    """A phone sent to the south gate at 12:00 and received there at 13:00; a bag claimed at 12:30 for a
    courier return, dispatched at 15:00; a hat sent at 14:00 and not yet received."""
    steps = {}
    desk.item(turn_in("v-phone"))
    desk.item(turn_in("v-bag", category="bag", item_name="bag", hidden_features=(("inside", "a notebook"),)))
    desk.item(turn_in("v-hat", category="clothing", item_name="hat", hidden_features=()))
    steps["sent"] = desk.item(d.SendItemToDesk("v-phone", "south-gate", "the owner waits there", "c-017", at(2)))
    steps["received"] = desk.item(d.ReceiveItemAtDesk("v-phone", "south-gate", "drawer 9", "c-020", at(3)))
    desk.item(verify("v-bag", "v-1", at(2.2), features=("inside",)))
    steps["arranged"] = desk.item(d.ArrangeCourierReturn(
        claim("v-bag", "claim-1", "v-1", at(2.5)), "ret-1", "韩梅梅", "13800000000", "北京市东城区某街1号", "visitor",
        Decimal("23.00"), "CNY"))
    steps["hat sent"] = desk.item(d.SendItemToDesk("v-hat", "east-gate", "lost property day", "c-017", at(4)))
    steps["dispatched"] = desk.item(d.RecordCourierDispatch("v-bag", "ret-1", "顺丰速运", "SF1234567890", "c-017", at(5)))
    return steps


def test_an_item_is_on_its_way_from_the_moment_it_is_sent_until_the_moment_it_arrives(desk, moving):
    pending = desk.folds().fold(f.ItemsOnTheWay)
    sent = moving["sent"][0]
    assert pending.pending(at(2) - dt.timedelta(seconds=1)) == []
    assert pending.pending(at(2)) == [{"kind": "to_desk", "item_id": "v-phone", "short_code": d.short_code("v-phone"),
                                       "from_desk": "main-gate", "to": "south-gate", "since": at(2), **trace(sent)}]
    assert [row["item_id"] for row in pending.pending(at(3) - dt.timedelta(seconds=1))] == ["v-phone", "v-bag"]
    assert [row["item_id"] for row in pending.pending(at(3))] == ["v-bag"]


def test_a_courier_return_is_on_its_way_until_dispatched_and_lists_only_its_first_event(desk, moving):
    pending = desk.folds().fold(f.ItemsOnTheWay)
    arranged = one(moving["arranged"], "CourierReturnArranged")
    courier = [row for row in pending.pending(at(4.5)) if row["kind"] == "by_courier"]
    assert courier == [{"kind": "by_courier", "item_id": "v-bag", "short_code": d.short_code("v-bag"),
                        "from_desk": None, "to": "ret-1", "since": at(2.5), **trace(arranged)}]
    assert [(row["item_id"], row["positions"]) for row in pending.pending(at(5))] == \
        [("v-hat", [moving["hat sent"][0].position])]
    after = pending.pending(at(6))
    after[0]["positions"].append(0)
    assert pending.pending(at(6))[0]["positions"] == [moving["hat sent"][0].position]


def test_arriving_at_a_desk_closes_the_move_of_that_item_only(desk):
    desk.item(turn_in("v-1"))
    desk.item(turn_in("v-2", at=at(0.1)))
    desk.item(d.SendItemToDesk("v-1", "south-gate", "x", "c-017", at(1)))
    desk.item(d.SendItemToDesk("v-2", "south-gate", "x", "c-017", at(1.1)))
    desk.item(d.ReceiveItemAtDesk("v-2", "south-gate", "drawer 9", "c-020", at(2)))
    desk.item(on_site_turn_in("o-1", at=at(2.1)))
    desk.item(d.ReceiveItemAtDesk("o-1", "main-gate", "drawer 1", "c-017", at(2.2)))  # from the site: no move
    assert [row["item_id"] for row in desk.folds().fold(f.ItemsOnTheWay).pending(at(3))] == ["v-1"]


# -- the public notice board (招领公告) -------------------------------------------------------------------------
def test_a_notice_shows_only_what_a_passer_by_may_read_and_the_local_day_it_was_found(desk):
    desk.item(turn_in("v-phone", found_at=dt.datetime(2026, 5, 1, 1, 0, tzinfo=CST), quantity=2))
    board = desk.folds().fold(f.PublicNoticeList)
    assert board.notices(CST) == [{"short_code": d.short_code("v-phone"), "item_name": "black phone",
                                   "category": "phone", "found_place": "north gate", "desk": "main-gate",
                                   "retain_until": DAY + dt.timedelta(days=30), "quantity": 2, "found_on": DAY}]
    assert board.notices(UTC)[0]["found_on"] == DAY - dt.timedelta(days=1)
    served = f.serve_public_notice_list(desk.folds(), {"desk": None, "category": None, "limit": 10}, CST)
    assert [row["found_on"] for row in served["rows"]] == [DAY]


def test_the_board_lists_the_latest_finds_first_and_as_many_as_asked(desk):
    for item_id, hours in (("v-a", -3), ("v-b", -1), ("v-c", -2)):
        desk.item(turn_in(item_id, item_name=item_id, found_at=at(hours)))
    board = desk.folds().fold(f.PublicNoticeList)
    assert [row["item_name"] for row in board.notices(CST)] == ["v-b", "v-c", "v-a"]
    assert [row["item_name"] for row in board.notices(CST, limit=2)] == ["v-b", "v-c"]
    assert len(board.notices(CST)) == 3       # 200 by default


def test_finds_of_the_same_moment_are_listed_by_code_from_the_last(desk):
    codes = {}
    for item_id in ("v-a", "v-b", "v-c"):
        desk.item(turn_in(item_id, item_name=item_id))
        codes[item_id] = d.short_code(item_id)
    rows = desk.folds().fold(f.PublicNoticeList).notices(CST)
    assert [row["short_code"] for row in rows] == sorted(codes.values(), reverse=True)


def test_the_board_shows_an_item_as_corrected_and_at_the_desk_it_was_moved_to(desk):
    desk.item(turn_in("v-bag", category="bag", item_name="包", hidden_features=()))
    desk.item(d.CorrectFoundItem("v-bag", "corr-1", (("item_name", "钱包"), ("category", "wallet"),
                                                     ("found_place", "west gate"), ("found_at", at(-4)),
                                                     ("quantity", 2)),
                                 "typed 包 for 钱包", "tl-3", d.TEAM_LEAD, at(0.5), valuable_categories=VALUABLES,
                                 retention=d.RetentionPolicy(default_days=30, valuable_days=90)))
    desk.item(d.SendItemToDesk("v-bag", "south-gate", "the owner waits there", "c-017", at(1)))
    board = desk.folds().fold(f.PublicNoticeList)
    assert board.notices(CST)[0]["desk"] == "main-gate"                 # still on its way
    desk.item(d.ReceiveItemAtDesk("v-bag", "south-gate", "drawer 9", "c-020", at(1.5)))
    [row] = desk.folds().fold(f.PublicNoticeList).notices(CST, desk="south-gate", category="wallet")
    assert row == {"short_code": d.short_code("v-bag"), "item_name": "钱包", "category": "wallet",
                   "found_place": "west gate", "desk": "south-gate", "retain_until": DAY + dt.timedelta(days=90),
                   "quantity": 2, "found_on": DAY}


def test_an_item_leaves_the_board_when_claimed_handed_to_finance_voided_or_disposed_of(desk):
    for item_id in ("v-claimed", "v-finance", "v-void", "v-police", "v-kept"):
        desk.item(turn_in(item_id, item_name=item_id, hidden_features=(("mark", "x"),)))
    desk.item(verify("v-claimed", "v-1", at(1), features=("mark",)))
    desk.item(claim("v-claimed", "claim-1", "v-1", at(1.5)))
    desk.item(d.CorrectFoundItem("v-claimed", "corr-1", (("item_name", "renamed"),), "typo", "tl-3", d.TEAM_LEAD,
                                 at(2)))                                  # after the claim: still off the board
    desk.item(d.HandItemToFinance("v-finance", "h-1", "k-1", at(days=31), DAY + dt.timedelta(days=31)))
    desk.item(d.VoidFoundItem("v-void", "registered twice", "tl-3", d.TEAM_LEAD, at(1), held("v-kept"), "v-kept"))
    desk.item(d.DisposeItem("v-police", "dp-1", d.POLICE, "k-1", at(days=31), DAY + dt.timedelta(days=31)))
    assert [row["item_name"] for row in desk.folds().fold(f.PublicNoticeList).notices(CST)] == ["v-kept"]


def test_the_board_shows_the_200_latest_finds_unless_asked_for_more():
    @dataclasses.dataclass
    class Rec:
        type: str
        position: int
        event_id: str = "e"

    board = f.PublicNoticeList()
    for n in range(201):
        board.apply(Rec("FoundItemTurnedIn", n + 1), {
            "item_id": f"i-{n}", "short_code": f"LF-{n:06d}", "item_name": "umbrella", "category": "umbrella",
            "found_place": "north gate", "found_at": at(-n / 60), "desk": "main-gate",
            "retain_until": DAY, "quantity": 1})                   # one a minute earlier than the last
    shown = board.notices(CST)
    assert len(shown) == 200 and shown[0]["short_code"] == "LF-000000" and shown[-1]["short_code"] == "LF-000199"
    assert len(board.notices(CST, limit=500)) == 201
