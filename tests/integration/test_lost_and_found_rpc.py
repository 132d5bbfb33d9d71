"""lost_and_found on the real RabbitMQ: turn-in -> verification -> claim,
two desks claiming at once, bad input storing nothing, hidden features kept
from claimants and logs, the finance handover resumed after a crash, and one
path through the relay to the forms service."""
import datetime as dt
import json
import logging

import eventlet
import pytest
import structlog
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

import contracts
from services.chassis.codec import EventCodec
from services.chassis.commands import execute
from services.chassis.errors import error_body
from services.eventstore import open_store
from services.forms.service import FormsService
from services.lost_and_found import domain
from services.lost_and_found.service import LostAndFoundService
from tests.conftest import add_staff, wait_for


def cluster_config(proxy):
    """The nameko config a standalone proxy was made with."""
    return proxy._worker_ctx.config

pytestmark = pytest.mark.rabbit

SECRET = "SN-4471-SECRET"
VISITOR_TURN_IN = {
    "desk": "main-gate", "item_id": "phone-1", "item_name": "black phone", "category": "phone",
    "description": "black smartphone in a blue case", "found_place": "north gate",
    "found_at": "2026-05-01T09:10:00+08:00", "finder_name": "路人甲", "finder_phone": "13900000000",
    "storage_place": "desk drawer 2", "at": "2026-05-01T09:30:00+08:00",
    "hidden_features": [{"label": "serial number", "detail": SECRET}, {"label": "wallpaper", "detail": "grey cat"}],
}
VERIFY = {"desk": "main-gate", "item_id": "phone-1", "verification_id": "v-1",
          "claimant_description": "black phone, my cat on the lock screen", "matched_features": ["wallpaper"],
          "decision": "owner", "claimant_id_number": "110101199001011234", "at": "2026-05-01T11:00:00+08:00"}
CLAIM = {"desk": "main-gate", "item_id": "phone-1", "verification_id": "v-1", "claim_kind": "unreported",
         "claimant_name": "韩梅梅", "claimant_phone": "13800000000", "claimant_id_type": "resident_id",
         "claimant_id_number": "110101199001011234", "at": "2026-05-01T11:05:00+08:00"}
PERSONAL_VALUES = ("路人甲", "13900000000", "韩梅梅", "13800000000", "110101199001011234", SECRET, "grey cat")


def refused(call, *args):
    with pytest.raises(RemoteError) as raised:
        call(*args)
    return error_body(raised.value)


@pytest.fixture
def store(service_config):
    store = open_store(service_config["EVENT_STORE_URI"])
    yield store
    store.close()


#: who works here in these tests: staff id -> (name, roles)
PEOPLE = {"c-017": ("王芳", ("clerk",)), "c-020": ("李明", ("clerk",)), "c-099": ("赵六", ("clerk",)),
          "k-1": ("孙保管", ("custodian",)), "f-1": ("王会计", ("finance",)), "tl-3": ("钱领班", ("team_lead",)),
          "s-101": ("周保安", ("clerk",)), "s-205": ("吴见证", ("clerk",)), "l-1": ("刘主任", ("lead",))}
H = len(PEOPLE)  # the staff accounts come first in the log of a test that uses `cluster`


@pytest.fixture
def as_(rpc_as, token_for):
    """``as_("k-1")``: a proxy whose calls carry that person's principal;
    ``as_("c-017", cosigner="k-1")`` with a second person's login too."""
    def proxy(staff_id, cosigner=None):
        name, roles = PEOPLE[staff_id]
        second = None
        if cosigner:
            second = token_for(*PEOPLE[cosigner][1], staff_id=cosigner, name=PEOPLE[cosigner][0])
        return rpc_as(*roles, staff_id=staff_id, name=name, cosigner=second)
    return proxy


@pytest.fixture
def cluster(runner_factory, service_config, store, as_):
    """lost_and_found, the staff the tests name, and clerk c-017's terminal."""
    for staff_id, (name, roles) in PEOPLE.items():
        add_staff(store, staff_id, name, *roles)
    runner_factory(service_config, LostAndFoundService).start()
    with as_("c-017") as proxy:
        yield proxy


def test_a_visitor_turn_in_is_verified_claimed_once_and_then_refused(cluster, store):
    turned_in = cluster.lost_and_found.turn_in_by_visitor(VISITOR_TURN_IN)
    assert (turned_in["form"], turned_in["valuable"], turned_in["positions"]) == ("3.3", True, [H + 1, H + 2])
    assert turned_in["qr_payload"] == "vsc:found-item:phone-1" and turned_in["receipt_no"] is None
    verified = cluster.lost_and_found.record_claim_verification(VERIFY)
    assert (verified["verification_id"], verified["decision"], verified["positions"]) == ("v-1", "owner", [H + 3])
    claimed = cluster.lost_and_found.claim_item(CLAIM)
    assert (claimed["claim_form"], claimed["positions"]) == ("3.3", [H + 4])

    body = refused(cluster.lost_and_found.claim_item, dict(CLAIM, at="2026-05-01T12:00:00+08:00"))
    assert (body["code"], body["reason"], list(body["fields"])) == ("rule_violated", "already_claimed", ["item_id"])
    assert store.head().position == H + 4
    assert cluster.lost_and_found.item({"item_id": "phone-1"})["status"] == "claimed"


