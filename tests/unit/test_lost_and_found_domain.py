"""Lost and found decider: given events, when a command, then events or a
refusal. Plus two rules that need the chassis and a real (SQLite) store: a
claim that loses a race, and a retried finance handover step."""
import dataclasses
import datetime as dt

import pytest

import contracts
from services.chassis.codec import EventCodec
from services.chassis.commands import execute
from services.chassis.decider import NotFound, Rejected, fold
from services.eventstore import open_store
from services.lost_and_found import domain as d

CST = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 5, 1, 10, 0, tzinfo=CST)
DAY = T0.date()
VALUABLES = frozenset({"phone", "cash", "camera"})
CLAIMANT = "hmac-of-the-claimants-id-number"   # the claimant's keyed hash, as the service derives it


def at(hours=0.0, days=0):
    return T0 + dt.timedelta(hours=hours, days=days)


def given(*events):
    return fold(d, events)


def when(state, command):
    return d.decide(command, state)


def refusal(state, command) -> Rejected:
    with pytest.raises(Rejected) as raised:
        d.decide(command, state)
    return raised.value


def turn_in(**changes) -> d.TurnInFoundItem:
    base = d.TurnInFoundItem(
        item_id="item-1", desk="main-gate", channel=d.DESK_STAFF, item_name="black phone", category="phone",
        description="black smartphone in a blue case", found_place="north gate", found_at=at(-1),
        finder_kind="staff", finder_id="s-101", finder_name="李雷", finder_phone=None, finder_department="security",
        registered_by="c-017", registered_by_role=d.CLERK, storage_place="desk drawer 2", at=T0, business_date=DAY,
        hidden_features=(("wallpaper", "a grey cat"), ("serial number", "SN-77")), valuable_categories=VALUABLES)
    return dataclasses.replace(base, **changes)


def turned_in(**changes):
    return when(d.initial_state, turn_in(**changes))


def verify(**changes) -> d.RecordClaimVerification:
    base = d.RecordClaimVerification("item-1", "v-1", "black phone, cat wallpaper", ("wallpaper",), True, d.OWNER,
                                     "c-017", d.CLERK, at(1), claimant_key=CLAIMANT)
    return dataclasses.replace(base, **changes)


def claim(**changes) -> d.ClaimItem:
    base = d.ClaimItem(item_id="item-1", claim_id="claim-1", verification_id="v-1", claim_kind=d.UNREPORTED,
                       claimant_name="韩梅梅", claimant_phone="13800000000", claimant_id_type="resident_id",
                       claimant_id_number="110101199001011234", released_by="c-017", released_by_role=d.CLERK,
                       at=at(2), business_date=DAY, claimant_key=CLAIMANT)
    return dataclasses.replace(base, **changes)


def verified(**changes):
    """Events of an item turned in and verified as its claimant's."""
    return [*turned_in(**changes), *when(given(*turned_in(**changes)), verify())]


# -- turn-in -------------------------------------------------------------------------
def test_a_staff_turn_in_at_the_desk_is_registered_and_the_finder_gets_a_receipt_counting_as_a_good_deed():
    events = turned_in()
    assert [type(e) for e in events] == [d.FoundItemTurnedIn, d.FoundItemReceiptIssued]
    registered, receipt = events
    assert (registered.channel, registered.finder_id, registered.storage_place) == (d.DESK_STAFF, "s-101",
                                                                                    "desk drawer 2")
    assert registered.short_code == d.short_code("item-1")
    assert (receipt.receipt_no, receipt.finder_id, receipt.good_deed) == (d.receipt_no("item-1"), "s-101", "desk")


def test_a_visitor_turn_in_gets_an_information_card_with_a_short_code_and_a_qr_payload_and_no_receipt():
    events = turned_in(channel=d.DESK_VISITOR, finder_kind="visitor", finder_id=None)
    assert [type(e) for e in events] == [d.FoundItemTurnedIn, d.ItemInformationCardIssued]
    card = events[1]
    assert card.qr_payload == "vsc:found-item:item-1"
    assert card.short_code == events[0].short_code and card.short_code.startswith("LF-")


def test_an_on_site_turn_in_by_a_clerk_issues_an_on_site_good_deed_receipt_and_a_card():
    events = turned_in(channel=d.ON_SITE)
    assert [type(e) for e in events] == [d.FoundItemTurnedIn, d.FoundItemReceiptIssued, d.ItemInformationCardIssued]
    assert events[1].good_deed == "on_site"


def test_a_team_lead_registers_on_site_with_the_finder_and_a_staff_witness_when_the_owner_urgently_asks():
    events = turned_in(channel=d.ON_SITE, registered_by="tl-3", registered_by_role=d.TEAM_LEAD, witness_id="s-205",
                       witness_name="张三", owner_urgent=True)
    assert (events[0].registered_by_role, events[0].witness_id) == (d.TEAM_LEAD, "s-205")
    assert events[1].issued_by == "tl-3"


