"""One real path end to end on the real RabbitMQ: RPC -> validate -> decide
-> append -> relay (separate process) -> event handler -> read model."""
import uuid

import pytest
from nameko.exceptions import RemoteError

from services.chassis.errors import error_body
from services.duty_log.service import DutyLogService
from services.eventstore import open_store
from services.forms.service import FormsService
from tests.conftest import wait_for

pytestmark = pytest.mark.rabbit

SIGN_IN = {"desk": "main-gate", "shift_date": "2026-05-01", "at": "2026-05-01T07:28:00+08:00"}


def test_a_sign_in_reaches_the_sign_in_sheet_through_the_relay(runner_factory, service_config, relay_process,
                                                                rpc_as):
    runner = runner_factory(service_config, DutyLogService, FormsService)
    runner.start()
    relay_process.start()
    with rpc_as("clerk", staff_id="c-017", name="王芳") as cluster:
        reply = cluster.duty_log.sign_in(SIGN_IN)
        assert reply["positions"] == [1]
        assert reply["stream_id"] == "duty_day-main-gate-2026-05-01"
        assert reply["signed_in_at"] == "2026-05-01T07:28:00+08:00"

        store = open_store(service_config["EVENT_STORE_URI"])
        wait_for(lambda: store.get_checkpoint("relay") == 1, message="the relay to publish position 1")
        sheet = cluster.forms.sign_in_sheet({"desk": "main-gate", "shift_date": "2026-05-01"})
        stored = next(iter(store.read_all()))
        assert (stored.data["clerk_id"], stored.metadata["actor"], stored.metadata["desk"]) == (
            "c-017", "c-017", "main-gate")
        assert [(row["clerk_id"], row["clerk_name"], row["position"]) for row in sheet["rows"]] == \
            [("c-017", "王芳", 1)]


def test_the_event_handler_updates_the_read_model_without_being_asked(runner_factory, service_config,
                                                                       relay_process, rpc_as):
    runner = runner_factory(service_config, DutyLogService, FormsService)
    runner.start()
    forms = next(c for c in runner.containers if c.service_name == "forms")
    projections = next(d for d in forms.dependencies if type(d).__name__ == "Projections")
    relay_process.start()
    with rpc_as("clerk") as cluster:
        cluster.duty_log.sign_in(SIGN_IN)
    # the timer polls every 5 s; the relayed message makes it sooner
    wait_for(lambda: projections.projector.position == 1, timeout=4, message="the relayed event")
    assert projections.projector.fold(__import__("services.duty_log.forms", fromlist=["x"]).SignInSheets) \
        .sheet("main-gate", __import__("datetime").date(2026, 5, 1))[0]["clerk_id"] == "c-017"


def test_bad_input_is_a_structured_error_naming_each_field_and_stores_nothing(runner_factory, service_config,
                                                                             rpc_as):
    runner = runner_factory(service_config, DutyLogService)
    runner.start()
    with rpc_as("clerk") as cluster:
        with pytest.raises(RemoteError) as raised:
            cluster.duty_log.sign_in({"desk": "", "clerk_id": "c-099", "at": "yesterday"})
    body = error_body(raised.value)
    assert body["code"] == "validation_failed"
    assert set(body["fields"]) == {"desk", "clerk_id", "at"}  # clerk_id: who signs in is the principal
    assert open_store(service_config["EVENT_STORE_URI"]).head().position == 0


def test_a_retried_command_returns_the_first_result_and_a_second_sign_in_is_refused(runner_factory,
                                                                                     service_config, rpc_as):
    runner = runner_factory(service_config, DutyLogService)
    runner.start()
    command_id = str(uuid.uuid4())
    with rpc_as("clerk") as cluster:
        first = cluster.duty_log.sign_in(dict(SIGN_IN, command_id=command_id))
        again = cluster.duty_log.sign_in(dict(SIGN_IN, command_id=command_id))
        assert again["duplicate"] is True
        assert again["event_ids"] == first["event_ids"]
        with pytest.raises(RemoteError) as raised:
            cluster.duty_log.sign_in(SIGN_IN)
        assert cluster.duty_log.health() == {"service": "duty_log", "status": "ok", "store_head": 1}
    body = error_body(raised.value)
    assert (body["code"], body["reason"], list(body["fields"])) == ("rule_violated", "already_signed_in",
                                                                   ["clerk_id"])


def test_the_call_is_logged_as_json_with_ids_but_never_the_clerks_name(runner_factory, service_config, capfd,
                                                                        rpc_as):
    import json
    runner = runner_factory(service_config, DutyLogService)
    runner.start()
    with rpc_as("clerk", name="王芳") as cluster:
        cluster.duty_log.sign_in(SIGN_IN)
    lines = []

    def read_until_call_done():  # nameko logs the outcome after the reply is sent
        lines.extend(json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{"))
        return any(line["event"] == "call.done" and line["entrypoint"] == "sign_in" for line in lines)
    wait_for(read_until_call_done, timeout=5, message="the call's outcome in the log")
    signed_in = next(line for line in lines if line["event"] == "clerk.signed_in")
    assert signed_in["service"] == "duty_log" and signed_in["entrypoint"] == "sign_in"
    assert signed_in["stream"] == "duty_day-main-gate-2026-05-01" and signed_in["position"] == 1
    assert lines and not any("王芳" in json.dumps(line, ensure_ascii=False) for line in lines)


def test_only_a_clerk_signs_in_and_never_without_a_principal(runner_factory, service_config, rpc_as):
    runner_factory(service_config, DutyLogService).start()
    from nameko.standalone.rpc import ClusterRpcProxy
    with ClusterRpcProxy(service_config) as anonymous:
        with pytest.raises(RemoteError) as raised:
            anonymous.duty_log.sign_in(SIGN_IN)
        assert error_body(raised.value)["code"] == "unauthenticated"
        assert anonymous.duty_log.health()["status"] == "ok"  # health stays open
    with rpc_as("auditor") as auditor:
        with pytest.raises(RemoteError) as raised:
            auditor.duty_log.sign_in(SIGN_IN)
    assert error_body(raised.value)["code"] == "forbidden"
    assert open_store(service_config["EVENT_STORE_URI"]).head().position == 0