def test_no_claim_without_a_recorded_verification_through_rpc(cluster, store):
    cluster.lost_and_found.turn_in_by_visitor(VISITOR_TURN_IN)
    body = refused(cluster.lost_and_found.claim_item, CLAIM)
    assert (body["reason"], list(body["fields"])) == ("verification_required", ["verification_id"])
    assert store.head().position == H + 2


def test_two_desks_claiming_the_same_item_at_once_exactly_one_succeeds(cluster, store, as_):
    cluster.lost_and_found.turn_in_by_visitor(VISITOR_TURN_IN)
    cluster.lost_and_found.record_claim_verification(VERIFY)
    cluster.lost_and_found.record_claim_verification(dict(VERIFY, verification_id="v-2", desk="south-gate"))

    def claim_at(desk, verification_id, claim_id):
        with as_("c-017" if desk == "main-gate" else "c-020") as own:
            try:
                return own.lost_and_found.claim_item(dict(CLAIM, desk=desk, verification_id=verification_id,
                                                          claim_id=claim_id))
            except RemoteError as exc:
                return error_body(exc)

    threads = [eventlet.spawn(claim_at, "main-gate", "v-1", "claim-a"),
               eventlet.spawn(claim_at, "south-gate", "v-2", "claim-b")]
    outcomes = [thread.wait() for thread in threads]
    won = [o for o in outcomes if "claim_id" in o]
    lost = [o for o in outcomes if "code" in o]
    assert len(won) == 1 and len(lost) == 1
    assert (lost[0]["code"], lost[0]["reason"]) == ("rule_violated", "already_claimed")
    claims = [r.data["claim_id"] for r in store.read_stream("found_item-phone-1") if r.type == "FoundItemClaimed"]
    assert claims == [won[0]["claim_id"]]


@pytest.mark.parametrize("change, code, field", [
    ({"item_name": None}, "validation_failed", "item_name"),
    ({"found_at": "2099-01-01T00:00:00+08:00"}, "validation_failed", "found_at"),
    ({"at": "2099-01-01T00:00:00+08:00"}, "validation_failed", "at"),
    ({"description": "x" * 501}, "validation_failed", "description"),
    ({"category": "spaceship"}, "validation_failed", "category"),
    ({"hidden_features": [{"label": "serial number"}]}, "validation_failed", "hidden_features.0.detail"),
])
def test_a_bad_turn_in_is_a_clear_error_naming_the_field_and_stores_nothing(cluster, store, change, code, field):
    payload = {key: value for key, value in dict(VISITOR_TURN_IN, **change).items() if value is not None}
    body = refused(cluster.lost_and_found.turn_in_by_visitor, payload)
    assert body["code"] == code and field in body["fields"]
    assert store.head().position == H


def test_commands_on_an_unknown_or_returned_item_are_refused_and_store_nothing(cluster, store, as_):
    body = refused(cluster.lost_and_found.record_claim_verification, dict(VERIFY, item_id="nope"))
    assert (body["code"], list(body["fields"])) == ("not_found", ["item_id"])
    assert refused(cluster.lost_and_found.item, {"item_id": "nope"})["code"] == "not_found"
    cluster.lost_and_found.turn_in_by_visitor(VISITOR_TURN_IN)
    cluster.lost_and_found.record_claim_verification(VERIFY)
    cluster.lost_and_found.claim_item(CLAIM)
    head = store.head().position
    body = refused(cluster.lost_and_found.record_claim_verification, dict(VERIFY, verification_id="v-9"))
    assert body["reason"] == "already_claimed"
    with as_("c-017", cosigner="k-1") as desk:
        body = refused(desk.lost_and_found.hand_to_custodian,
                       {"desk": "main-gate", "item_id": "phone-1", "storage_place": "safe 1",
                        "at": "2026-05-01T18:00:00+08:00"})
    assert body["reason"] == "already_claimed"
    assert store.head().position == head


def test_a_team_lead_turn_in_without_a_witness_is_refused_and_stores_nothing(cluster, store, as_):
    payload = {key: value for key, value in VISITOR_TURN_IN.items() if key not in ("finder_name", "finder_phone")}
    payload |= {"finder_id": "s-101", "owner_urgent": True}
    with as_("tl-3") as team_lead:
        body = refused(team_lead.lost_and_found.turn_in_on_site, payload)
        assert (body["code"], body["reason"], list(body["fields"])) == ("rule_violated", "witness_required",
                                                                       ["witness_id"])
        unknown = refused(team_lead.lost_and_found.turn_in_on_site, dict(payload, witness_id="nobody"))
        assert (unknown["code"], list(unknown["fields"])) == ("not_found", ["witness_id"])
        assert store.head().position == H  # the staff accounts only
        reply = team_lead.lost_and_found.turn_in_on_site(dict(payload, witness_id="s-205"))
    assert reply["form"] == "3.5" and reply["receipt_no"] and reply["qr_payload"]
    turned_in = store.read_stream("found_item-phone-1")[0]
    # who registered, in which role, and the witness's name all come from the logins and the staff directory
    assert (turned_in.data["registered_by"], turned_in.data["registered_by_role"], turned_in.metadata["actor"],
            turned_in.data["witness_name"]) == ("tl-3", "team_lead", "tl-3", "吴见证")
    assert turned_in.data["finder_name"].startswith("pd1:")  # the finder's name is stored encrypted


