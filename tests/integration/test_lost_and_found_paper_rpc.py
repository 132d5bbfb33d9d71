"""What the paper forms carry, over the real RabbitMQ: cash as a decimal
string, corrections and voiding by the roles allowed, proxy claims and
courier returns with their personal data encrypted, disposal by route with a
witness's own login, signatures, and the public notice list without login."""
import json

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from services.chassis.errors import error_body
from services.eventstore import open_store
from services.forms.service import FormsService
from services.lost_and_found.service import LostAndFoundService
from tests.conftest import add_staff, wait_for

pytestmark = pytest.mark.rabbit

TURN_IN = {
    "desk": "main-gate", "item_id": "bag-1", "item_name": "红色双肩包", "category": "bag",
    "description": "红色双肩包，拉链坏了", "found_place": "north gate", "found_at": "2026-05-01T09:10:00+08:00",
    "finder_name": "路人甲", "finder_phone": "13900000000", "storage_place": "desk drawer 2",
    "at": "2026-05-01T09:30:00+08:00", "hidden_features": [{"label": "inside", "detail": "a blue notebook"}],
    "contents": ["cash"], "cash_amount": "230.50", "currency": "CNY", "quantity": 1, "condition": "拉链坏了",
}
VERIFY = {"desk": "main-gate", "item_id": "bag-1", "verification_id": "v-1", "claimant_description": "红色的包",
          "matched_features": ["inside"], "decision": "owner", "claimant_id_number": "110101198001011234",
          "at": "2026-05-01T11:00:00+08:00"}
CLAIM = {"desk": "main-gate", "item_id": "bag-1", "verification_id": "v-1", "claim_kind": "unreported",
         "claimant_name": "王导游", "claimant_phone": "13700000000", "claimant_id_type": "resident_id",
         "claimant_id_number": "110101198001011234", "at": "2026-05-01T11:05:00+08:00"}
PEOPLE = {"c-017": ("王芳", ("clerk",)), "k-1": ("孙保管", ("custodian",)), "tl-3": ("钱领班", ("team_lead",)),
          "s-205": ("吴见证", ("clerk",)), "l-1": ("刘主任", ("lead",))}
H = len(PEOPLE)


def refused(call, *args):
    with pytest.raises(RemoteError) as raised:
        call(*args)
    return error_body(raised.value)


@pytest.fixture
def store(service_config):
    store = open_store(service_config["EVENT_STORE_URI"])
    yield store
    store.close()


@pytest.fixture
def config(service_config):
    return dict(service_config, RETENTION_DAYS={"default": 30, "perishable": 1},
                DISPOSAL_ROUTES={"perishable": "destroy", "document": "police"})


@pytest.fixture
def as_(rpc_as, token_for):
    def proxy(staff_id, cosigner=None):
        name, roles = PEOPLE[staff_id]
        second = token_for(*PEOPLE[cosigner][1], staff_id=cosigner, name=PEOPLE[cosigner][0]) if cosigner else None
        return rpc_as(*roles, staff_id=staff_id, name=name, cosigner=second)
    return proxy


@pytest.fixture
def services(runner_factory, config, store):
    for staff_id, (name, roles) in PEOPLE.items():
        add_staff(store, staff_id, name, *roles)
    runner_factory(config, LostAndFoundService, FormsService).start()


def stored_text(store) -> str:
    return json.dumps([record.data for record in store.read_all()], ensure_ascii=False)


def test_cash_is_stored_as_a_decimal_string_and_a_json_number_is_refused_storing_nothing(services, store, as_):
    with as_("c-017") as rpc:
        body = refused(rpc.lost_and_found.turn_in_by_visitor, dict(TURN_IN, cash_amount=230.5))
        assert (body["code"], list(body["fields"])) == ("validation_failed", ["cash_amount"])
        assert store.head().position == H
        reply = rpc.lost_and_found.turn_in_by_visitor(TURN_IN)
        assert reply["valuable"] is True  # a bag with cash in it
        item = rpc.lost_and_found.item({"item_id": "bag-1"})
    turned_in = next(r for r in store.read_all() if r.type == "FoundItemTurnedIn")
    assert (turned_in.data["cash_amount"], turned_in.data["currency"], turned_in.data["contents"]) == \
        ("230.50", "CNY", ["cash"])
    assert (item["cash_amount"], item["quantity"], item["condition"]) == ("230.50", 1, "拉链坏了")


