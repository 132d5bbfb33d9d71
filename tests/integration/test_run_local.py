"""`make run` for real: deploy/run_local.py as a subprocess, on its own vhost
and a tmp var directory (so it runs beside a user's `make run`)."""
import json
import os
import selectors
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.rabbit, pytest.mark.slow]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def children_of(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return [int(child) for child in listing.read().split()]


def read_until(stream, prefix: bytes, timeout: float) -> list[bytes]:
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    buffered, lines = b"", []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
            continue
        chunk = os.read(stream.fileno(), 4096)
        if not chunk:
            break
        buffered += chunk
        *complete, buffered = buffered.split(b"\n")
        lines.extend(complete)
        if any(line.startswith(prefix) for line in complete):
            return lines
    raise AssertionError(f"no line starting with {prefix!r} within {timeout}s; got {lines!r}")


def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def runner(rabbit_config, tmp_path):
    env = dict(os.environ, VSC_VAR_DIR=str(tmp_path / "var"), AMQP_URI=rabbit_config["AMQP_URI"],
               EVENT_STORE_URI=f"sqlite:///{tmp_path}/events.db", LOG_LEVEL="INFO",
               VSC_SECRETS_DIR=str(tmp_path / "secrets"), GATEWAY_PORT=str(free_port()))
    env.pop("PYTHONWARNINGS", None)
    with open(tmp_path / "stderr", "wb") as stderr:
        proc = subprocess.Popen([sys.executable, os.path.join("deploy", "run_local.py")], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=stderr)
    started = []
    proc.started = started
    proc.port = int(env["GATEWAY_PORT"])
    yield proc
    if proc.poll() is None:
        started.extend(children_of(proc.pid))
        proc.kill()
        proc.wait()
    for pid in started:  # whatever the runner left behind
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_ctrl_c_stops_every_process_even_when_stdout_is_a_closed_pipe(runner, tmp_path):
    lines = read_until(runner.stdout, b"ready:", timeout=120)
    assert b"ready:" in lines[-1]
    # the desk console is up where the ready line says, and asks for a login
    url = f"http://localhost:{runner.port}/"
    assert f"desk console on {url}".encode() in lines[-1]
    import urllib.request
    with urllib.request.urlopen(url + "login", timeout=10) as page:
        assert page.status == 200 and "登录" in page.read().decode()
    # the keys were made outside var/, and the one step to the first admin is shown
    assert {path.name for path in (tmp_path / "secrets").iterdir()} == {"principal.key", "principal.pub",
                                                                         "privacy.key"}
    assert any(b"vsc staff bootstrap --staff-id admin" in line for line in lines)
    runner.started.extend(children_of(runner.pid))
    assert len(runner.started) >= 4 and all(alive(pid) for pid in runner.started)

    runner.stdout.close()  # the reader is gone, as `tee` is after Ctrl-C
    runner.send_signal(signal.SIGINT)
    assert runner.wait(60) == 0
    assert [pid for pid in runner.started if alive(pid)] == []
    assert (tmp_path / "stderr").read_bytes() == b""

    # what the processes wrote meanwhile: only JSON lines (no deprecation
    # banner), and no health probe or idle timer tick among them
    logs = sorted((tmp_path / "var" / "log").glob("*.log"))
    assert {path.stem for path in logs} >= {"duty_log", "lost_and_found", "forms", "relay"}
    for path in logs:
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        assert not [r for r in records if r.get("entrypoint") in ("health", "catch_up")], path.name