def test_the_claimant_sees_no_hidden_feature_and_the_clerk_does(cluster):
    reply = cluster.lost_and_found.turn_in_by_visitor(VISITOR_TURN_IN)
    view = cluster.lost_and_found.claimant_view({"short_code": reply["short_code"]})
    assert (view["item_name"], view["status"], view["found_on"]) == ("black phone", "waiting for its owner",
                                                                     "2026-05-01")
    for claimant_facing in (view, reply):
        text = json.dumps(claimant_facing, ensure_ascii=False)
        assert SECRET not in text and "grey cat" not in text and "serial number" not in text
    clerk = cluster.lost_and_found.item({"item_id": "phone-1"})
    assert {"label": "serial number", "detail": SECRET} in clerk["hidden_features"]
    assert refused(cluster.lost_and_found.claimant_view, {"short_code": "LF-AAAAAA"})["code"] == "not_found"


@pytest.fixture
def captured_logs(cluster):
    """Every structlog record at any level, unredacted (so this checks what
    the service chooses to log, not the redaction safety net). The running
    service has configured structlog; its configuration is restored after."""
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with structlog.testing.capture_logs() as logs:
            yield logs
    finally:
        structlog.configure(**saved)


def test_logs_carry_ids_and_codes_but_no_personal_data_or_hidden_features(cluster, captured_logs):
    reply = cluster.lost_and_found.turn_in_by_visitor(VISITOR_TURN_IN)
    cluster.lost_and_found.record_claim_verification(VERIFY)
    cluster.lost_and_found.claim_item(CLAIM)
    refused(cluster.lost_and_found.claim_item, CLAIM)
    logs = list(captured_logs)
    text = json.dumps(logs, ensure_ascii=False, default=str)
    assert any(entry.get("short_code") == reply["short_code"] for entry in logs)
    assert not [value for value in PERSONAL_VALUES if value in text]


def test_a_valuable_in_custody_is_released_only_with_a_custodians_own_login(cluster, as_, token_for, rpc_as, store):
    cluster.lost_and_found.turn_in_by_visitor(VISITOR_TURN_IN)
    custody = {"desk": "main-gate", "item_id": "phone-1", "storage_place": "safe 1", "at": "2026-05-01T18:00:00+08:00"}
    # the custodian takes the item with their own login
    body = refused(cluster.lost_and_found.hand_to_custodian, custody)
    assert (body["code"], body["reason"]) == ("forbidden", "cosigner_required")
    with as_("c-017", cosigner="f-1") as wrong_person:
        assert refused(wrong_person.lost_and_found.hand_to_custodian, custody)["reason"] == "cosigner_role_required"
    custodian = token_for("custodian", staff_id="k-1", name="孙保管")
    with rpc_as("clerk", staff_id="c-099", name="赵六", desk="south-gate", cosigner=custodian) as elsewhere:
        # a clerk logged in at another desk does not hand it over, whatever desk the payload names
        wrong_desk = refused(elsewhere.lost_and_found.hand_to_custodian, custody)
        assert (wrong_desk["reason"], list(wrong_desk["fields"])) == ("not_at_items_desk", ["desk"])
    with as_("c-099", cosigner="k-1") as other_clerk:
        # any clerk on duty at the item's desk hands it over (the receiving clerk c-017 has gone home)
        other_clerk.lost_and_found.hand_to_custodian(custody)
    handed = store.read_stream("found_item-phone-1")[-1]
    assert (handed.data["custodian_id"], handed.data["storage_place"], handed.metadata["actor"],
            handed.metadata["cosigner"]) == ("k-1", "safe 1", "c-099", "k-1")
    cluster.lost_and_found.record_claim_verification(dict(VERIFY, at="2026-05-02T10:00:00+08:00"))
    next_day = dict(CLAIM, at="2026-05-02T10:05:00+08:00")
    body = refused(cluster.lost_and_found.claim_item, next_day)
    assert (body["reason"], list(body["fields"])) == ("custodian_required", ["cosigner"])
    # a made-up custodian principal (another key) is refused, not trusted
    from services.chassis.principal import write_keypair, load_signer
    import tempfile, os
    folder = tempfile.mkdtemp()
    write_keypair(os.path.join(folder, "k"), os.path.join(folder, "p"))
    forged = load_signer({"PRINCIPAL_SIGNING_KEY_FILE": os.path.join(folder, "k")}).issue(
        "k-1", "孙保管", {"custodian"}, "main-gate")[0]
    from nameko.standalone.rpc import ClusterRpcProxy as Proxy
    from services.chassis.principal import CONTEXT_KEY, COSIGNER_KEY
    with Proxy(cluster_config(cluster), context_data={CONTEXT_KEY: token_for("clerk", staff_id="c-017"),
                                                      COSIGNER_KEY: forged}) as forger:
        assert refused(forger.lost_and_found.claim_item, next_day)["code"] == "unauthenticated"
    with as_("c-017", cosigner="k-1") as desk:
        assert desk.lost_and_found.claim_item(next_day)["positions"]
    claimed = store.read_stream("found_item-phone-1")[-1]
    assert (claimed.data["custodian_id"], claimed.data["released_by"]) == ("k-1", "c-017")


