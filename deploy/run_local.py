"""`make run`: every service, the relay (and what else exists) as separate
processes on this machine, on the embedded SQLite store under var/.

Prints what runs and where, waits until each process answers its health
check, prints one ``ready: ...`` line, and stops everything cleanly on
Ctrl-C, SIGTERM or SIGHUP (SIGTERM to each, SIGKILL after 20 s or at a
second Ctrl-C). If any process dies, everything is stopped and the exit code
is 1.

Stopping never depends on stdout: ``make run | tee run.log`` loses its
reader at Ctrl-C, so every print here may fail and is then dropped.

The environment decides where (so a test runs beside a user's ``make run``):
``VSC_VAR_DIR`` (default ``var/``: logs in ``<var>/log/<name>.log``),
``EVENT_STORE_URI`` (default ``sqlite:///<var>/events.db``), ``AMQP_URI``,
``VSC_SECRETS_DIR`` (default ``~/.config/vsc``: the principal key pair and
the personal-data master key, made on the first start; never under var/).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join("deploy", "config.yaml")
HEALTH_TIMEOUT = 90  # seconds for every process to answer, after start
PROBE_TIMEOUT = 15   # seconds one health probe may take
STOP_TIMEOUT = 20    # seconds each process gets between SIGTERM and SIGKILL

# nameko services, in start order; a module that does not exist yet is skipped
SERVICES = ["staff", "privacy", "duty_log", "lost_and_found", "forms", "gateway"]

# The deprecation banners that eventlet (imported by nameko's CLI) and
# pkg_resources print before any of our code runs, for a `nameko` command run
# by hand (services.chassis.run silences eventlet's itself). Only these two: a
# warning of ours, or any other, still shows.
QUIET_WARNINGS = "ignore::Warning:nameko.cli.commands,ignore:pkg_resources is deprecated:UserWarning"


class Console:
    """Prints that never raise. A stream that fails once (its reader is
    gone: EPIPE, a closed terminal) is pointed at /dev/null and left alone,
    so neither a later print nor the interpreter's last flush raises."""

    def __init__(self):
        self.dead: set[int] = set()

    def say(self, text: str = "", err: bool = False) -> None:
        stream = sys.stderr if err else sys.stdout
        if id(stream) in self.dead:
            return
        try:
            stream.write(text + "\n")
            stream.flush()
        except (OSError, ValueError):
            self.dead.add(id(stream))
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, stream.fileno())
                os.close(devnull)
            except (OSError, ValueError):
                pass


def var_dir() -> str:
    return os.path.abspath(os.environ.get("VSC_VAR_DIR") or os.path.join(ROOT, "var"))


def child_env(var: str) -> dict:
    env = dict(os.environ)
    default_var = os.path.join(ROOT, "var")
    store = "var/events.db" if var == default_var else os.path.join(var, "events.db")
    env.setdefault("EVENT_STORE_URI", f"sqlite:///{store}")
    env.setdefault("AMQP_URI", "pyamqp://guest:guest@localhost:5672/")
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    # eventlet's green DNS module (dnspython) is 0.3-0.5 s of every process's start; the embedded
    # default talks to localhost, where a lookup cannot block the hub. With a broker or database
    # known by a remote name, set EVENTLET_NO_GREENDNS=no to keep lookups green.
    env.setdefault("EVENTLET_NO_GREENDNS", "yes")
    env["PYTHONWARNINGS"] = ",".join(filter(None, [QUIET_WARNINGS, os.environ.get("PYTHONWARNINGS")]))
    return env


