"""Root fixtures. eventlet must patch before anything else imports sockets."""
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # eventlet announces its own deprecation on import; nameko 2 needs it
    import eventlet

# `make mutation` (docs/mutation.md) sets VSC_MUTATION=1: mutmut's workers use
# real threads, pipes and select() of their own, which a patch would green, so
# its unit tests run unpatched (the few that need green threads are left out)
if __import__("os").environ.get("VSC_MUTATION") != "1":
    eventlet.monkey_patch()  # noqa: E402

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def event_store_uri(tmp_path):
    """A fresh SQLite event store file for one test."""
    return f"sqlite:///{tmp_path}/events.db"


#: the personal-data master key of every test's services (one per test session)
MASTER_KEY = __import__("services.privacy", fromlist=["generate_master_key"]).generate_master_key()


@pytest.fixture(scope="session")
def principal_keys(tmp_path_factory):
    """One Ed25519 key pair for the session's principals (the staff service
    signs with it; every service verifies with its public half)."""
    from services.chassis.principal import write_keypair
    folder = tmp_path_factory.mktemp("keys")
    keys = {"PRINCIPAL_SIGNING_KEY_FILE": str(folder / "principal.key"),
            "PRINCIPAL_PUBLIC_KEY_FILE": str(folder / "principal.pub")}
    write_keypair(keys["PRINCIPAL_SIGNING_KEY_FILE"], keys["PRINCIPAL_PUBLIC_KEY_FILE"])
    return keys


@pytest.fixture
def fast_tmp_path(tmp_path):
    """A directory on tmpfs (/dev/shm) when there is one: SQLite commits
    there do not wait for a disk (tests that make many appends)."""
    if not os.path.isdir("/dev/shm"):
        yield tmp_path
        return
    import shutil
    import tempfile
    path = tempfile.mkdtemp(prefix="vsc-test-", dir="/dev/shm")
    try:
        yield __import__("pathlib").Path(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def service_config(rabbit_config, event_store_uri, principal_keys):
    """nameko config on the test's own RabbitMQ vhost and a fresh store. (structlog is configured
    once per process, by whichever test starts a service first: keep LOG_LEVEL the same.)
    Tests give business times on fixed days of 2026, so the window of past business times is wide.
    Passwords are hashed with argon2's cheapest profile: only tests may do that."""
    return dict(rabbit_config, EVENT_STORE_URI=event_store_uri, LOG_LEVEL="INFO", TIMEZONE="Asia/Shanghai",
                BUSINESS_TIME_MAX_AGE_DAYS=36600, PASSWORD_HASH_PROFILE="CHEAPEST",
                PRIVACY_MASTER_KEY=MASTER_KEY, **principal_keys)


def add_staff(store, staff_id, name, *roles, desks=()):
    """A staff account in the store, as the staff service records it (tests
    that name finders and witnesses by staff id need them to exist)."""
    import datetime as dt

    import contracts
    from services.chassis.codec import EventCodec
    from services.chassis.commands import execute
    from services.staff import domain as staff
    at = dt.datetime.now(dt.timezone.utc)
    command = staff.CreateStaffAccount(staff_id, name, frozenset(roles), frozenset(desks), "$argon2id$not-a-hash",
                                       at, password_change_required=False)
    return execute(store, EventCodec(contracts.registry, staff.EVENTS), staff, staff.stream_id(staff_id), command,
                   occurred_at=at, metadata={"actor": "test-setup"})


@pytest.fixture
def token_for(principal_keys):
    """``token_for("clerk", staff_id=..., desk=...)``: a principal as the login step would sign it."""
    from services.chassis.principal import load_signer
    signer = load_signer(principal_keys)

    def issue(*roles, staff_id="c-017", name="王芳", desk="main-gate", **kwargs):
        return signer.issue(staff_id, name, set(roles), desk, **kwargs)[0]
    return issue


@pytest.fixture
def rpc_as(service_config, token_for):
    """``with rpc_as("clerk") as rpc: rpc.lost_and_found.item(...)``: a standalone
    proxy whose calls carry a principal with those roles (and, given
    ``cosigner=token``, a second person's principal)."""
    from nameko.standalone.rpc import ClusterRpcProxy
    from services.chassis.principal import CONTEXT_KEY, COSIGNER_KEY

    def proxy(*roles, token=None, cosigner=None, timeout=30, **kwargs):
        context = {CONTEXT_KEY: token or token_for(*roles, **kwargs)}
        if cosigner:
            context[COSIGNER_KEY] = cosigner
        return ClusterRpcProxy(service_config, context_data=context, timeout=timeout)
    return proxy


def wait_for(predicate, timeout=15.0, interval=0.05, message="condition"):
    """Poll ``predicate`` until it returns something truthy; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        eventlet.sleep(interval)


@pytest.fixture
def relay_process(service_config):
    """Start the relay as a real separate process (pika, no eventlet) on the
    test's vhost and store; yields a handle with ``start()``, ``kill()``."""
    class RelayProcess:
        def __init__(self):
            self.proc = None

        def start(self, extra_env=None):
            env = dict(os.environ, AMQP_URI=service_config["AMQP_URI"],
                       EVENT_STORE_URI=service_config["EVENT_STORE_URI"], LOG_LEVEL="INFO",
                       RELAY_LEASE_TTL="2", PYTHONPATH=ROOT, **(extra_env or {}))
            self.proc = subprocess.Popen([sys.executable, "-m", "services.eventstore.relay"], env=env,
                                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            return self.proc

        def kill(self):
            if self.proc and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)

        def stop(self):
            if self.proc and self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()

    handle = RelayProcess()
    yield handle
    handle.stop()