def test_a_report_gets_suggestions_and_a_confirmed_match_opens_a_contact_task(cluster):
    cluster.lost_and_found.turn_in_by_visitor(VISITOR_TURN_IN)
    cluster.lost_and_found.turn_in_by_visitor(dict(VISITOR_TURN_IN, item_id="bag-1", item_name="green bag",
                                                   category="bag", description="green canvas bag",
                                                   found_place="south lake", hidden_features=[]))
    report = cluster.lost_and_found.report_lost_item({
        "desk": "main-gate", "report_id": "r-1", "item_name": "phone", "category": "phone",
        "description": "black smartphone", "features": "blue case", "lost_place": "north gate",
        "lost_from": "2026-05-01T08:00:00+08:00", "lost_until": "2026-05-01T09:00:00+08:00",
        "visitor_name": "韩梅梅", "visitor_phone": "13800000000", "at": "2026-05-01T10:00:00+08:00"})
    assert [s["id"] for s in report["suggestions"]] == ["phone-1"]
    assert cluster.lost_and_found.suggest_matches({"item_id": "phone-1"})["suggestions"][0]["id"] == "r-1"
    match = cluster.lost_and_found.confirm_match({"desk": "main-gate", "report_id": "r-1", "item_id": "phone-1",
                                                  "at": "2026-05-01T10:05:00+08:00"})
    contact = {"desk": "main-gate", "report_id": "r-1", "task_id": match["task_id"]}
    assert cluster.lost_and_found.record_visitor_contact(dict(contact, outcome="no_answer"))["task_closed"] is False
    assert cluster.lost_and_found.record_visitor_contact(dict(contact, outcome="reached"))["task_closed"] is True
    assert cluster.lost_and_found.suggest_matches({"item_id": "phone-1"})["suggestions"] == []


def test_a_crashed_finance_handover_completes_when_run_again_and_the_item_is_no_longer_claimable(
        cluster, store, service_config, as_):
    for item_id in ("umbrella-1", "umbrella-2"):
        cluster.lost_and_found.turn_in_by_visitor(dict(VISITOR_TURN_IN, item_id=item_id, category="umbrella",
                                                       item_name="red umbrella", hidden_features=[]))
    # a first run drew the list and handed umbrella-1 over, then crashed
    ledger = open_store(service_config["EVENT_STORE_URI"], validator=contracts.registry)
    codec = EventCodec(contracts.registry, domain.EVENTS)
    at = dt.datetime.fromisoformat("2026-06-15T09:00:00+08:00")
    lines = tuple(domain.HandoverLine(item_id, domain.HELD, dt.date(2026, 5, 31))
                  for item_id in ("umbrella-1", "umbrella-2"))
    execute(ledger, codec, domain, domain.handover_stream("h-06"),
            domain.DrawFinanceHandoverList("h-06", "2026-06", "k-1", lines, at, at.date()), occurred_at=at,
            metadata={}, command_id=domain.finance_step_command_id("h-06", "drawn"))
    first = execute(ledger, codec, domain, domain.item_stream("umbrella-1"),
                    domain.HandItemToFinance("umbrella-1", "h-06", "k-1", at, at.date()), occurred_at=at,
                    metadata={}, command_id=domain.finance_transfer_command_id("h-06", "umbrella-1"))
    ledger.close()

    request = {"handover_id": "h-06", "month": "2026-06", "at": "2026-06-15T09:30:00+08:00"}
    with as_("k-1") as custodian:
        assert refused(cluster.lost_and_found.hand_over_to_finance, request)["code"] == "forbidden"  # a clerk may not
        reply = custodian.lost_and_found.hand_over_to_finance(request)
        assert reply["transferred_item_ids"] == ["umbrella-1", "umbrella-2"]
        drawn, one, two, recorded = reply["steps"]
        assert (drawn["duplicate"], one["duplicate"], one["positions"], two["duplicate"]) == \
            (True, True, [first.last_position], False)
        head = store.head().position
        again = custodian.lost_and_found.hand_over_to_finance(request)
        assert all(step["duplicate"] for step in again["steps"]) and store.head().position == head
        assert len([r for r in store.read_all() if r.type == "ItemHandedToFinance"]) == 2

        sign_off = {"handover_id": "h-06", "at": "2026-06-15T10:00:00+08:00"}
        assert refused(custodian.lost_and_found.sign_off_finance_handover, sign_off)["reason"] == "cosigner_required"
        with as_("k-1", cosigner="f-1") as at_the_custodians_terminal:
            at_the_custodians_terminal.lost_and_found.sign_off_finance_handover(sign_off)
        signed = store.read_stream("finance_handover-h-06")[-1]
        assert (signed.data["signed_by"], signed.data["signer_name"], signed.metadata["cosigner"]) == (
            "f-1", "王会计", "f-1")
    body = refused(cluster.lost_and_found.record_claim_verification,
                   dict(VERIFY, item_id="umbrella-1", matched_features=[], description_matched=True,
                        at="2026-06-16T10:00:00+08:00"))
    assert body["reason"] == "handed_to_finance" and "finance" in body["message"]