def test_a_correction_is_a_team_leads_or_leads_event_and_a_clerk_is_forbidden(services, store, as_):
    with as_("c-017") as rpc:
        rpc.lost_and_found.turn_in_by_visitor(TURN_IN)
        body = refused(rpc.lost_and_found.correct_item, {"desk": "main-gate", "item_id": "bag-1",
                                                         "reason": "typo", "quantity": 2})
        assert body["code"] == "forbidden"
    with as_("tl-3") as rpc:
        reply = rpc.lost_and_found.correct_item({"desk": "main-gate", "item_id": "bag-1", "reason": "两个包",
                                                 "quantity": 2, "condition": None})
        assert reply["corrected_fields"] == ["quantity", "condition"]
    with as_("l-1") as rpc:
        item = rpc.lost_and_found.item({"item_id": "bag-1"})
        assert (item["quantity"], item["condition"]) == (2, None)
    corrected = [r for r in store.read_all() if r.type == "FoundItemCorrected"]
    assert [(r.metadata["actor"], r.data["reason"]) for r in corrected] == [("tl-3", "两个包")]


def test_a_duplicate_is_voided_by_the_lead_and_then_refused(services, store, as_):
    with as_("c-017") as rpc:
        rpc.lost_and_found.turn_in_by_visitor(TURN_IN)
        rpc.lost_and_found.turn_in_by_visitor(dict(TURN_IN, item_id="bag-2", at="2026-05-01T09:35:00+08:00"))
    with as_("l-1") as rpc:
        rpc.lost_and_found.void_item({"desk": "main-gate", "item_id": "bag-2", "duplicate_of": "bag-1",
                                      "reason": "同一个包登记了两次"})
        missing = refused(rpc.lost_and_found.void_item, {"desk": "main-gate", "item_id": "bag-1",
                                                         "duplicate_of": "nope", "reason": "x"})
        assert (missing["code"], list(missing["fields"])) == ("not_found", ["duplicate_of"])
    with as_("c-017") as rpc:
        body = refused(rpc.lost_and_found.record_claim_verification, dict(VERIFY, item_id="bag-2"))
        assert body["reason"] == "voided"


def test_a_proxy_claims_with_the_owners_authorisation_and_the_owner_is_not_stored_in_clear(services, store, as_):
    with as_("c-017") as rpc:
        rpc.lost_and_found.turn_in_by_visitor(TURN_IN)
        rpc.lost_and_found.record_claim_verification(VERIFY)
        phoned = refused(rpc.lost_and_found.claim_item_by_proxy, dict(
            CLAIM, proxy_kind="tour_guide", organisation="春秋旅行社", owner_name="韩梅梅", owner_phone="13800000000",
            authorisation_method="phone_call", authorisation_note="电话里说让导游来拿",
            authorised_at="2026-05-01T10:40:00+08:00"))
        assert phoned["reason"] == "written_authorisation_required"  # a valuable: cash inside
        reply = rpc.lost_and_found.claim_item_by_proxy(dict(
            CLAIM, proxy_kind="tour_guide", organisation="春秋旅行社", owner_name="韩梅梅", owner_phone="13800000000",
            authorisation_method="message", authorisation_note="请把我的包交给王导游",
            authorised_at="2026-05-01T10:40:00+08:00"))
        assert reply["claim_form"] == "3.3"
    types = [r.type for r in store.read_stream("found_item-bag-1")]
    assert types[-2:] == ["FoundItemClaimed", "ClaimAuthorisedByOwner"]
    text = stored_text(store)
    assert "韩梅梅" not in text and "13800000000" not in text and "王导游" not in text