@pytest.mark.parametrize("witness_id, witness_name", [(None, None), ("s-205", None), (None, "张三")])
def test_a_team_lead_cannot_register_without_a_witness(witness_id, witness_name):
    command = turn_in(channel=d.ON_SITE, registered_by="tl-3", registered_by_role=d.TEAM_LEAD,
                      witness_id=witness_id, witness_name=witness_name, owner_urgent=True)
    assert (refusal(d.initial_state, command).code, refusal(d.initial_state, command).field) == \
        ("witness_required", "witness_id")


def test_a_team_lead_cannot_register_without_the_finder():
    command = turn_in(channel=d.ON_SITE, finder_id=None, registered_by="tl-3", registered_by_role=d.TEAM_LEAD,
                      witness_id="s-205", witness_name="张三", owner_urgent=True)
    assert refusal(d.initial_state, command).code == "finder_required"


def test_the_witness_must_be_a_third_member_of_staff():
    command = turn_in(channel=d.ON_SITE, registered_by="tl-3", registered_by_role=d.TEAM_LEAD, witness_id="s-101",
                      witness_name="李雷", owner_urgent=True)
    assert refusal(d.initial_state, command).code == "witness_required"


def test_a_team_lead_registers_only_when_no_clerk_can_come_and_the_owner_urgently_asks():
    command = turn_in(channel=d.ON_SITE, registered_by="tl-3", registered_by_role=d.TEAM_LEAD, witness_id="s-205",
                      witness_name="张三", owner_urgent=False)
    assert refusal(d.initial_state, command).code == "clerk_must_register"


def test_a_team_lead_cannot_register_an_item_at_the_desk():
    command = turn_in(registered_by_role=d.TEAM_LEAD, witness_id="s-205", witness_name="张三", owner_urgent=True)
    assert refusal(d.initial_state, command).code == "team_lead_only_on_site"


def test_an_item_is_registered_only_once():
    assert refusal(given(*turned_in()), turn_in()).code == "already_turned_in"


def test_an_item_cannot_be_found_after_it_was_turned_in():
    assert refusal(d.initial_state, turn_in(found_at=at(1))).field == "found_at"


def test_hidden_feature_labels_must_differ():
    command = turn_in(hidden_features=(("serial number", "A"), ("serial number", "B")))
    assert refusal(d.initial_state, command).code == "duplicate_feature"


def test_an_item_of_a_configured_valuable_category_is_a_valuable():
    assert turned_in()[0].valuable is True
    assert turned_in(category="umbrella")[0].valuable is False
    assert turned_in(valuable_categories=frozenset())[0].valuable is False


def test_retention_is_per_category_else_for_valuables_else_the_default():
    policy = d.RetentionPolicy(default_days=30, valuable_days=90, per_category=(("umbrella", 7),))
    assert turned_in(retention=policy)[0].retain_until == DAY + dt.timedelta(days=90)
    assert turned_in(retention=policy, category="umbrella")[0].retain_until == DAY + dt.timedelta(days=7)
    assert turned_in(retention=policy, category="bag")[0].retain_until == DAY + dt.timedelta(days=30)


def test_hidden_feature_details_are_only_in_the_turn_in_event_never_in_the_receipt_or_card():
    events = turned_in(channel=d.ON_SITE)
    assert events[0].hidden_features == (("wallpaper", "a grey cat"), ("serial number", "SN-77"))
    for event in events[1:]:
        assert "grey cat" not in repr(event) and "SN-77" not in repr(event)


# -- lost-item reports, matches and contact tasks -------------------------------------------
def report(**changes) -> d.ReportLostItem:
    base = d.ReportLostItem("r-1", "main-gate", "black phone", "phone", "black smartphone", "blue case, cracked corner",
                            "north gate", at(-3), at(-2), "韩梅梅", "13800000000", "c-017", T0, DAY)
    return dataclasses.replace(base, **changes)


ITEM_FACTS = d.ItemFacts("item-1", "LF-ABCDEF", d.HELD)


def test_a_visitor_reports_a_lost_item_with_what_where_when_features_and_contact():
    [reported] = when(d.initial_state, report())
    assert (reported.lost_place, reported.features, reported.visitor_phone) == \
        ("north gate", "blue case, cracked corner", "13800000000")


def test_a_loss_window_that_ends_before_it_begins_is_refused():
    assert refusal(d.initial_state, report(lost_from=at(-1), lost_until=at(-2))).field == "lost_from"


def test_a_loss_cannot_end_after_it_was_reported():
    assert refusal(d.initial_state, report(lost_until=at(1))).field == "lost_until"


def test_a_confirmed_match_opens_a_contact_task_that_closes_when_the_visitor_is_reached():
    state = given(*when(d.initial_state, report()))
    matched, opened = when(state, d.ConfirmMatch("r-1", ITEM_FACTS, "task-1", "c-017", at(1)))
    assert (matched.item_id, opened.task_id) == ("item-1", "task-1")
    state = given(*when(d.initial_state, report()), matched, opened)
    [no_answer] = when(state, d.RecordVisitorContact("r-1", "task-1", "c-017", "no_answer", at(2)))
    assert no_answer.task_closed is False
    state = d.evolve(state, no_answer)
    [reached] = when(state, d.RecordVisitorContact("r-1", "task-1", "c-017", d.REACHED, at(3)))
    assert reached.task_closed is True
    assert refusal(d.evolve(state, reached), d.RecordVisitorContact("r-1", "task-1", "c-017", d.REACHED,
                                                                    at(4))).code == "no_open_contact_task"