def test_a_finance_handover_of_an_item_still_kept_is_refused_and_stores_nothing(cluster, store, as_):
    cluster.lost_and_found.turn_in_by_visitor(VISITOR_TURN_IN)  # a phone: kept longer than ten days
    head = store.head().position
    with as_("k-1") as custodian:
        body = refused(custodian.lost_and_found.hand_over_to_finance,
                       {"handover_id": "h-05", "month": "2026-05", "item_ids": ["phone-1"],
                        "at": "2026-05-10T09:00:00+08:00"})
    assert (body["reason"], list(body["fields"])) == ("retention_not_over", ["item_ids"])
    assert store.head().position == head


def test_a_turn_in_reaches_the_card_and_the_form_through_the_relay(runner_factory, service_config, relay_process,
                                                                    store, as_):
    runner_factory(service_config, LostAndFoundService, FormsService).start()
    relay_process.start()
    with as_("c-017") as cluster:
        reply = cluster.lost_and_found.turn_in_by_visitor(VISITOR_TURN_IN)
        wait_for(lambda: store.get_checkpoint("relay") == 2, message="the relay to publish positions 1-2")
        card = cluster.forms.item_information_card({"short_code": reply["short_code"]})
        form = cluster.forms.found_item_form({"item_id": "phone-1"})
    assert (card["item_id"], card["qr_payload"], card["positions"]) == ("phone-1", "vsc:found-item:phone-1", [1, 2])
    assert (form["form"], form["registration"]["hidden_features_recorded"], form["registration"]["positions"]) == \
        ("3.3", 2, [1])
    assert SECRET not in json.dumps([card, form], ensure_ascii=False)


def test_every_lost_and_found_form_is_served_by_the_forms_service(runner_factory, service_config, store, as_,
                                                                  rpc_as):
    for staff_id, (name, roles) in PEOPLE.items():
        add_staff(store, staff_id, name, *roles)
    start = store.head().position
    runner_factory(service_config, LostAndFoundService, FormsService).start()
    staff = {key: value for key, value in VISITOR_TURN_IN.items() if key not in ("finder_phone", "finder_name")}
    staff |= {"item_id": "umbrella-1", "category": "umbrella", "item_name": "red umbrella", "hidden_features": [],
              "finder_id": "s-101", "finder_department": "security"}
    report = {"desk": "main-gate", "report_id": "r-1", "item_name": "phone", "category": "phone",
              "description": "black smartphone", "features": "blue case", "lost_place": "north gate",
              "lost_from": "2026-05-01T08:00:00+08:00", "lost_until": "2026-05-01T09:00:00+08:00",
              "visitor_name": "韩梅梅", "visitor_phone": "13800000000", "at": "2026-05-01T10:00:00+08:00"}
    with as_("c-017") as cluster, as_("c-020") as li_ming, as_("k-1") as custodian:
        cluster.lost_and_found.turn_in_by_visitor(VISITOR_TURN_IN)
        cluster.lost_and_found.turn_in_by_staff(staff)
        li_ming.lost_and_found.report_lost_item(report)
        custodian.lost_and_found.hand_over_to_finance({"handover_id": "h-06", "month": "2026-06",
                                                       "item_ids": ["umbrella-1"], "at": "2026-06-15T09:00:00+08:00"})
        forms = cluster.forms
        receipt = forms.found_item_receipt({"item_id": "umbrella-1"})
        deeds = forms.good_deeds_summary({"month": "2026-05"})
        lost = forms.lost_item_summary({"date": "2026-05-01", "staff_id": "c-020"})
        report_form = forms.lost_item_report_form({"report_id": "r-1"})
        with rpc_as("lead", staff_id="l-1") as lead:
            lead_view = lead.forms.lost_item_report_form({"report_id": "r-1"})
        awaiting = forms.valuables_awaiting_custody({"as_of": "2026-05-01T20:00:00+08:00"})
        # the next morning (23:30 UTC on 05-01 is 07:30 local on 05-02) the phone is overdue for the custodian:
        # the lead sees it among every desk's
        with rpc_as("lead", staff_id="l-1") as lead:
            overdue = lead.forms.valuables_awaiting_custody({"as_of": "2026-05-01T23:30:00Z", "overdue_only": True})
        on_spot = forms.on_spot_claims_not_filed({"as_of": "2026-05-02T20:00:00+08:00"})
        handover = custodian.forms.finance_handover_list({"handover_id": "h-06"})
        missing = refused(forms.found_item_receipt, {"item_id": "phone-1"})
    assert receipt["receipt_no"].startswith("R-")
    assert (receipt["finder_name"], receipt["good_deed"], receipt["positions"]) == (
        "周保安", "desk", [start + 3, start + 4])
    assert [(r["staff_id"], r["kind"]) for r in deeds["rows"]] == [("s-101", "desk")] and deeds["period"] == "2026-05"
    assert [r["report_id"] for r in lost["rows"]] == ["r-1"] and lost["totals"]["reported"] == 1
    # a clerk sees the visitor's phone masked to its last four digits; the lead sees it whole
    assert (report_form["visitor_name"], report_form["visitor_phone"], report_form["positions"]) == (
        "韩梅梅", "*******0000", [start + 5])
    assert lead_view["visitor_phone"] == "13800000000"
    assert [(r["item_id"], r["overdue"]) for r in awaiting["rows"]] == [("phone-1", False)]
    assert [(r["item_id"], r["overdue"], r["business_date"]) for r in overdue["rows"]] == [
        ("phone-1", True, "2026-05-01")]
    assert on_spot["rows"] == []
    assert [(line["item_id"], line["state"]) for line in handover["lines"]] == [("umbrella-1", "handed_over")]
    assert missing["code"] == "not_found"