def ensure_keys(env: dict) -> list[str]:
    """The keys every process needs, made once in the secrets directory
    unless the environment names files: the principal key pair (the staff
    service signs logins, every service checks them) and the master key of
    personal data. Returns what was created."""
    sys.path.insert(0, ROOT)
    from services.chassis.principal import secrets_dir, write_keypair
    from services.privacy import generate_master_key
    folder = env.get("VSC_SECRETS_DIR") or secrets_dir()
    env.setdefault("PRINCIPAL_SIGNING_KEY_FILE", os.path.join(folder, "principal.key"))
    env.setdefault("PRINCIPAL_PUBLIC_KEY_FILE", os.path.join(folder, "principal.pub"))
    env.setdefault("PRIVACY_MASTER_KEY_FILE", os.path.join(folder, "privacy.key"))
    made = []
    if not os.path.exists(env["PRINCIPAL_SIGNING_KEY_FILE"]):
        write_keypair(env["PRINCIPAL_SIGNING_KEY_FILE"], env["PRINCIPAL_PUBLIC_KEY_FILE"])
        made.append(env["PRINCIPAL_SIGNING_KEY_FILE"])
    if not env.get("PRIVACY_MASTER_KEY") and not os.path.exists(env["PRIVACY_MASTER_KEY_FILE"]):
        os.makedirs(os.path.dirname(env["PRIVACY_MASTER_KEY_FILE"]), mode=0o700, exist_ok=True)
        with open(os.open(env["PRIVACY_MASTER_KEY_FILE"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as key:
            key.write(generate_master_key() + "\n")
        made.append(env["PRIVACY_MASTER_KEY_FILE"])
    return made


def console_url(env: dict) -> str:
    """Where the gateway listens (deploy/config.yaml: GATEWAY_HOST, GATEWAY_PORT)."""
    host = env.get("GATEWAY_HOST") or "127.0.0.1"
    host = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
    return f"http://{host}:{env.get('GATEWAY_PORT') or 8000}/"


def first_admin_missing(env: dict) -> bool:
    """True while no active admin exists (then `vsc staff bootstrap` is the next step)."""
    import contracts
    from services.chassis.projection import replay
    from services.eventstore import open_store
    from services.staff.directory import StaffDirectory
    try:
        with open_store(env["EVENT_STORE_URI"]) as store:
            return not replay(store, contracts.registry, [StaffDirectory]).fold(StaffDirectory).active_admins()
    except Exception:
        return False  # the store will say what is wrong in its own log


def processes() -> list[tuple[str, list[str]]]:
    found = []
    for name in SERVICES:
        if os.path.exists(os.path.join(ROOT, "services", name, "service.py")):
            found.append((name, [sys.executable, "-m", "services.chassis.run", "--config", CONFIG,
                                 f"services.{name}.service"]))
    found.append(("relay", [sys.executable, "-m", "services.eventstore.relay", "--config", CONFIG]))
    found.append(("witness", [sys.executable, "-m", "services.eventstore.witness", "--config", CONFIG]))
    return found


def _probe_passed(probe: subprocess.Popen) -> bool:
    """A health probe's verdict; one that hangs (a broker that accepts and never answers,
    a machine too busy) is killed after PROBE_TIMEOUT and counts as not healthy yet."""
    try:
        return probe.wait(PROBE_TIMEOUT) == 0
    except subprocess.TimeoutExpired:
        probe.kill()
        probe.wait()
        return False


def _die_with_parent():  # Linux: a child gets SIGTERM if the runner itself is killed
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def main() -> int:
    os.chdir(ROOT)
    console = Console()
    var = var_dir()
    os.makedirs(os.path.join(var, "log"), exist_ok=True)
    env = child_env(var)
    for made in ensure_keys(env):
        console.say(f"created key {made} (mode 0600; keep it out of the database's backups)")
    children: dict[str, subprocess.Popen] = {}
    logs = {}
    signals: list[int] = []

    def on_signal(signum, _frame):
        signals.append(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    # a write to a closed pipe fails with EPIPE (Console drops it) instead of
    # killing the runner before it has stopped its children
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)

    def stop_all():
        for proc in children.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        stopping_signals = len(signals)
        while any(proc.poll() is None for proc in children.values()):
            if time.monotonic() > deadline or len(signals) > max(stopping_signals, 1):
                for proc in children.values():
                    if proc.poll() is None:
                        proc.kill()
                for proc in children.values():
                    proc.wait()
                break
            time.sleep(0.1)
        for handle in logs.values():
            handle.close()

    def dead():
        return [name for name, proc in children.items() if proc.poll() is not None]

    try:
        for name, command in processes():
            logs[name] = open(os.path.join(var, "log", f"{name}.log"), "ab")
            # own session: Ctrl-C in the terminal reaches only us, and we
            # stop the children ourselves
            children[name] = subprocess.Popen(command, cwd=ROOT, env=env, stdout=logs[name],
                                              stderr=subprocess.STDOUT, start_new_session=True,
                                              preexec_fn=_die_with_parent)
        console.say("Visitor Service Center is starting ...")

        waiting = [name for name in children if name != "witness"]  # it has no health check; it must stay up
        deadline = time.monotonic() + HEALTH_TIMEOUT
        while waiting and not signals:
            if dead():
                console.say(f"stopped unexpectedly: {', '.join(dead())} (see {var}/log/<name>.log)", err=True)
                return 1
            if time.monotonic() > deadline:
                console.say(f"no health answer from: {', '.join(waiting)} (see {var}/log/)", err=True)
                return 1
            probes = {name: subprocess.Popen([sys.executable, os.path.join("deploy", "healthcheck.py"), name],
                                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL)
                      for name in waiting}
            waiting = [name for name, probe in probes.items() if not _probe_passed(probe)]
            if waiting:
                time.sleep(0.5)

        if not signals:
            console.say()
            console.say(f"  event store   {env['EVENT_STORE_URI']}")
            console.say(f"  RabbitMQ      {env['AMQP_URI'].split('@')[-1]}"
                        " (management UI on http://localhost:15672 if enabled)")
            for name, proc in children.items():
                console.say(f"  {name:<14} pid {proc.pid:<7} log {os.path.join(var, 'log', name + '.log')}")
            if first_admin_missing(env):
                console.say("\n  first admin   none yet; create one (it prints a one-time password), then log in")
                console.say("                at the console with it and choose your own password:")
                console.say("                .venv/bin/vsc staff bootstrap --staff-id admin --name 管理员")
            console.say()
            if "gateway" in children:
                console.say(f"ready: desk console on {console_url(env)} (API docs {console_url(env)}api/docs; "
                            "Ctrl-C stops everything)")
            else:
                console.say(f"ready: {len(children)} processes healthy; no desk console yet, RPC with "
                            f".venv/bin/nameko shell --config {CONFIG} (Ctrl-C stops everything)")

        while not signals:
            if dead():
                console.say(f"stopped unexpectedly: {', '.join(dead())} (see {var}/log/<name>.log); "
                            "stopping the rest", err=True)
                return 1
            time.sleep(0.5)
        console.say("\nstopping ...")
        return 0
    finally:
        stop_all()
        console.say("stopped.")


if __name__ == "__main__":
    raise SystemExit(main())
