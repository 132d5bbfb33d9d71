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