# -- issue 10: custody, verification binding, links and short codes over RPC ----------------------
def test_a_valuable_left_at_the_desk_overnight_is_released_next_day_only_with_a_custodian(cluster, as_, store):
    # given a phone turned in on 05-01 that nobody handed to the custodian
    cluster.lost_and_found.turn_in_by_visitor(VISITOR_TURN_IN)
    with as_("c-020") as next_morning:
        # the clerk's view flags it and does not need (nor show) a custodian's id
        view = next_morning.lost_and_found.item({"item_id": "phone-1"})
        assert (view["status"], view["custody_overdue"], view["custody_required"], view["custodian_id"]) == (
            "held", True, True, None)
        next_morning.lost_and_found.record_claim_verification(dict(VERIFY, at="2026-05-02T09:00:00+08:00"))
        # when another clerk releases it the next day without a custodian: refused, nothing stored
        head = store.head().position
        body = refused(next_morning.lost_and_found.claim_item, dict(CLAIM, at="2026-05-02T09:05:00+08:00"))
        assert (body["reason"], list(body["fields"])) == ("custodian_required", ["cosigner"])
        assert store.head().position == head
    # then with the custodian's own login it goes, and the claim records the custodian
    with as_("c-020", cosigner="k-1") as with_custodian:
        with_custodian.lost_and_found.claim_item(dict(CLAIM, at="2026-05-02T09:05:00+08:00"))
    claimed = store.read_stream("found_item-phone-1")[-1]
    assert (claimed.type, claimed.data["custodian_id"], claimed.metadata["cosigner"]) == (
        "FoundItemClaimed", "k-1", "k-1")


def test_the_item_view_shows_the_custodians_id_only_to_custodians_and_the_lead(cluster, as_):
    cluster.lost_and_found.turn_in_by_visitor(VISITOR_TURN_IN)
    with as_("c-017", cosigner="k-1") as desk:
        desk.lost_and_found.hand_to_custodian({"desk": "main-gate", "item_id": "phone-1", "storage_place": "safe 1",
                                               "at": "2026-05-01T18:00:00+08:00"})
    assert cluster.lost_and_found.item({"item_id": "phone-1"})["custodian_id"] is None
    with as_("k-1") as custodian, as_("l-1") as lead:
        assert custodian.lost_and_found.item({"item_id": "phone-1"})["custodian_id"] == "k-1"
        assert lead.lost_and_found.item({"item_id": "phone-1"})["custodian_id"] == "k-1"


def test_a_verification_binds_only_its_claimant_within_its_time_and_stores_no_id_number(cluster, store):
    cluster.lost_and_found.turn_in_by_visitor(VISITOR_TURN_IN)
    verified = cluster.lost_and_found.record_claim_verification(VERIFY)
    assert verified["valid_until"] == "2026-05-01T13:00:00+08:00"
    head = store.head().position
    other = refused(cluster.lost_and_found.claim_item, dict(CLAIM, claimant_id_number="310101198001010000"))
    assert (other["reason"], list(other["fields"])) == ("verified_for_another_claimant", ["claimant_id_number"])
    before = refused(cluster.lost_and_found.claim_item, dict(CLAIM, at="2026-05-01T10:55:00+08:00"))
    assert (before["reason"], list(before["fields"])) == ("claim_before_verification", ["at"])
    late = refused(cluster.lost_and_found.claim_item, dict(CLAIM, at="2026-05-01T13:01:00+08:00"))
    assert (late["reason"], list(late["fields"])) == ("verification_expired", ["verification_id"])
    assert store.head().position == head
    # the same person, typed with spaces and a lower-case x, within the time: released
    cluster.lost_and_found.claim_item(dict(CLAIM, claimant_id_number="110101 19900101 1234",
                                           at="2026-05-01T12:59:00+08:00"))
    recorded = next(r for r in store.read_stream("found_item-phone-1") if r.type == "ClaimVerificationRecorded")
    assert recorded.data["claimant_key"] and "110101199001011234" not in json.dumps(recorded.data)


