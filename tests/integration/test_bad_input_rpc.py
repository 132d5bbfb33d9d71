"""Bad input over the real RabbitMQ: each defect the battery of bad calls
found is answered with a structured error naming the field and stores
nothing; work after an append cannot turn a stored command into an error;
times are stored in UTC and shown in the site's time zone."""
import datetime as dt
import json
import uuid

import pytest
from marshmallow import fields
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

import contracts
from contracts.base import ContractSchema, RpcContract
from services.chassis.errors import error_body
from services.chassis.principal import CONTEXT_KEY
from services.chassis.service import ServiceBase, contract_rpc
from services.duty_log.service import DutyLogService
from services.eventstore import NewEvent, open_store
from services.eventstore.interface import format_time
from services.forms.service import FormsService
from services.lost_and_found.case_index import CaseIndex
from services.lost_and_found.service import LostAndFoundService

pytestmark = pytest.mark.rabbit

UTC = dt.timezone.utc


def ago(**delta) -> str:
    return (dt.datetime.now(UTC) - dt.timedelta(**delta)).isoformat()


def turn_in(**changes) -> dict:
    payload = {"desk": "main-gate", "item_name": "black phone", "category": "phone",
               "description": "black smartphone in a blue case", "found_place": "north gate",
               "found_at": ago(hours=3), "finder_name": "路人甲", "storage_place": "drawer 2",
               "at": ago(hours=2), **changes}
    return {key: value for key, value in payload.items() if value is not None}


def report(**changes) -> dict:
    return {"desk": "main-gate", "item_name": "phone", "category": "phone", "description": "black smartphone",
            "features": "blue case", "lost_place": "north gate", "lost_from": ago(hours=5),
            "lost_until": ago(hours=4), "visitor_name": "韩梅梅", "visitor_phone": "13800000000",
            "at": ago(hours=1), **changes}


def refused(call, *args) -> dict:
    with pytest.raises(RemoteError) as raised:
        call(*args)
    return error_body(raised.value)


@pytest.fixture
def store(service_config):
    store = open_store(service_config["EVENT_STORE_URI"])
    yield store
    store.close()


@pytest.fixture
def strict_config(service_config):
    """The default window of past business times (366 days)."""
    return {key: value for key, value in service_config.items() if key != "BUSINESS_TIME_MAX_AGE_DAYS"}


def as_clerk(config, token_for):
    return ClusterRpcProxy(config, context_data={CONTEXT_KEY: token_for("clerk")}, timeout=30)


@pytest.fixture
def cluster(runner_factory, strict_config, token_for):
    runner_factory(strict_config, LostAndFoundService, DutyLogService).start()
    with as_clerk(strict_config, token_for) as proxy:
        yield proxy


def test_a_report_lost_in_year_one_is_refused_naming_lost_from_and_turn_ins_keep_working(cluster, store):
    body = refused(cluster.lost_and_found.report_lost_item, report(lost_from="0001-01-01T00:00:00+00:00"))
    assert (body["code"], list(body["fields"])) == ("validation_failed", ["lost_from"])
    assert store.head().position == 0
    reply = cluster.lost_and_found.turn_in_by_visitor(turn_in(item_id="phone-1"))
    assert (reply["positions"], reply["suggestions_unavailable"]) == ([1, 2], False)