def test_a_report_is_matched_at_most_once():
    events = when(d.initial_state, report())
    events += when(given(*events), d.ConfirmMatch("r-1", ITEM_FACTS, "task-1", "c-017", at(1)))
    other = d.ItemFacts("item-2", "LF-GHIJKL", d.HELD)
    assert refusal(given(*events), d.ConfirmMatch("r-1", other, "task-2", "c-017", at(2))).code == "already_matched"


def test_a_match_to_an_unknown_item_is_not_found_and_to_a_claimed_item_is_refused():
    state = given(*when(d.initial_state, report()))
    with pytest.raises(NotFound):
        when(state, d.ConfirmMatch("r-1", None, "task-1", "c-017", at(1)))
    claimed = dataclasses.replace(ITEM_FACTS, status=d.CLAIMED)
    assert refusal(state, d.ConfirmMatch("r-1", claimed, "task-1", "c-017", at(1))).code == "item_not_available"


def test_a_match_on_an_unknown_report_is_not_found():
    with pytest.raises(NotFound) as raised:
        when(d.initial_state, d.ConfirmMatch("r-9", ITEM_FACTS, "task-1", "c-017", at(1)))
    assert raised.value.field == "report_id"


# -- verification and claims -----------------------------------------------------------
def test_the_clerk_records_which_hidden_features_matched_and_decides_owner():
    [recorded] = when(given(*turned_in()), verify())
    assert (recorded.matched_features, recorded.decision) == (("wallpaper",), d.OWNER)
    assert "grey cat" not in repr(recorded)


def test_a_verification_naming_a_feature_not_recorded_at_turn_in_is_refused():
    assert refusal(given(*turned_in()), verify(matched_features=("engraving",))).code == "unknown_feature"


def test_owner_without_any_hidden_feature_matched_is_insufficient_proof():
    assert refusal(given(*turned_in()), verify(matched_features=())).code == "insufficient_proof"


def test_an_item_without_hidden_features_is_verified_by_the_description():
    state = given(*turned_in(hidden_features=()))
    assert refusal(state, verify(matched_features=(), description_matched=False)).code == "insufficient_proof"
    assert when(state, verify(matched_features=(), description_matched=True))[0].decision == d.OWNER


def test_a_verification_may_decide_not_the_owner_or_needs_more_proof():
    state = given(*turned_in())
    assert when(state, verify(decision=d.NOT_OWNER, matched_features=()))[0].decision == d.NOT_OWNER
    assert when(state, verify(decision=d.NEEDS_MORE_PROOF))[0].decision == d.NEEDS_MORE_PROOF


def test_no_claim_without_a_recorded_verification():
    rejected = refusal(given(*turned_in()), claim())
    assert (rejected.code, rejected.field) == ("verification_required", "verification_id")


@pytest.mark.parametrize("decision", [d.NOT_OWNER, d.NEEDS_MORE_PROOF])
def test_no_claim_when_the_verification_did_not_decide_owner(decision):
    events = [*turned_in(), *when(given(*turned_in()), verify(decision=decision, matched_features=()))]
    assert refusal(given(*events), claim()).code == "not_verified_owner"


@pytest.mark.parametrize("channel, finder_kind, form", [(d.DESK_VISITOR, "visitor", "3.3"),
                                                         (d.DESK_STAFF, "staff", "3.4"), (d.ON_SITE, "staff", "3.5")])
def test_the_verified_owner_fills_in_the_claim_part_of_the_items_own_form(channel, finder_kind, form):
    events = verified(channel=channel, finder_kind=finder_kind)
    [claimed] = when(given(*events), claim())
    assert (claimed.claim_form, claimed.claimant_id_number, claimed.verification_id) == \
        (form, "110101199001011234", "v-1")


def test_an_item_is_claimed_at_most_once():
    events = verified()
    events += when(given(*events), claim())
    rejected = refusal(given(*events), claim(claim_id="claim-2"))
    assert (rejected.code, rejected.field) == ("already_claimed", "item_id")
    assert refusal(given(*events), verify(verification_id="v-2")).code == "already_claimed"


def test_a_claim_for_a_reported_loss_names_the_report():
    state = given(*verified())
    assert refusal(state, claim(claim_kind=d.REPORTED)).field == "report_id"
    matched = d.ReportFacts("r-1", "item-1")
    assert when(state, claim(claim_kind=d.REPORTED, report_id="r-1", report=matched))[0].report_id == "r-1"


def test_a_claim_on_an_unknown_item_is_not_found():
    with pytest.raises(NotFound) as raised:
        when(d.initial_state, claim())
    assert raised.value.field == "item_id"