def test_a_courier_return_then_its_dispatch_with_the_address_encrypted(services, store, as_):
    with as_("c-017") as rpc:
        rpc.lost_and_found.turn_in_by_visitor(TURN_IN)
        rpc.lost_and_found.record_claim_verification(VERIFY)
        reply = rpc.lost_and_found.arrange_courier_return(dict(
            CLAIM, claimant_name="韩梅梅", return_id="ret-1", recipient_name="韩梅梅", recipient_phone="13800000000",
            address="北京市东城区景山前街4号", fee_paid_by="cash_on_delivery", fee_amount="23", fee_currency="CNY"))
        assert reply["return_id"] == "ret-1"
        rpc.lost_and_found.record_courier_dispatch({"desk": "main-gate", "item_id": "bag-1", "return_id": "ret-1",
                                                    "carrier": "顺丰速运", "tracking_number": "SF1234567890",
                                                    "at": "2026-05-01T15:00:00+08:00"})
        again = refused(rpc.lost_and_found.record_courier_dispatch, {
            "desk": "main-gate", "item_id": "bag-1", "return_id": "ret-1", "carrier": "顺丰速运",
            "tracking_number": "SF1234567890", "at": "2026-05-01T15:10:00+08:00"})
        assert again["reason"] == "already_dispatched"
        wait_for(lambda: rpc.forms.found_item_form({"item_id": "bag-1"})["courier"]["tracking_number"]
                 == "SF1234567890")
    assert "景山前街" not in stored_text(store)


def test_perishables_are_destroyed_before_a_witness_with_their_own_login_not_sent_to_finance(services, store, as_):
    fruit = dict(TURN_IN, item_id="fruit-1", item_name="一袋苹果", category="perishable", description="塑料袋装苹果",
                 contents=[], cash_amount=None, currency=None, hidden_features=[])
    with as_("c-017") as rpc:
        rpc.lost_and_found.turn_in_by_visitor(fruit)
    with as_("k-1") as rpc:
        finance = rpc.lost_and_found.hand_over_to_finance  # nothing of the finance route is due
        assert refused(finance, {"handover_id": "h-1", "month": "2026-05",
                                 "at": "2026-05-04T10:00:00+08:00"})["reason"] == "nothing_to_hand_over"
        disposed = rpc.lost_and_found.dispose_items({"disposal_id": "dp-1", "route": "destroy",
                                                     "at": "2026-05-04T10:00:00+08:00"})
        assert disposed["disposed_item_ids"] == ["fruit-1"]
        body = refused(rpc.lost_and_found.sign_off_disposal, {"disposal_id": "dp-1",
                                                              "at": "2026-05-04T10:30:00+08:00"})
        assert (body["code"], list(body["fields"])) == ("forbidden", ["cosigner"])
    with as_("k-1", cosigner="s-205") as rpc:
        rpc.lost_and_found.sign_off_disposal({"disposal_id": "dp-1", "at": "2026-05-04T10:30:00+08:00"})
        listed = wait_for(lambda: rpc.forms.disposal_list({"disposal_id": "dp-1"}))
        assert (listed["route"], listed["witness_id"], listed["witness_name"]) == ("destroy", "s-205", "吴见证")
    signed = next(r for r in store.read_all() if r.type == "DisposalSignedOff")
    assert signed.data["witness_id"] == "s-205"


def test_the_custodian_signs_the_custody_line_with_their_own_login(services, store, as_):
    with as_("c-017", cosigner="k-1") as rpc:
        rpc.lost_and_found.turn_in_by_visitor(TURN_IN)
        rpc.lost_and_found.hand_to_custodian({"desk": "main-gate", "item_id": "bag-1", "storage_place": "safe 1",
                                              "at": "2026-05-01T17:00:00+08:00"})
        reply = rpc.lost_and_found.capture_signature({"desk": "main-gate", "item_id": "bag-1",
                                                      "part": "custody_custodian",
                                                      "image_ref": "sha256:" + "0f" * 32})
        assert (reply["signer_kind"], reply["signer_id"]) == ("custodian", "k-1")
    with as_("c-017") as rpc:
        body = refused(rpc.lost_and_found.capture_signature, {"desk": "main-gate", "item_id": "bag-1",
                                                              "part": "custody_custodian"})
        assert body["code"] == "forbidden"


def test_the_public_notice_list_answers_without_login_and_shows_no_hidden_or_personal_data(services, config, as_):
    with as_("c-017") as rpc:
        rpc.lost_and_found.turn_in_by_visitor(TURN_IN)
    with ClusterRpcProxy(config, timeout=30) as anonymous:
        board = anonymous.forms.public_notice_list({})
    row, = board["rows"]
    assert (row["item_name"], row["found_on"], row["desk"]) == ("红色双肩包", "2026-05-01", "main-gate")
    text = json.dumps(board, ensure_ascii=False)
    for secret in ("路人甲", "13900000000", "a blue notebook", "230.50", "desk drawer", "拉链坏了"):
        assert secret not in text