@pytest.mark.parametrize("call, payload, field", [
    ("duty_log.sign_in", {"desk": "main-gate", "at": "0001-01-01T00:00:00+14:00"}, "at"),
    ("lost_and_found.report_lost_item", report(lost_until="9999-12-31T23:59:59-14:00"), "lost_until"),
    ("lost_and_found.turn_in_by_visitor", turn_in(found_at="0001-01-01T00:00:00+14:00"), "found_at"),
    ("lost_and_found.turn_in_by_visitor", turn_in(item_id="phone-\ud800"), "item_id"),
    ("lost_and_found.item", {"item_id": "\udc00"}, "item_id"),
    ("lost_and_found.turn_in_by_visitor", turn_in(desk="main\x00gate"), "desk"),
    ("lost_and_found.turn_in_by_visitor", turn_in(item_name="phone\u202egnp.exe"), "item_name"),
    ("lost_and_found.turn_in_by_visitor", turn_in(hidden_features=[{"label": "serial", "detail": "\u2066x"}]),
     "hidden_features.0.detail"),
    ("lost_and_found.turn_in_on_site", {**turn_in(finder_name=None), "finder_id": "s-1", "witness_id": "s-2",
                                        "owner_urgent": "yes"}, "owner_urgent"),
    ("lost_and_found.suggest_matches", {"item_id": "phone-1", "limit": 1.5}, "limit"),
    ("lost_and_found.suggest_matches", {"item_id": "phone-1", "limit": "10"}, "limit"),
    ("duty_log.sign_in", {"desk": "main-gate", "at": ago(days=400)}, "at"),
    ("duty_log.sign_in", {"desk": "main-gate", "shift_date": "2024-01-02"}, "shift_date"),
    ("lost_and_found.report_lost_item", report(lost_from=ago(days=367)), "lost_from"),
])
def test_bad_input_is_a_structured_error_naming_the_field_the_client_sent_and_stores_nothing(cluster, store, call,
                                                                                            payload, field):
    service, method = call.split(".")
    body = refused(getattr(getattr(cluster, service), method), payload)
    assert (body["code"], list(body["fields"])) == ("validation_failed", [field]), body
    assert store.head().position == 0


def test_a_100kb_field_name_comes_back_cut_to_64_characters_and_the_body_stays_small(cluster, store):
    name = "\ud800" + "x" * 100_000
    body = refused(cluster.lost_and_found.item, {"item_id": "phone-1", name: 1})
    assert list(body["fields"]) == ["\\ud800" + "x" * 63 + "…"]  # 64 characters as sent, then escaped
    assert len(json.dumps(body)) < 1_000
    body = refused(cluster.lost_and_found.item, {"item_id": "phone-1", "y" * 100_000: 1})
    assert list(body["fields"]) == ["y" * 64 + "…"] and len(json.dumps(body)) < 1_000
    assert store.head().position == 0


def test_when_suggestions_fail_after_the_append_the_client_sees_success_and_a_retry_appends_nothing(
        cluster, store, monkeypatch):
    def broken(self, kind, subject_id, limit=10):
        raise OverflowError("date value out of range")
    monkeypatch.setattr(CaseIndex, "suggestions", broken)
    command_id = str(uuid.uuid4())

    first = cluster.lost_and_found.turn_in_by_visitor(turn_in(item_id="phone-1", command_id=command_id))
    assert (first["positions"], first["duplicate"]) == ([1, 2], False)
    assert (first["suggestions"], first["suggestions_unavailable"]) == ([], True)
    again = cluster.lost_and_found.turn_in_by_visitor(turn_in(item_id="phone-1", command_id=command_id))
    assert (again["positions"], again["event_ids"], again["duplicate"]) == ([1, 2], first["event_ids"], True)
    reported = cluster.lost_and_found.report_lost_item(report(report_id="r-1", command_id=str(uuid.uuid4())))
    assert (reported["positions"], reported["suggestions_unavailable"]) == ([3], True)
    assert store.head().position == 3
    assert cluster.lost_and_found.item({"item_id": "phone-1"})["status"] == "held"


def test_a_log_poisoned_before_these_rules_no_longer_turns_stored_turn_ins_into_errors(runner_factory,
                                                                                      strict_config, store,
                                                                                      token_for):
    # a report stored by an earlier version, which accepted a loss in year 1
    poisoned = {"report_id": "r-0", "desk": "main-gate", "item_name": "phone", "category": "phone",
                "description": "black smartphone", "features": "blue case", "lost_place": "north gate",
                "lost_from": "0001-01-01T00:00:00+00:00", "lost_until": "2026-05-01T01:00:00+00:00",
                "visitor_name": "韩梅梅", "visitor_phone": "13800000000", "received_by": "c-020",
                "reported_at": "2026-05-01T02:00:00+00:00", "business_date": "2026-05-01"}
    store.append("lost_report-r-0", [NewEvent("LostItemReported", poisoned, format_time(dt.datetime.now(UTC)))], 0)
    runner_factory(strict_config, LostAndFoundService).start()
    command_id = str(uuid.uuid4())
    with as_clerk(strict_config, token_for) as cluster:
        first = cluster.lost_and_found.turn_in_by_visitor(turn_in(item_id="phone-1", command_id=command_id))
        again = cluster.lost_and_found.turn_in_by_visitor(turn_in(item_id="phone-1", command_id=command_id))
    assert first["positions"] == [2, 3] and again["duplicate"] and again["event_ids"] == first["event_ids"]
    assert store.head().position == 3


