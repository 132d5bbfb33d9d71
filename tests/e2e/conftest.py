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

import asyncio  # noqa: E402
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
from tests.integration.test_run_local import alive, children_of, read_until  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "desk-Passw0rd-2026"

#: staff_id -> (display name, roles, desks)
STAFF = {
    "c-017": ("王芳", ["clerk"], ["main-gate"]),
    "c-023": ("李娜", ["clerk"], ["north-gate"]),
    "k-001": ("赵敏", ["custodian"], []),
    "f-001": ("钱会计", ["finance"], []),
    "l-001": ("孙主任", ["lead"], []),
    "a-001": ("周审计", ["auditor"], []),
    "s-101": ("刘强", ["team_lead"], []),
}

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


class _UnpatchedSelectorPolicy(asyncio.DefaultEventLoopPolicy):
    """Playwright's sync API runs an asyncio loop in a greenlet of its own.
    On eventlet's green selector that loop waits inside eventlet's hub, which
    the rest of this process (nameko's proxies) also drives; the two then
    wake each other's greenlets and the test hangs now and then. The loop
    gets the real selector: it waits for the browser only."""

    def new_event_loop(self):
        real_select = eventlet.patcher.original("select")

        class RealSelectSelector(eventlet.patcher.original("selectors").SelectSelector):
            _select = staticmethod(real_select.select)
        return asyncio.SelectorEventLoop(RealSelectSelector())


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (make test installs it as root: "
                    "deploy/ensure_chromium.sh)")
    from playwright.sync_api import sync_playwright
    asyncio.set_event_loop_policy(_UnpatchedSelectorPolicy())
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser, system):
    """``new_context(lang="zh", phone=False)``: a fresh browser profile (its own cookies), closed after the test."""
    contexts = []

    def make(lang="zh", phone=False):
        context = browser.new_context(viewport=PHONE if phone else VIEWPORT, base_url=system.base_url,
                                      locale="zh-CN" if lang == "zh" else "en-GB", timezone_id="Asia/Shanghai")
        context.set_default_timeout(15000)
        contexts.append(context)
        return context
    yield make
    for context in contexts:
        context.close()


def shot(page, name: str) -> Path:
    """A full-page PNG of what the page shows now, under tests/e2e/artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, staff_id: str, desk: str | None = None, password: str = PASSWORD):
    """The login screen, as a clerk uses it (desk remembered per terminal)."""
    page.goto("/login")
    page.fill("#f-staff_id", staff_id)
    page.fill("#f-password", password)
    page.fill("#f-desk", desk or "")
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.inner_text("main")
    return page


def qr_texts_of(page, selector: str = "#item-qr") -> list[str]:
    """Decode the QR code image the page shows (its data: URI PNG)."""
    import base64
    import io

    import zxingcpp
    from PIL import Image
    source = page.get_attribute(selector, "src")
    assert source.startswith("data:image/png;base64,"), source[:40]
    image = Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))).convert("L")
    return [result.text for result in zxingcpp.read_barcodes(image)]
