"""`vsc` for people, against the staff service on the real broker: the
first admin is bootstrapped on the host, logs in (changing the one-time
password), adds a clerk; the cached principal is private to its owner and
every write needs it."""
import io
import os
import stat

import pytest
import yaml

from services.cli.main import main
from services.staff.service import StaffService

pytestmark = pytest.mark.rabbit


@pytest.fixture
def store_for_cli(service_config):
    from services.eventstore import open_store
    store = open_store(service_config["EVENT_STORE_URI"])
    yield store
    store.close()


@pytest.fixture
def cli(tmp_path, service_config, runner_factory, monkeypatch, capsys):
    config = {key: service_config[key] for key in (
        "AMQP_URI", "EVENT_STORE_URI", "PRINCIPAL_PUBLIC_KEY_FILE", "PRINCIPAL_SIGNING_KEY_FILE",
        "PASSWORD_HASH_PROFILE")}
    config["VSC_TOKEN_FILE"] = str(tmp_path / "home" / "principal.json")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    runner_factory(service_config, StaffService).start()

    def run(*argv, stdin=""):
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(["--config", str(path), *argv])
        out, err = capsys.readouterr()
        return code, out, err
    run.token_file = config["VSC_TOKEN_FILE"]
    return run


def test_bootstrap_login_and_add_a_clerk_from_the_command_line(cli):
    code, out, _ = cli("staff", "bootstrap", "--staff-id", "root", "--name", "管理员")
    assert code == 0
    one_time = out.split("\n")[1].strip()
    code, _, err = cli("staff", "bootstrap", "--staff-id", "root2", "--name", "x")
    assert code == 2 and "admin_exists" in err          # only once

    code, _, err = cli("staff", "list")
    assert code == 2 and "not logged in" in err         # every command that reads or writes needs a login

    code, out, err = cli("login", "--staff-id", "root", "--password-stdin",
                         stdin=f"{one_time}\nQinglan-desk-2026\n")
    assert code == 0 and "logged in as root (admin)" in out and "one-time password" in err
    assert stat.S_IMODE(os.stat(cli.token_file).st_mode) == 0o600

    code, out, _ = cli("staff", "add", "wang.fang", "--name", "王芳", "--roles", "clerk,custodian",
                       "--desks", "main-gate")
    assert code == 0 and "One-time password" in out
    code, out, _ = cli("staff", "list")
    assert "wang.fang" in out and "clerk,custodian" in out and "main-gate" in out

    code, _, err = cli("staff", "add", "x", "--name", "X", "--roles", "boss")
    assert code == 2 and "validation_failed" in err and "roles" in err

    code, out, _ = cli("logout")
    assert code == 0 and not os.path.exists(cli.token_file)


def test_a_wrong_password_is_a_clear_refusal(cli):
    cli("staff", "bootstrap", "--staff-id", "root", "--name", "管理员")
    code, _, err = cli("login", "--staff-id", "root", "--password-stdin", stdin="wrong\n")
    assert code == 2 and "wrong staff id or password" in err


def test_the_documented_desk_script_logs_in_and_signs_in(tmp_path, service_config, runner_factory, store_for_cli):
    """docs/examples/desk_script.py, run as a separate process against the running services."""
    import subprocess
    import sys
    from services.duty_log.service import DutyLogService
    from services.forms.service import FormsService
    from services.staff.bootstrap import bootstrap_admin
    one_time = bootstrap_admin(store_for_cli, "root", "管理员", service_config)
    runner_factory(service_config, StaffService, DutyLogService, FormsService).start()
    from nameko.standalone.rpc import ClusterRpcProxy
    with ClusterRpcProxy(service_config) as anonymous:
        first = anonymous.staff.login({"staff_id": "root", "password": one_time})
    with ClusterRpcProxy(service_config, context_data={"principal": first["token"]}) as rpc:
        admin = rpc.staff.change_own_password({"current_password": one_time, "new_password": "Qinglan-2026-admin"})
    with ClusterRpcProxy(service_config, context_data={"principal": admin["token"]}) as rpc:
        clerk_otp = rpc.staff.add_staff({"staff_id": "wang.fang", "display_name": "王芳", "roles": ["clerk"]})
    with ClusterRpcProxy(service_config) as anonymous:
        clerk = anonymous.staff.login({"staff_id": "wang.fang", "password": clerk_otp["one_time_password"]})
    with ClusterRpcProxy(service_config, context_data={"principal": clerk["token"]}) as rpc:
        rpc.staff.change_own_password({"current_password": clerk_otp["one_time_password"],
                                       "new_password": "Qinglan-desk-7"})
    script = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "examples", "desk_script.py")
    result = subprocess.run([sys.executable, script, "--amqp-uri", service_config["AMQP_URI"], "--staff-id",
                             "wang.fang", "--desk", "main-gate", "--password-stdin"], input="Qinglan-desk-7\n",
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "王芳 signed in at" in result.stdout and "1 on the sheet" in result.stdout
