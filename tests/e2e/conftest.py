"""The whole system for the browser tests: ``deploy/run_local.py`` in a temp
VSC_VAR_DIR and VSC_SECRETS_DIR, on its own vhost of the real broker, with
the staff of a day at the center (clerks at two desks, a custodian, finance,
a lead, an auditor), and Debian's Chromium driven by Playwright.

One system per test session (starting it takes a while); every test makes
its own items, so tests do not depend on each other's order.
Screenshots go to tests/e2e/artifacts/ (gitignored)."""
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import eventlet
eventlet.monkey_patch()  # noqa: E402

import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import pytest  # noqa: E402

from tests.conftest import ROOT  # noqa: E402
from tests.e2e.pages import ARTIFACTS, CHROMIUM, PASSWORD, STAFF  # noqa: E402
from tests.integration.test_run_local import alive, children_of, read_until  # noqa: E402

BROWSER_TEST_TIMEOUT = 240  # seconds for one browser test's process

pytestmark = [pytest.mark.e2e, pytest.mark.rabbit, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def system(vhost_pipeline, request):
    """The running system: ``base_url``, ``config`` (for RPC proxies), the
    staff ``PASSWORD``, and ``rpc(token, cosigner=None)``."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.chassis.principal import CONTEXT_KEY, COSIGNER_KEY
    amqp = request.config.getoption("RABBIT_AMQP_URI").rstrip("/")
    folder = Path(tempfile.mkdtemp(prefix="vsc-e2e-"))
    port = free_port()
    with vhost_pipeline.get() as vhost:
        env = dict(os.environ, VSC_VAR_DIR=str(folder / "var"), VSC_SECRETS_DIR=str(folder / "secrets"),
                   AMQP_URI=f"{amqp}/{vhost}", EVENT_STORE_URI=f"sqlite:///{folder}/store/events.db",
                   AUDIT_DIR=str(folder / "audit"), LOG_LEVEL="INFO", PASSWORD_HASH_PROFILE="CHEAPEST",
                   GATEWAY_PORT=str(port), GATEWAY_IDLE_LOCK_SECONDS="600", TIMEZONE="Asia/Shanghai")
        env.pop("PYTHONWARNINGS", None)
        (folder / "store").mkdir()
        admin_password = _bootstrap_admin(env)
        stderr = open(folder / "stderr", "wb")
        proc = subprocess.Popen([sys.executable, os.path.join("deploy", "run_local.py")], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=stderr, preexec_fn=_stop_with_us)
        started = []
        try:
            lines = read_until(proc.stdout, b"ready:", timeout=180)
            started.extend(children_of(proc.pid))
            ready = lines[-1].decode()
            url = re.search(r"https?://\S+", ready)
            base_url = (url.group(0) if url and str(port) in url.group(0) else f"http://127.0.0.1:{port}/").rstrip("/")
            config = {"AMQP_URI": env["AMQP_URI"], "serializer": "json"}

            def rpc(token, cosigner=None, timeout=30):
                context = {CONTEXT_KEY: token}
                if cosigner:
                    context[COSIGNER_KEY] = cosigner
                return ClusterRpcProxy(config, context_data=context, timeout=timeout)

            tokens = _make_staff(rpc, admin_password)
            yield SimpleNamespace(base_url=base_url, config=config, rpc=rpc, tokens=tokens, folder=folder,
                                  password=PASSWORD, staff=STAFF, env=env)
        finally:
            if proc.poll() is None:
                started.extend(children_of(proc.pid))
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(40)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            for pid in started:
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)
            stderr.close()
            logs = folder / "var" / "log"
            if logs.is_dir():  # kept beside the screenshots for a failed run
                ARTIFACTS.mkdir(exist_ok=True)
                shutil.copytree(logs, ARTIFACTS / "logs", dirs_exist_ok=True)
            shutil.rmtree(folder, ignore_errors=True)


def _stop_with_us():
    """Linux: the runner gets SIGTERM (and stops everything) if this test process dies without its teardown."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _bootstrap_admin(env) -> str:
    """`vsc staff bootstrap`, as the README's first step says (its one-time password)."""
    result = subprocess.run([os.path.join(os.path.dirname(sys.executable), "vsc"), "staff", "bootstrap",
                             "--staff-id", "admin", "--name", "管理员"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    found = next(i for i, line in enumerate(lines) if "one-time password" in line.lower())
    return lines[found + 1].strip()


def _make_staff(rpc, admin_password) -> dict:
    """The admin changes the one-time password, adds the day's staff; each
    sets their own password (so the browser logs in with PASSWORD)."""
    with rpc(None) as cluster:
        reply = cluster.staff.login({"staff_id": "admin", "password": admin_password, "desk": None})
    with rpc(reply["token"]) as cluster:
        reply = cluster.staff.change_own_password({"current_password": admin_password, "new_password": PASSWORD})
    tokens = {"admin": reply["token"]}
    with rpc(reply["token"]) as cluster:
        one_time = {staff_id: cluster.staff.add_staff({"staff_id": staff_id, "display_name": name, "roles": roles,
                                                       "desks": desks})["one_time_password"]
                    for staff_id, (name, roles, desks) in STAFF.items()}
    for staff_id, password in one_time.items():
        with rpc(None) as cluster:
            first = cluster.staff.login({"staff_id": staff_id, "password": password, "desk": None})
        with rpc(first["token"]) as cluster:
            tokens[staff_id] = cluster.staff.change_own_password({"current_password": password,
                                                                  "new_password": PASSWORD})["token"]
    return tokens


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """A browser test runs in a child process of its own, without eventlet.

    Playwright's sync API runs an asyncio loop in a greenlet; in this
    process eventlet (which nameko needs, patched by tests/conftest.py)
    has made ``os.read``, sockets and ``select`` green, and the browser's
    replies then stop arriving now and then: the test hangs. The child
    (tests/e2e/browser.py) imports the test's module and calls the test with
    the browser's fixtures; this process keeps the system running."""
    if "new_context" not in pyfuncitem.fixturenames:
        return None
    system = pyfuncitem.funcargs["system"]
    payload = json.dumps({"base_url": system.base_url, "password": system.password, "staff": system.staff})
    child = subprocess.run([sys.executable, "-m", "tests.e2e.browser", pyfuncitem.module.__name__,
                            pyfuncitem.originalname, payload], cwd=ROOT, capture_output=True, text=True,
                           timeout=BROWSER_TEST_TIMEOUT, env=dict(os.environ, PYTHONPATH=ROOT))
    if child.returncode != 0:
        raise AssertionError(f"the browser test failed in its process:\n{child.stdout[-3000:]}\n{child.stderr[-6000:]}")
    return True


@pytest.fixture
def new_context(system):
    """``new_context(lang="zh", phone=False)``: a fresh browser profile (its
    own cookies). The test runs in tests/e2e/browser.py's process, which
    passes the real one; here it only asks for Chromium and the system."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (make test installs it as root: "
                    "deploy/ensure_chromium.sh)")
    return None