def test_after_three_failed_verifications_the_next_needs_the_lead(cluster, as_, store):
    cluster.lost_and_found.turn_in_by_visitor(VISITOR_TURN_IN)
    for n in range(3):
        cluster.lost_and_found.record_claim_verification(dict(
            VERIFY, verification_id=f"guess-{n}", decision="not_owner", matched_features=[],
            claimant_id_number=f"G000000{n}", at=f"2026-05-01T1{n}:00:00+08:00"))
    body = refused(cluster.lost_and_found.record_claim_verification, VERIFY)
    assert (body["reason"], list(body["fields"])) == ("lead_required", ["cosigner"])
    with as_("c-017", cosigner="l-1") as with_lead:
        with_lead.lost_and_found.record_claim_verification(VERIFY)
    assert store.read_stream("found_item-phone-1")[-1].data["cosigned_by"] == "l-1"


def test_a_claim_names_only_a_report_matched_to_the_item_and_an_item_has_one_open_match(cluster, store):
    cluster.lost_and_found.turn_in_by_visitor(VISITOR_TURN_IN)
    cluster.lost_and_found.record_claim_verification(VERIFY)
    missing = refused(cluster.lost_and_found.claim_item, dict(CLAIM, claim_kind="reported", report_id="r-404"))
    assert (missing["code"], list(missing["fields"])) == ("not_found", ["report_id"])
    report = {"desk": "main-gate", "item_name": "phone", "category": "phone", "description": "black smartphone",
              "features": "blue case", "lost_place": "north gate", "lost_from": "2026-05-01T08:00:00+08:00",
              "lost_until": "2026-05-01T09:00:00+08:00", "visitor_name": "韩梅梅", "visitor_phone": "13800000000",
              "at": "2026-05-01T10:00:00+08:00"}
    cluster.lost_and_found.report_lost_item(dict(report, report_id="r-1"))
    cluster.lost_and_found.report_lost_item(dict(report, report_id="r-2", visitor_phone="13700000000"))
    unmatched = refused(cluster.lost_and_found.claim_item, dict(CLAIM, claim_kind="reported", report_id="r-1"))
    assert (unmatched["reason"], list(unmatched["fields"])) == ("report_not_matched", ["report_id"])
    confirm = {"desk": "main-gate", "item_id": "phone-1", "at": "2026-05-01T10:30:00+08:00"}
    cluster.lost_and_found.confirm_match(dict(confirm, report_id="r-1"))
    second = refused(cluster.lost_and_found.confirm_match, dict(confirm, report_id="r-2"))
    assert (second["reason"], list(second["fields"])) == ("item_already_matched", ["item_id"])
    cluster.lost_and_found.claim_item(dict(CLAIM, claim_kind="reported", report_id="r-1"))
    assert store.read_stream("found_item-phone-1")[-1].data["report_id"] == "r-1"


def test_an_item_matched_to_an_open_report_is_not_drawn_for_finance(cluster, as_):
    umbrella = dict(VISITOR_TURN_IN, item_id="umbrella-1", category="umbrella", item_name="red umbrella",
                    hidden_features=[])
    cluster.lost_and_found.turn_in_by_visitor(umbrella)
    cluster.lost_and_found.turn_in_by_visitor(dict(umbrella, item_id="umbrella-2"))
    cluster.lost_and_found.report_lost_item({
        "desk": "main-gate", "report_id": "r-1", "item_name": "umbrella", "category": "umbrella",
        "description": "red umbrella", "features": "wooden handle", "lost_place": "north gate",
        "lost_from": "2026-05-01T08:00:00+08:00", "lost_until": "2026-05-01T09:00:00+08:00",
        "visitor_name": "韩梅梅", "visitor_phone": "13800000000", "at": "2026-05-01T10:00:00+08:00"})
    cluster.lost_and_found.confirm_match({"desk": "main-gate", "report_id": "r-1", "item_id": "umbrella-1",
                                          "at": "2026-05-01T10:30:00+08:00"})
    with as_("k-1") as custodian:
        # kept until 05-31 inclusive: not yet on 05-31
        early = refused(custodian.lost_and_found.hand_over_to_finance,
                        {"handover_id": "h-05", "month": "2026-05", "item_ids": ["umbrella-2"],
                         "at": "2026-05-31T20:00:00+08:00"})
        assert early["reason"] == "retention_not_over" and "2026-06-01" in early["message"]
        listed = refused(custodian.lost_and_found.hand_over_to_finance,
                         {"handover_id": "h-06", "month": "2026-06", "item_ids": ["umbrella-1"],
                          "at": "2026-06-01T09:00:00+08:00"})
        assert (listed["reason"], list(listed["fields"])) == ("matched_to_open_report", ["item_ids"])
        reply = custodian.lost_and_found.hand_over_to_finance({"handover_id": "h-06b", "month": "2026-06",
                                                               "at": "2026-06-01T09:00:00+08:00"})
    assert reply["item_ids"] == ["umbrella-2"]