def test_times_are_stored_in_utc_and_replies_and_forms_show_the_site_time_zone(runner_factory, strict_config,
                                                                              store, token_for):
    runner_factory(strict_config, DutyLogService, LostAndFoundService, FormsService).start()
    at = (dt.datetime.now(UTC) - dt.timedelta(hours=1)).replace(microsecond=0)
    in_shanghai = at.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat()
    with as_clerk(strict_config, token_for) as cluster:
        signed_in = cluster.duty_log.sign_in({"desk": "main-gate", "at": at.isoformat().replace("+00:00", "Z")})
        cluster.lost_and_found.turn_in_by_visitor(turn_in(item_id="phone-1", at=at.isoformat(),
                                                          found_at=at.astimezone(
                                                              dt.timezone(dt.timedelta(hours=-5))).isoformat()))
        form = cluster.forms.found_item_form({"item_id": "phone-1"})
        awaiting = cluster.forms.valuables_awaiting_custody({"as_of": ago(minutes=1)})
        item = cluster.lost_and_found.item({"item_id": "phone-1"})
    assert signed_in["signed_in_at"] == in_shanghai
    assert form["registration"]["turned_in_at"] == form["registration"]["found_at"] == in_shanghai
    assert item["found_at"] == in_shanghai and awaiting["as_of"].endswith("+08:00")
    assert [row["turned_in_at"] for row in awaiting["rows"]] == [in_shanghai]
    stored = [record.data for record in store.read_all()]
    assert stored[0]["signed_in_at"] == at.isoformat()
    assert (stored[1]["found_at"], stored[1]["turned_in_at"]) == (at.isoformat(), at.isoformat())


def test_the_time_zone_shown_is_the_configured_one(runner_factory, strict_config, token_for):
    config = dict(strict_config, TIMEZONE="America/New_York")
    runner_factory(config, DutyLogService).start()
    at = dt.datetime(2026, 11, 30, 23, 28, tzinfo=UTC)
    with as_clerk(config, token_for) as cluster:
        reply = cluster.duty_log.sign_in({"desk": "main-gate", "at": at.isoformat(), "shift_date": "2026-11-30"})
    assert reply["signed_in_at"] == "2026-11-30T18:28:00-05:00"


def test_every_registered_contract_is_strict_so_later_services_inherit_the_rules():
    from contracts.base import lax_fields
    for contract in contracts.registry.rpcs.values():
        assert not lax_fields(contract.request()) and not lax_fields(contract.reply())


class ProbeRequest(ContractSchema):
    key = fields.String(required=True)


class ProbeService(ServiceBase):
    """A service with a bug: an unexpected exception whose message holds client input."""
    name = "probe"

    @contract_rpc(RpcContract("probe", "look_up", ProbeRequest, ProbeRequest, roles=frozenset({"clerk"})))
    def look_up(self, request):
        return {}[request["key"]]


def test_an_unexpected_failure_is_a_structured_internal_error_that_echoes_nothing(runner_factory, strict_config,
                                                                                capfd, token_for):
    runner_factory(strict_config, ProbeService).start()
    with as_clerk(strict_config, token_for) as cluster:
        body = refused(cluster.probe.look_up, {"key": "韩梅梅-13800000000"})
    assert body == {"code": "internal_error", "message": "unexpected error; it is logged under this call's id"}
    logged = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")]
    unexpected = [line for line in logged if line["event"] == "call.unexpected_error"]
    assert [(line["error"], line["where"].split(":")[0]) for line in unexpected] == [("KeyError",
                                                                                      "test_bad_input_rpc.py")]
    assert not any("韩梅梅" in json.dumps(line, ensure_ascii=False) for line in logged)
