"""How the gateway calls a service: the principal (and a cosigner, and the
login source) in context data only for that call, every call bounded in
time, every failure a structured error with its HTTP status."""
import eventlet
import pytest
from nameko.exceptions import RemoteError, UnknownService

from services.chassis.errors import Forbidden
from services.gateway import rpc
from services.gateway.screens import CallFailed


class Ctx:
    def __init__(self):
        self.data = {"call_id_stack": ["x"]}


@pytest.fixture
def proxy(monkeypatch):
    seen = {}

    class FakeMethodProxy:
        behaviour = staticmethod(lambda payload: {"ok": True})

        def __init__(self, worker_ctx, service, method, listener):
            seen["target"] = (service, method)
            seen["context"] = dict(worker_ctx.data)

        def __call__(self, payload):
            return FakeMethodProxy.behaviour(payload)
    monkeypatch.setattr(rpc, "MethodProxy", FakeMethodProxy)
    return FakeMethodProxy, seen


def test_the_principal_travels_in_context_data_for_that_call_only(proxy):
    fake, seen = proxy
    ctx = Ctx()
    caller = rpc.Caller(ctx, object(), timeout=1)
    assert caller("lost_and_found", "claim_item", {"a": 1}, token="T", cosigner="C", source="10.0.0.9") == {"ok": True}
    assert seen["target"] == ("lost_and_found", "claim_item")
    assert seen["context"] == {"call_id_stack": ["x"], "principal": "T", "cosigner": "C", "source": "10.0.0.9"}
    assert ctx.data == {"call_id_stack": ["x"]}  # gone again after the call
    caller("forms", "sign_in_sheet", {}, token="T2")
    assert seen["context"] == {"call_id_stack": ["x"], "principal": "T2"}  # no cosigner left over


def test_a_service_that_does_not_answer_in_time_is_503(proxy):
    fake, _ = proxy
    fake.behaviour = staticmethod(lambda payload: eventlet.sleep(5))
    with pytest.raises(CallFailed) as failed:
        rpc.Caller(Ctx(), None, timeout=0.2)("forms", "sign_in_sheet", {})
    assert failed.value.status == 503 and failed.value.code == "unavailable"


def test_a_service_that_is_not_running_is_503(proxy):
    fake, _ = proxy

    def unknown(payload):
        raise UnknownService("forms")
    fake.behaviour = staticmethod(unknown)
    with pytest.raises(CallFailed) as failed:
        rpc.Caller(Ctx(), None, timeout=1)("forms", "sign_in_sheet", {})
    assert failed.value.status == 503


def test_a_structured_refusal_keeps_its_code_and_anything_else_is_502(proxy):
    fake, _ = proxy
    refusal = Forbidden("lost_and_found.sign_off_finance_handover needs one of the roles custodian, finance",
                        reason="role_required")

    def refused(payload):
        raise RemoteError("Forbidden", str(refusal))
    fake.behaviour = staticmethod(refused)
    with pytest.raises(CallFailed) as failed:
        rpc.Caller(Ctx(), None, timeout=1)("lost_and_found", "sign_off_finance_handover", {})
    assert (failed.value.status, failed.value.code, failed.value.body["reason"]) == (403, "forbidden", "role_required")

    def crashed(payload):
        raise RemoteError("MethodNotFound", "no method")
    fake.behaviour = staticmethod(crashed)
    with pytest.raises(CallFailed) as failed:
        rpc.Caller(Ctx(), None, timeout=1)("forms", "nothing", {})
    assert failed.value.status == 502 and failed.value.code == "bad_gateway"

    def broker_gone(payload):
        raise ConnectionRefusedError(111, "refused")
    fake.behaviour = staticmethod(broker_gone)
    with pytest.raises(CallFailed) as failed:
        rpc.Caller(Ctx(), None, timeout=1)("forms", "sign_in_sheet", {})
    assert failed.value.status == 503