def test_short_codes_are_found_in_lower_case_and_with_spaces(cluster):
    code = cluster.lost_and_found.turn_in_by_visitor(VISITOR_TURN_IN)["short_code"]
    for typed in (code.lower(), f"  {code}  ", " " + code.lower().replace("-", "") + " "):
        assert cluster.lost_and_found.claimant_view({"short_code": typed})["short_code"] == code
    assert refused(cluster.lost_and_found.claimant_view, {"short_code": "LF-12"})["code"] == "validation_failed"


def test_a_team_leads_on_spot_claim_form_is_due_before_the_end_of_that_days_shift(cluster, as_):
    payload = {key: value for key, value in VISITOR_TURN_IN.items() if key not in ("finder_name", "finder_phone")}
    payload |= {"finder_id": "s-101", "owner_urgent": True, "witness_id": "s-205", "at": "2026-05-01T14:00:00+08:00"}
    with as_("tl-3") as team_lead:
        team_lead.lost_and_found.turn_in_on_site(payload)
        team_lead.lost_and_found.record_claim_verification(dict(VERIFY, at="2026-05-01T14:05:00+08:00"))
        claimed = team_lead.lost_and_found.claim_item(dict(CLAIM, claim_kind="on_spot",
                                                           at="2026-05-01T14:10:00+08:00"))
    # the desks' shift end (LF_SHIFT_END, 18:00 by default), not local midnight
    assert claimed["on_spot_form_due"] == "2026-05-01T18:00:00+08:00"


def test_colliding_short_codes_are_detected_at_turn_in_and_each_item_keeps_its_own(cluster):
    # two item ids whose first six-character codes collide (found by trying ids)
    first, second = "collide-14550", "collide-37896"
    assert domain.short_code(first) == domain.short_code(second)
    one = cluster.lost_and_found.turn_in_by_visitor(dict(VISITOR_TURN_IN, item_id=first))
    two = cluster.lost_and_found.turn_in_by_visitor(dict(VISITOR_TURN_IN, item_id=second, command_id="turn-in-2"))
    assert one["short_code"] == domain.short_code(first)
    assert two["short_code"] == domain.short_code(second, 1) != one["short_code"]
    for reply, item_id in ((one, first), (two, second)):
        view = cluster.lost_and_found.item({"short_code": f" {reply['short_code'].lower()} "})
        assert view["item_id"] == item_id
    # a retried turn-in (same command id) gets the code it was given, not a third one
    again = cluster.lost_and_found.turn_in_by_visitor(dict(VISITOR_TURN_IN, item_id=second, command_id="turn-in-2"))
    assert (again["duplicate"], again["short_code"]) == (True, two["short_code"])


def test_a_released_match_frees_the_item_for_another_report(cluster, store):
    cluster.lost_and_found.turn_in_by_visitor(VISITOR_TURN_IN)
    report = {"desk": "main-gate", "item_name": "phone", "category": "phone", "description": "black smartphone",
              "features": "blue case", "lost_place": "north gate", "lost_from": "2026-05-01T08:00:00+08:00",
              "lost_until": "2026-05-01T09:00:00+08:00", "visitor_name": "韩梅梅", "visitor_phone": "13800000000",
              "at": "2026-05-01T10:00:00+08:00"}
    cluster.lost_and_found.report_lost_item(dict(report, report_id="r-1"))
    cluster.lost_and_found.report_lost_item(dict(report, report_id="r-2", visitor_phone="13700000000"))
    confirm = {"desk": "main-gate", "item_id": "phone-1", "at": "2026-05-01T10:30:00+08:00"}
    cluster.lost_and_found.confirm_match(dict(confirm, report_id="r-1"))
    assert refused(cluster.lost_and_found.confirm_match, dict(confirm, report_id="r-2"))["reason"] == \
        "item_already_matched"
    no_reason = refused(cluster.lost_and_found.release_match, {"desk": "main-gate", "report_id": "r-1",
                                                               "reason": " "})
    assert list(no_reason["fields"]) == ["reason"]
    cluster.lost_and_found.release_match({"desk": "main-gate", "report_id": "r-1", "reason": "不是她的手机",
                                          "at": "2026-05-01T10:40:00+08:00"})
    assert store.read_stream("lost_report-r-1")[-1].type == "LostReportMatchReleased"
    cluster.lost_and_found.confirm_match(dict(confirm, report_id="r-2", at="2026-05-01T10:45:00+08:00"))
    # r-1 is open again: matching offers it (r-2, now matched, is not)
    suggested = [s["id"] for s in cluster.lost_and_found.suggest_matches({"item_id": "phone-1"})["suggestions"]]
    assert suggested == ["r-1"]