def test_a_team_lead_takes_an_on_spot_claim_whose_form_is_due_at_the_desk_by_the_end_of_the_day():
    due = dt.datetime(2026, 5, 2, tzinfo=CST)
    events = [*turned_in(channel=d.ON_SITE)]
    events += when(given(*events), verify(verified_by="tl-3", verified_by_role=d.TEAM_LEAD))
    command = claim(claim_kind=d.ON_SPOT, released_by="tl-3", released_by_role=d.TEAM_LEAD, on_spot_form_due=due)
    [claimed] = when(given(*events), command)
    assert (claimed.on_spot_form_due, claimed.claim_form) == (due, "3.5")
    state = given(*events, claimed)
    [filed] = when(state, d.FileOnSpotClaimForm("item-1", "c-017", at(5)))
    assert filed.late is False
    [late] = when(state, d.FileOnSpotClaimForm("item-1", "c-017", due + dt.timedelta(hours=9)))
    assert late.late is True
    assert refusal(d.evolve(state, filed), d.FileOnSpotClaimForm("item-1", "c-017", at(6))).code == "already_filed"


def test_a_team_lead_releases_only_items_found_on_site():
    command = claim(claim_kind=d.ON_SPOT, released_by="tl-3", released_by_role=d.TEAM_LEAD,
                    on_spot_form_due=at(14))
    assert refusal(given(*verified()), command).code == "team_lead_only_on_site"
    assert refusal(given(*turned_in()), verify(verified_by_role=d.TEAM_LEAD)).code == "team_lead_only_on_site"


def test_a_clerks_claim_has_no_on_spot_form_to_file():
    events = verified()
    events += when(given(*events), claim())
    assert refusal(given(*events), d.FileOnSpotClaimForm("item-1", "c-017", at(5))).code == "no_on_spot_claim"


# -- custody -------------------------------------------------------------------------------
def custody(**changes):
    base = d.HandToCustodian("item-1", "c-017", "k-1", "safe 1", at(8), desk="main-gate")
    return dataclasses.replace(base, **changes)


def test_the_clerk_who_took_a_valuable_in_hands_it_to_the_custodian_recording_the_storage_place():
    [handed] = when(given(*turned_in()), custody())
    assert (handed.custodian_id, handed.storage_place) == ("k-1", "safe 1")


def test_any_clerk_on_duty_at_the_items_desk_hands_it_over_not_only_the_one_who_took_it_in():
    # given a valuable taken in by c-017, who has gone home; when c-099 at the same desk hands it over
    [handed] = when(given(*turned_in()), custody(handed_by="c-099", at=at(days=1)))
    # then it is with the custodian, c-099 recorded as the one who handed it (交接人)
    assert (handed.handed_by, handed.custodian_id, handed.storage_place) == ("c-099", "k-1", "safe 1")
    # but not from another desk
    rejected = refusal(given(*turned_in()), custody(handed_by="c-099", desk="south-gate"))
    assert (rejected.code, rejected.field) == ("not_at_items_desk", "desk")


def test_no_release_of_a_valuable_in_custody_without_the_custodian():
    events = verified()
    events += when(given(*events), custody())
    state = given(*events)
    assert (refusal(state, claim()).code, refusal(state, claim()).field) == ("custodian_required", "cosigner")
    # any custodian who confirms with their own login (the service puts only such an id here),
    # not only the one who took it in: the rule does not rest on knowing an id
    assert when(state, claim(custodian_id="k-2"))[0].custodian_id == "k-2"
    assert when(state, claim(custodian_id="k-1"))[0].custodian_id == "k-1"


def test_a_claimed_item_does_not_go_into_custody_nor_twice():
    events = verified()
    assert refusal(given(*events, *when(given(*events), claim())), custody()).code == "already_claimed"
    events += when(given(*events), custody())
    assert refusal(given(*events), custody()).code == "already_in_custody"


# -- disposal: the monthly handover to finance -------------------------------------------------
LATER = DAY + dt.timedelta(days=40)


def draw(lines, business_date=LATER):
    return d.DrawFinanceHandoverList("h-1", "2026-06", "k-1", tuple(lines), at(days=40), business_date)


def line(item_id="item-1", status=d.HELD, retain_until=DAY + dt.timedelta(days=30)):
    return d.HandoverLine(item_id, status, retain_until)


def test_the_custodian_draws_a_list_of_unclaimed_items_whose_retention_is_over():
    [drawn] = when(d.initial_state, draw([line(), line("item-2", d.IN_CUSTODY)]))
    assert drawn.item_ids == ("item-1", "item-2")


def test_items_still_kept_claimed_or_unknown_cannot_be_listed():
    assert refusal(d.initial_state, draw([line()], business_date=DAY)).code == "retention_not_over"
    assert refusal(d.initial_state, draw([line(status=d.CLAIMED)])).code == "not_unclaimed"
    with pytest.raises(NotFound):
        when(d.initial_state, draw([line(status=None, retain_until=None)]))
    assert refusal(d.initial_state, draw([])).code == "nothing_to_hand_over"


def test_an_item_handed_to_finance_cannot_be_claimed_and_the_refusal_says_where_it_went():
    events = verified()
    events += when(given(*events), d.HandItemToFinance("item-1", "h-1", "k-1", at(days=40), LATER))
    rejected = refusal(given(*events), claim(at=at(days=41)))
    assert rejected.code == "handed_to_finance"
    assert "finance" in rejected.message and "h-1" in rejected.message


