"""Personal data on the real broker: after a found item is turned in by a
visitor, a loss reported and the item claimed with a name, phone and ID
number, none of them is in the database file, its WAL, the logs, any broker
message or the audit export; a clerk sees the phone masked, the lead in full;
erasing the person makes every form show 已删除 and the chain still
verifies, also after a restart; the retention sweep erases exactly the
expired subjects; the lead can hand a person what is held about them."""
import glob
import json

import kombu
import pytest

from services.eventstore import open_store
from services.eventstore.chain import verify_store
from services.forms.service import FormsService
from services.lost_and_found.service import LostAndFoundService
from services.privacy.service import PrivacyService
from tests.conftest import add_staff, wait_for

pytestmark = pytest.mark.rabbit

FINDER, FINDER_PHONE = "路人甲", "13900000000"
VISITOR, PHONE, ID_NUMBER = "韩梅梅", "13800000000", "110101199001011234"
SECRET = "SN-4471-SECRET"
PLAINTEXTS = (FINDER, FINDER_PHONE, VISITOR, PHONE, ID_NUMBER, SECRET)

TURN_IN = {"desk": "main-gate", "item_id": "phone-1", "item_name": "black phone", "category": "phone",
           "description": "black smartphone in a blue case", "found_place": "north gate",
           "found_at": "2026-05-01T09:10:00+08:00", "finder_name": FINDER, "finder_phone": FINDER_PHONE,
           "storage_place": "drawer 2", "at": "2026-05-01T09:30:00+08:00",
           "hidden_features": [{"label": "serial number", "detail": SECRET}]}
REPORT = {"desk": "main-gate", "report_id": "r-1", "item_name": "phone", "category": "phone",
          "description": "black smartphone", "features": "blue case", "lost_place": "north gate",
          "lost_from": "2026-05-01T08:00:00+08:00", "lost_until": "2026-05-01T09:00:00+08:00",
          "visitor_name": VISITOR, "visitor_phone": PHONE, "at": "2026-05-01T10:00:00+08:00"}
VERIFY = {"desk": "main-gate", "item_id": "phone-1", "verification_id": "v-1", "claimant_description": "mine",
          "matched_features": ["serial number"], "decision": "owner", "claimant_id_number": ID_NUMBER,
          "at": "2026-05-01T11:00:00+08:00"}
CLAIM = {"desk": "main-gate", "item_id": "phone-1", "verification_id": "v-1", "claim_kind": "reported",
         "report_id": "r-1", "claimant_name": VISITOR, "claimant_phone": PHONE, "claimant_id_type": "resident_id",
         "claimant_id_number": ID_NUMBER, "at": "2026-05-01T11:05:00+08:00"}


@pytest.fixture
def store(service_config):
    store = open_store(service_config["EVENT_STORE_URI"])
    yield store
    store.close()


def run_desk_day(rpc_as):
    with rpc_as("clerk", staff_id="c-017") as desk:
        desk.lost_and_found.turn_in_by_visitor(TURN_IN)
        desk.lost_and_found.report_lost_item(REPORT)
        desk.lost_and_found.confirm_match({"desk": "main-gate", "report_id": "r-1", "item_id": "phone-1",
                                           "at": "2026-05-01T10:30:00+08:00"})
        desk.lost_and_found.record_claim_verification(VERIFY)
        desk.lost_and_found.claim_item(CLAIM)


def raw_files(service_config) -> bytes:
    path = service_config["EVENT_STORE_URI"][len("sqlite:///"):]
    return b"".join(open(name, "rb").read() for name in glob.glob(path + "*"))


def found(blob: bytes) -> list[str]:
    return [text for text in PLAINTEXTS if text.encode() in blob or json.dumps(text).encode() in blob]


def test_no_plaintext_in_the_database_its_wal_the_logs_the_broker_or_the_export(
        runner_factory, service_config, store, rpc_as, relay_process, capfd, tmp_path):
    add_staff(store, "c-017", "王芳", "clerk")
    messages = []
    with kombu.Connection(service_config["AMQP_URI"]) as connection:
        queue = kombu.Queue("listen-all", exchange=kombu.Exchange("lost_and_found.events", type="topic",
                                                                  durable=True),
                            routing_key="#", auto_delete=False)
        queue(connection.channel()).declare()
        runner_factory(service_config, LostAndFoundService, FormsService).start()
        relay_process.start()
        run_desk_day(rpc_as)
        wait_for(lambda: store.get_checkpoint("relay") == store.head().position, message="the relay")
        with connection.Consumer(queue, callbacks=[lambda body, m: (messages.append(json.dumps(body).encode()), m.ack())],
                                 accept=["json"]):
            while True:
                try:
                    connection.drain_events(timeout=2)
                except TimeoutError:
                    break
    assert len(messages) == 7   # turn-in (2), report, match (2), verification, claim
    assert found(b"".join(messages)) == []
    assert found(raw_files(service_config)) == []
    logged = capfd.readouterr()
    assert found((logged.out + logged.err).encode()) == []
    # the auditor's export: the records as stored, ciphertext only
    from services.cli.main import main
    config = tmp_path / "config.yaml"
    config.write_text(f"EVENT_STORE_URI: {service_config['EVENT_STORE_URI']}\nTIMEZONE: Asia/Shanghai\n")
    assert main(["--config", str(config), "audit", "export"]) == 0
    exported = capfd.readouterr().out
    assert len(exported.splitlines()) == store.head().position and found(exported.encode()) == []


