"""staff on the real RabbitMQ: the first admin bootstraps, adds a clerk, the
clerk must change the one-time password before anything else, logs in,
refreshes; failures are throttled; a disabled account cannot log in; the
login is recorded with the staff member as its actor."""
import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from services.chassis.errors import error_body
from services.chassis.principal import CONTEXT_KEY, load_verifier
from services.eventstore import open_store
from services.staff.bootstrap import bootstrap_admin
from services.staff.service import StaffService

pytestmark = pytest.mark.rabbit

NEW_PASSWORD = "desk-42-Qinglan"


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
def staff(runner_factory, service_config, store):
    one_time = bootstrap_admin(store, "root", "管理员", service_config)
    runner_factory(service_config, StaffService).start()
    return one_time


def anonymous(service_config, **context):
    return ClusterRpcProxy(service_config, context_data=context, timeout=30)


def logged_in(service_config, token):
    return ClusterRpcProxy(service_config, context_data={CONTEXT_KEY: token}, timeout=30)


def login(service_config, staff_id, password, desk=None, source="terminal-1"):
    with anonymous(service_config, source=source) as rpc:
        return rpc.staff.login({"staff_id": staff_id, "password": password, "desk": desk})


def test_the_first_admin_changes_the_one_time_password_then_adds_a_clerk_who_does_the_same(
        staff, service_config, store):
    first = login(service_config, "root", staff)
    assert first["password_change_required"] and first["roles"] == ["admin"]
    with logged_in(service_config, first["token"]) as rpc:
        body = refused(rpc.staff.list_staff, {})
        assert (body["code"], body["reason"]) == ("forbidden", "password_change_required")
        weak = refused(rpc.staff.change_own_password, {"current_password": staff, "new_password": "short"})
        assert (weak["code"], list(weak["fields"])) == ("validation_failed", ["new_password"])
        changed = rpc.staff.change_own_password({"current_password": staff, "new_password": NEW_PASSWORD})
    assert not changed["password_change_required"]
    with logged_in(service_config, changed["token"]) as rpc:
        added = rpc.staff.add_staff({"staff_id": "wang.fang", "display_name": "王芳", "roles": ["clerk"],
                                     "desks": ["main-gate"]})
        assert rpc.staff.list_staff({})["rows"] == [
            {"staff_id": "root", "display_name": "管理员", "roles": ["admin"], "desks": [], "active": True},
            {"staff_id": "wang.fang", "display_name": "王芳", "roles": ["clerk"], "desks": ["main-gate"],
             "active": True}]
    clerk = login(service_config, "wang.fang", added["one_time_password"], desk="main-gate")
    principal = load_verifier(service_config).verify(clerk["token"])
    assert (principal.staff_id, principal.roles, principal.desk, principal.password_change_required) == (
        "wang.fang", frozenset({"clerk"}), "main-gate", True)
    # the login is an event on the day's login stream, its actor the clerk herself
    logins = [record for record in store.read_all() if record.type == "StaffLoggedIn"]
    assert [(r.data["staff_id"], r.data["desk"], r.data["source"], r.metadata["actor"]) for r in logins] == [
        ("root", None, "terminal-1", "root"), ("wang.fang", "main-gate", "terminal-1", "wang.fang")]
    # no password or hash in any reply; the hash in the log is argon2id
    created = next(r for r in store.read_all() if r.type == "StaffAccountCreated" and r.stream_id == "staff-wang.fang")
    assert created.data["password_hash"].startswith("$argon2id$")
    assert added["one_time_password"] not in str(list(store.read_all()))


def test_a_wrong_password_and_an_unknown_id_get_the_same_answer_and_are_throttled(staff, service_config, store):
    head = store.head().position
    wrong = refused(login, service_config, "root", "not-the-password")
    unknown = refused(login, service_config, "nobody", "not-the-password")
    assert wrong == unknown == {"code": "unauthenticated", "message": "wrong staff id or password"}
    for _ in range(4):
        refused(login, service_config, "root", "still-wrong")
    throttled = refused(login, service_config, "root", staff)   # even the right password must wait now
    assert throttled["code"] == "throttled" and throttled["retry_after"] > 0
    # the account is throttled from every terminal; another account on another terminal is not
    assert refused(login, service_config, "root", staff, None, "terminal-2")["code"] == "throttled"
    assert refused(login, service_config, "li.ming", "x", None, "terminal-2")["code"] == "unauthenticated"
    assert store.head().position == head  # failures append nothing


def test_a_disabled_account_cannot_log_in_or_refresh(staff, service_config):
    root = login(service_config, "root", staff)
    with logged_in(service_config, root["token"]) as rpc:
        root = rpc.staff.change_own_password({"current_password": staff, "new_password": NEW_PASSWORD})
    with logged_in(service_config, root["token"]) as rpc:
        one_time = rpc.staff.add_staff({"staff_id": "li.ming", "display_name": "李明", "roles": ["clerk"]})
        clerk = login(service_config, "li.ming", one_time["one_time_password"])
        rpc.staff.disable_staff({"staff_id": "li.ming", "reason": "left the company"})
        last = refused(rpc.staff.disable_staff, {"staff_id": "root", "reason": "oops"})
        assert (last["code"], last["reason"]) == ("rule_violated", "last_admin")
    body = refused(login, service_config, "li.ming", one_time["one_time_password"])
    assert (body["code"], body["reason"]) == ("rule_violated", "account_disabled")
    with logged_in(service_config, clerk["token"]) as rpc:
        assert refused(rpc.staff.refresh, {})["code"] == "unauthenticated"


def test_a_refresh_carries_the_current_roles(staff, service_config):
    root = login(service_config, "root", staff)
    with logged_in(service_config, root["token"]) as rpc:
        root = rpc.staff.change_own_password({"current_password": staff, "new_password": NEW_PASSWORD})
    with logged_in(service_config, root["token"]) as rpc:
        rpc.staff.set_roles({"staff_id": "root", "roles": ["admin", "lead"]})
        refreshed = rpc.staff.refresh({})
        assert refreshed["roles"] == ["admin", "lead"]
        assert rpc.staff.whoami({})["roles"] == ["admin", "lead"]


def test_calls_without_a_principal_or_with_a_made_up_one_are_refused(staff, service_config, token_for):
    with anonymous(service_config) as rpc:
        assert refused(rpc.staff.list_staff, {})["code"] == "unauthenticated"
    with anonymous(service_config, principal="eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290In0.") as rpc:
        assert refused(rpc.staff.list_staff, {})["code"] == "unauthenticated"
    with logged_in(service_config, token_for("clerk")) as rpc:
        body = refused(rpc.staff.add_staff, {"staff_id": "x1", "display_name": "X", "roles": ["admin"]})
        assert (body["code"], body["reason"]) == ("forbidden", "role_required")