def test_an_item_is_not_handed_to_finance_before_its_retention_is_over():
    command = d.HandItemToFinance("item-1", "h-1", "k-1", at(days=3), DAY + dt.timedelta(days=3))
    assert refusal(given(*turned_in()), command).code == "retention_not_over"


def test_finance_signs_off_only_after_every_listed_item_is_handed_over_or_withdrawn():
    events = when(d.initial_state, draw([line(), line("item-2")]))
    sign = d.SignOffFinanceHandover("h-1", "f-1", "王会计", at(days=41))
    assert refusal(given(*events), sign).code == "not_transferred"
    incomplete = d.RecordFinanceTransfer("h-1", ("item-1",), (), at(days=40))
    assert refusal(given(*events), incomplete).code == "incomplete_transfer"
    events += when(given(*events), d.RecordFinanceTransfer("h-1", ("item-1",), ("item-2",), at(days=40)))
    [signed] = when(given(*events), sign)
    assert signed.signer_name == "王会计"
    assert refusal(given(*events, signed), sign).code == "already_signed_off"


def test_the_handover_steps_have_command_ids_derived_from_handover_and_item():
    assert d.finance_transfer_command_id("h-1", "item-1") == d.finance_transfer_command_id("h-1", "item-1")
    assert d.finance_transfer_command_id("h-1", "item-1") != d.finance_transfer_command_id("h-1", "item-2")
    assert d.finance_step_command_id("h-1", "drawn") != d.finance_step_command_id("h-2", "drawn")