def test_the_clerk_sees_the_phone_masked_and_the_lead_in_full(runner_factory, service_config, store, rpc_as):
    add_staff(store, "c-017", "王芳", "clerk")
    runner_factory(service_config, LostAndFoundService, FormsService).start()
    run_desk_day(rpc_as)
    with rpc_as("clerk") as clerk, rpc_as("lead", staff_id="l-1") as lead, rpc_as("auditor", staff_id="a-1") as audit:
        as_clerk = clerk.forms.found_item_form({"item_id": "phone-1"})
        as_lead = lead.forms.found_item_form({"item_id": "phone-1"})
        as_auditor = audit.forms.found_item_form({"item_id": "phone-1"})
        item = clerk.lost_and_found.item({"item_id": "phone-1"})
    assert (as_clerk["claim"]["claimant_name"], as_clerk["claim"]["claimant_phone"],
            as_clerk["claim"]["claimant_id_number"]) == (VISITOR, "*******0000", "**************1234")
    assert (as_lead["claim"]["claimant_phone"], as_lead["claim"]["claimant_id_number"]) == (PHONE, ID_NUMBER)
    assert (as_auditor["claim"]["claimant_name"], as_auditor["registration"]["finder_phone"]) == (
        "[personal]", "[personal]")
    assert item["hidden_features"] == [{"label": "serial number", "detail": SECRET}]  # the clerk verifies with it


def test_erasure_shows_everywhere_survives_a_restart_and_the_chain_still_verifies(
        runner_factory, service_config, store, rpc_as):
    add_staff(store, "c-017", "王芳", "clerk")
    runner = runner_factory(service_config, LostAndFoundService, FormsService, PrivacyService)
    runner.start()
    run_desk_day(rpc_as)
    with rpc_as("lead", staff_id="l-1") as lead:
        held = lead.privacy.subject_access({"phone": PHONE})
        assert {value["value"] for value in held["values"]} == {VISITOR, PHONE, ID_NUMBER}
        erased = lead.privacy.erase({"phone": PHONE, "reason": "the visitor asked, 2026-12-01"})
        assert len(erased["erased"]) == 1 and erased["positions"]
        again = lead.privacy.erase({"subject_id": erased["erased"][0], "reason": "again"})
        # erased before: nothing more shredded, and the record is the first one
        assert (again["erased"], again["already"], again["positions"]) == ([], erased["erased"],
                                                                           erased["positions"])

    def shown():
        with rpc_as("lead", staff_id="l-1") as lead:
            form = lead.forms.found_item_form({"item_id": "phone-1"})
            report = lead.forms.lost_item_report_form({"report_id": "r-1"})
        return form, report
    form, report = wait_for(lambda: (lambda f, r: (f, r) if f["claim"]["claimant_name"] == "已删除" else None)(
        *shown()), timeout=15, message="the erasure to show (key cache)")
    assert (form["claim"]["claimant_phone"], form["claim"]["claimant_id_number"]) == ("已删除", "已删除")
    assert (report["visitor_name"], report["visitor_phone"]) == ("已删除", "已删除")
    assert form["registration"]["finder_name"] == FINDER  # another person: untouched
    assert verify_store(store).ok

    runner.stop()
    runner_factory(service_config, LostAndFoundService, FormsService).start()
    form, report = shown()
    assert (form["claim"]["claimant_name"], report["visitor_phone"]) == ("已删除", "已删除")
    assert [r.type for r in store.read_all()][-1] == "PersonalDataErased"
    assert verify_store(store).ok


def test_the_retention_sweep_erases_exactly_the_expired_subjects(runner_factory, service_config, store, rpc_as):
    config = dict(service_config, PERSONAL_RETENTION_DAYS={"default": 100_000, "claimant": 30, "visitor": 30})
    add_staff(store, "c-017", "王芳", "clerk")
    runner_factory(config, LostAndFoundService, PrivacyService, FormsService).start()
    run_desk_day(rpc_as)
    with rpc_as("admin", staff_id="root") as admin:
        swept = admin.privacy.sweep({})       # 2026-05-01 + 30 days is long past; the finder is kept
        assert len(swept["erased"]) == 1      # the visitor, who is also the claimant
        assert admin.privacy.sweep({})["erased"] == []
    with rpc_as("lead", staff_id="l-1") as lead:
        form = wait_for(lambda: (lambda f: f if f["claim"]["claimant_name"] == "已删除" else None)(
            lead.forms.found_item_form({"item_id": "phone-1"})), timeout=15, message="the sweep to show")
        assert form["registration"]["finder_name"] == FINDER
        assert lead.privacy.subject_access({"phone": FINDER_PHONE})["values"][0]["value"] == FINDER
    erasures = [r for r in store.read_all() if r.type == "PersonalDataErased"]
    assert [(r.data["by_retention"], r.metadata["actor"]) for r in erasures] == [(True, "root")]