# -- through the chassis, on a real SQLite store ------------------------------------------
@pytest.fixture
def store(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/events.db", validator=contracts.registry)
    yield store
    store.close()


@pytest.fixture
def codec():
    return EventCodec(contracts.registry, d.EVENTS)


def run(store, codec, command, stream="found_item-item-1", command_id=None):
    return execute(store, codec, d, stream, command, occurred_at=command.at, metadata={"actor": "test"},
                   command_id=command_id)


def test_a_claim_that_loses_the_race_is_re_decided_and_refused_as_already_claimed(store, codec):
    run(store, codec, turn_in())
    run(store, codec, verify())
    run(store, codec, verify(verification_id="v-2", at=at(1.5)))

    class RacingStore:
        """Lets the other desk's claim commit between our read and our append."""
        def __init__(self, inner):
            self.inner, self.raced = inner, False

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def append(self, *args, **kwargs):
            if not self.raced:
                self.raced = True
                run(self.inner, codec, claim(claim_id="claim-other", verification_id="v-2"))
            return self.inner.append(*args, **kwargs)

    with pytest.raises(Rejected) as raised:
        run(RacingStore(store), codec, claim())
    assert raised.value.code == "already_claimed"
    claims = [r for r in store.read_stream("found_item-item-1") if r.type == "FoundItemClaimed"]
    assert [r.data["claim_id"] for r in claims] == ["claim-other"]


def test_a_retried_finance_handover_step_does_not_hand_the_item_over_twice(store, codec):
    run(store, codec, turn_in())
    step = d.HandItemToFinance("item-1", "h-1", "k-1", at(days=40), LATER)
    command_id = d.finance_transfer_command_id("h-1", "item-1")
    first = run(store, codec, step, command_id=command_id)
    again = run(store, codec, step, command_id=command_id)
    assert again.duplicate and again.events == first.events
    assert store.stream_version("found_item-item-1") == first.version == 3


def test_every_event_type_round_trips_through_its_contract(store, codec):
    due = at(14)
    events = [*verified(channel=d.ON_SITE)]
    events += when(given(*events), claim(claim_kind=d.ON_SPOT, released_by="tl-3", released_by_role=d.TEAM_LEAD,
                                         on_spot_form_due=due))
    events += when(given(*events), d.FileOnSpotClaimForm("item-1", "c-017", at(5)))
    events += when(given(*turned_in()), custody())
    events += when(given(*turned_in()), d.HandItemToFinance("item-1", "h-1", "k-1", at(days=40), LATER))
    reported = when(d.initial_state, report())
    matched = when(given(*reported), d.ConfirmMatch("r-1", ITEM_FACTS, "task-1", "c-017", at(1)))
    events += [*reported, *matched, *when(given(*reported, *matched),
                                          d.RecordVisitorContact("r-1", "task-1", "c-017", d.REACHED, at(2)))]
    events += when(given(*reported, *matched), d.ReleaseMatch("r-1", "not theirs", "c-017", at(3)))
    drawn = when(d.initial_state, draw([line()]))
    transferred = when(given(*drawn), d.RecordFinanceTransfer("h-1", ("item-1",), (), at(days=40)))
    events += [*drawn, *transferred, *when(given(*drawn, *transferred),
                                           d.SignOffFinanceHandover("h-1", "f-1", "王会计", at(days=41)))]
    # the paper forms' events round-trip in tests/unit/test_lost_and_found_paper.py
    assert {type(event) for event in events} | set(d.PAPER_EVENTS) == set(d.EVENTS)
    for number, event in enumerate(events):
        assert codec.decode(store.append(f"rt-{number}", [codec.encode(event, T0, {})], 0).events[0]) == event


# -- issue 10: custody that cannot be bypassed (2.2.5.3 a) -------------------------------------
NEXT_DAY = DAY + dt.timedelta(days=1)


def test_a_valuable_not_claimed_on_its_day_is_released_the_next_day_only_with_a_custodian():
    # given a valuable turned in on DAY, still held at the desk (nobody handed it over)
    state = given(*verified())
    # when another clerk releases it the next day without a custodian: refused
    late = claim(released_by="c-099", at=at(1.5, days=1), business_date=NEXT_DAY,
                 verification_valid_for=dt.timedelta(days=2))
    rejected = refusal(state, late)
    assert (rejected.code, rejected.field) == ("custodian_required", "cosigner")
    # then with any custodian's own login it is released and the custodian is recorded
    [claimed] = when(state, dataclasses.replace(late, custodian_id="k-2"))
    assert claimed.custodian_id == "k-2"


def test_a_valuable_claimed_on_its_own_day_needs_no_custodian_and_a_non_valuable_never_does():
    assert when(given(*verified()), claim())[0].custodian_id is None
    cheap = [*turned_in(category="umbrella"), *when(given(*turned_in(category="umbrella")), verify())]
    next_day = claim(at=at(days=1), business_date=NEXT_DAY, verification_valid_for=dt.timedelta(days=2))
    assert when(given(*cheap), next_day)[0].custodian_id is None


def test_the_custody_rule_uses_the_local_day_given_not_the_utc_date():
    # turned in at 23:30 local (15:30 UTC, same UTC date as the next local morning's 07:30 = 23:30 UTC)
    late_evening = dt.datetime(2026, 5, 1, 23, 30, tzinfo=CST)
    events = turned_in(at=late_evening, found_at=late_evening - dt.timedelta(hours=1))
    events += when(given(*events), verify(at=late_evening + dt.timedelta(minutes=5)))
    morning = dt.datetime(2026, 5, 2, 7, 30, tzinfo=CST)
    command = claim(at=morning, business_date=dt.date(2026, 5, 2), verification_valid_for=dt.timedelta(hours=12))
    assert refusal(given(*events), command).code == "custodian_required"


def test_custody_overdue_and_custody_required_follow_the_local_day_and_the_status():
    state = given(*turned_in())
    assert not d.custody_overdue(state, DAY) and d.custody_overdue(state, NEXT_DAY)
    in_custody = d.evolve(state, when(state, custody())[0])
    assert d.custody_required(in_custody, DAY) and not d.custody_overdue(in_custody, NEXT_DAY)
    assert not d.custody_required(given(*turned_in(category="umbrella")), NEXT_DAY)


# -- issue 10: verification bound to the claimant, expiring ---------------------------------------
def test_a_verification_is_bound_to_its_claimant_another_claimant_cannot_use_it():
    rejected = refusal(given(*verified()), claim(claimant_key="key-of-someone-else"))
    assert (rejected.code, rejected.field) == ("verified_for_another_claimant", "claimant_id_number")


def test_a_verification_expires_after_the_configured_time():
    state = given(*verified())   # verified at at(1)
    valid = dt.timedelta(minutes=120)
    assert when(state, claim(at=at(3), verification_valid_for=valid))[0].claim_id == "claim-1"
    rejected = refusal(state, claim(at=at(3, 0) + dt.timedelta(minutes=1), verification_valid_for=valid))
    assert (rejected.code, rejected.field) == ("verification_expired", "verification_id")
    # weeks later, certainly not
    assert refusal(state, claim(at=at(days=20), business_date=DAY + dt.timedelta(days=20),
                                custodian_id="k-1")).code == "verification_expired"


def test_a_claim_dated_before_its_verification_is_refused():
    rejected = refusal(given(*verified()), claim(at=at(0.5)))
    assert (rejected.code, rejected.field) == ("claim_before_verification", "at")


def test_a_verification_needs_the_claimant_and_stores_only_the_key():
    assert refusal(given(*turned_in()), verify(claimant_key="")).code == "claimant_required"
    [recorded] = when(given(*turned_in()), verify())
    assert recorded.claimant_key == CLAIMANT and "110101199001011234" not in repr(recorded)


def test_a_verification_recorded_before_binding_binds_no_claim():
    legacy = dataclasses.replace(when(given(*turned_in()), verify())[0], claimant_key=None)
    assert refusal(given(*turned_in(), legacy), claim()).code == "verified_for_another_claimant"


def test_after_three_failed_verifications_a_further_attempt_needs_the_lead():
    events = turned_in()
    for n in range(3):
        events += when(given(*events), verify(verification_id=f"v-{n}", decision=d.NOT_OWNER, matched_features=(),
                                              claimant_key=f"guesser-{n}"))
    state = given(*events)
    assert state.failed_verifications == 3
    rejected = refusal(state, verify(verification_id="v-9"))
    assert (rejected.code, rejected.field) == ("lead_required", "cosigner")
    [recorded] = when(state, verify(verification_id="v-9", lead_cosigner="lead-1"))
    assert recorded.cosigned_by == "lead-1"
    # the threshold is configured
    assert refusal(given(*events[:3]), verify(verification_id="v-9", failed_before_lead=1)).code == "lead_required"


def test_two_failures_do_not_yet_need_the_lead_and_an_owner_decision_is_no_failure():
    events = turned_in()
    events += when(given(*events), verify(verification_id="v-a", decision=d.NEEDS_MORE_PROOF, matched_features=()))
    events += when(given(*events), verify(verification_id="v-b"))
    events += when(given(*events), verify(verification_id="v-c", decision=d.NOT_OWNER, matched_features=()))
    state = given(*events)
    assert state.failed_verifications == 2
    assert when(state, verify(verification_id="v-d"))[0].cosigned_by is None


# -- issue 10: links between streams --------------------------------------------------------------
def test_a_claim_naming_an_unknown_report_or_one_matched_to_another_item_is_refused():
    state = given(*verified())
    with pytest.raises(NotFound) as missing:
        when(state, claim(claim_kind=d.REPORTED, report_id="r-404", report=None))
    assert missing.value.field == "report_id"
    rejected = refusal(state, claim(claim_kind=d.REPORTED, report_id="r-2", report=d.ReportFacts("r-2", "item-7")))
    assert (rejected.code, rejected.field) == ("report_not_matched", "report_id")
    unmatched = refusal(state, claim(claim_kind=d.REPORTED, report_id="r-3", report=d.ReportFacts("r-3", None)))
    assert unmatched.code == "report_not_matched"


def report_events():
    events = when(d.initial_state, d.ReportLostItem(
        "r-1", "main-gate", "black phone", "phone", "black smartphone", "blue case", "north gate", at(-3), at(-2),
        "韩梅梅", "13800000000", "c-017", at(-1), DAY))
    return events + when(given(*events), d.ConfirmMatch("r-1", d.ItemFacts("item-1", "LF-AAAAAA", d.HELD), "task-1",
                                                       "c-017", at()))


def test_a_report_whose_item_went_to_someone_else_is_matched_again():
    state = given(*report_events())
    other = d.ItemFacts("item-2", "LF-BBBBBB", d.HELD)
    # the first item still kept for it: refused
    held = d.ItemFacts("item-1", "LF-AAAAAA", d.HELD, matched_report_id="r-1")
    assert refusal(state, d.ConfirmMatch("r-1", other, "task-2", "c-017", at(2), held)).code == "already_matched"
    # it went to another claimant: the report is open again and takes the new match
    gone = d.ItemFacts("item-1", "LF-AAAAAA", d.CLAIMED, claim_report_id=None)
    matched, task = when(state, d.ConfirmMatch("r-1", other, "task-2", "c-017", at(2), gone))
    assert (matched.item_id, task.task_id) == ("item-2", "task-2")
    finance = d.ItemFacts("item-1", "LF-AAAAAA", d.WITH_FINANCE)
    assert when(state, d.ConfirmMatch("r-1", other, "task-2", "c-017", at(2), finance))[0].item_id == "item-2"
    # returned to this report's visitor: nothing more to match
    returned = d.ItemFacts("item-1", "LF-AAAAAA", d.CLAIMED, claim_report_id="r-1")
    assert refusal(state, d.ConfirmMatch("r-1", other, "task-2", "c-017", at(2), returned)).code == \
        "already_returned"


def test_at_most_one_open_confirmed_match_per_item():
    events = when(d.initial_state, d.ReportLostItem(
        "r-2", "main-gate", "phone", "phone", "phone", "none", "north gate", at(-3), at(-2), "李四", "13700000000",
        "c-017", at(-1), DAY))
    taken = d.ItemFacts("item-1", "LF-AAAAAA", d.HELD, matched_report_id="r-1")
    rejected = refusal(given(*events), d.ConfirmMatch("r-2", taken, "task-3", "c-017", at()))
    assert (rejected.code, rejected.field) == ("item_already_matched", "item_id")


def test_an_item_matched_to_an_open_report_is_not_drawn_nor_handed_to_finance():
    rejected = refusal(d.initial_state, draw([line(), dataclasses.replace(line("item-2"), matched_report_id="r-1")]))
    assert (rejected.code, rejected.field) == ("matched_to_open_report", "item_ids")
    command = d.HandItemToFinance("item-1", "h-1", "k-1", at(days=40), LATER, matched_report_id="r-1")
    assert refusal(given(*turned_in()), command).code == "matched_to_open_report"


# -- issue 10: time and retention ------------------------------------------------------------------
def test_kept_until_d_means_through_d_the_handover_is_accepted_from_d_plus_one():
    retain_until = DAY + dt.timedelta(days=30)
    assert given(*turned_in()).retain_until == retain_until
    on_d = d.HandItemToFinance("item-1", "h-1", "k-1", at(days=30), retain_until)
    rejected = refusal(given(*turned_in()), on_d)
    assert rejected.code == "retention_not_over"
    assert f"{retain_until.isoformat()} inclusive" in rejected.message
    assert (retain_until + dt.timedelta(days=1)).isoformat() in rejected.message
    day_after = d.HandItemToFinance("item-1", "h-1", "k-1", at(days=31), retain_until + dt.timedelta(days=1))
    assert when(given(*turned_in()), day_after)[0].business_date == retain_until + dt.timedelta(days=1)
    assert refusal(d.initial_state, draw([line()], business_date=retain_until)).code == "retention_not_over"
    assert when(d.initial_state, draw([line()], business_date=retain_until + dt.timedelta(days=1)))


def test_the_finance_refusal_shows_the_local_day_of_the_handover_not_the_utc_date():
    # 07:30 local on 06-01 is 23:30 UTC on 05-31
    morning = dt.datetime(2026, 6, 1, 7, 30, tzinfo=CST)
    events = verified()
    events += when(given(*events), d.HandItemToFinance("item-1", "h-1", "k-1", morning, dt.date(2026, 6, 1)))
    state = given(*events)
    state = dataclasses.replace(state, handed_to_finance_at=morning.astimezone(dt.timezone.utc))
    message = refusal(state, claim(at=morning + dt.timedelta(hours=1))).message
    assert "2026-06-01" in message and "2026-05-31" not in message


def test_the_on_spot_claim_form_is_due_before_the_end_of_that_days_shift():
    zone = CST
    claimed = dt.datetime(2026, 5, 1, 14, 0, tzinfo=zone)
    assert d.on_spot_form_due(claimed, zone, dt.time(18, 0)) == dt.datetime(2026, 5, 1, 18, 0, tzinfo=zone)
    # taken after the shift ended: by the end of that local day
    evening = dt.datetime(2026, 5, 1, 19, 0, tzinfo=zone)
    assert d.on_spot_form_due(evening, zone, dt.time(18, 0)) == dt.datetime(2026, 5, 2, 0, 0, tzinfo=zone)
    # the local day, whatever zone the time is given in
    utc = claimed.astimezone(dt.timezone.utc)
    assert d.on_spot_form_due(utc, zone, dt.time(18, 0)) == dt.datetime(2026, 5, 1, 18, 0, tzinfo=zone)
    assert d.on_spot_form_due(claimed, zone, None) == dt.datetime(2026, 5, 2, 0, 0, tzinfo=zone)


# -- issue 10: short codes -------------------------------------------------------------------------
def test_the_short_code_the_service_chose_is_the_one_stored_and_printed():
    events = turned_in(channel=d.ON_SITE, short_code=d.short_code("item-1", 1))
    assert events[0].short_code == d.short_code("item-1", 1) != d.short_code("item-1")
    assert events[1].receipt_no == "R-" + d.short_code("item-1", 1)[3:]
    assert events[2].short_code == d.short_code("item-1", 1)
    assert {d.short_code("item-1", n) for n in range(20)} == {d.short_code("item-1", n) for n in range(20)}
    assert len({d.short_code("item-1", n) for n in range(20)}) == 20


def test_the_shift_end_is_configured_per_desk_or_for_every_desk():
    from services.lost_and_found.service import shift_end
    assert shift_end({}, "main-gate") == dt.time(18, 0)
    assert shift_end({"LF_SHIFT_END": "17:30"}, "main-gate") == dt.time(17, 30)
    assert shift_end({"LF_SHIFT_END": 1050}, "main-gate") == dt.time(17, 30)   # unquoted 17:30 in YAML 1.1
    per_desk = {"LF_SHIFT_END": {"default": "18:00", "south-gate": "16:45"}}
    assert (shift_end(per_desk, "south-gate"), shift_end(per_desk, "main-gate")) == (dt.time(16, 45), dt.time(18))
    assert shift_end({"LF_SHIFT_END": ""}, "main-gate") is None


def test_a_clerk_releases_a_confirmed_match_explicitly_and_the_report_takes_another():
    state = given(*report_events())
    held = d.ItemFacts("item-1", "LF-AAAAAA", d.HELD, matched_report_id="r-1")
    # when the visitor says the item is not theirs
    [released] = when(state, d.ReleaseMatch("r-1", "not the visitor's phone", "c-017", at(1), held))
    assert (released.item_id, released.closed_task_id) == ("item-1", "task-1")
    reopened = d.evolve(state, released)
    assert (reopened.matched_item_id, reopened.open_task_id) == (None, None)
    # then another item may be confirmed to the report
    other = d.ItemFacts("item-2", "LF-BBBBBB", d.HELD)
    assert when(reopened, d.ConfirmMatch("r-1", other, "task-2", "c-017", at(2)))[0].item_id == "item-2"
    # not without a match, nor without a reason, nor once its own claim returned the item
    assert refusal(reopened, d.ReleaseMatch("r-1", "x", "c-017", at(2))).code == "not_matched"
    assert refusal(state, d.ReleaseMatch("r-1", " ", "c-017", at(1), held)).code == "reason_required"
    returned = d.ItemFacts("item-1", "LF-AAAAAA", d.CLAIMED, claim_report_id="r-1")
    assert refusal(state, d.ReleaseMatch("r-1", "x", "c-017", at(1), returned)).code == "already_returned"
