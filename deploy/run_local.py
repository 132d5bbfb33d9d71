"""`make run`: every service, the relay (and what else exists) as separate
processes on this machine, on the embedded SQLite store under var/.

Prints what runs and where, waits until each service answers its health RPC,
and stops everything cleanly on Ctrl-C (SIGTERM, then SIGKILL after 20 s).
If any process dies, everything is stopped and the exit code says so.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
CONFIG = os.path.join("deploy", "config.yaml")

# nameko services, in start order; a module that does not exist yet is skipped
SERVICES = ["duty_log", "lost_and_found", "forms", "gateway"]


def _env() -> dict:
    env = dict(os.environ)
    env.setdefault("EVENT_STORE_URI", "sqlite:///var/events.db")
    env.setdefault("AMQP_URI", "pyamqp://guest:guest@localhost:5672/")
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _processes() -> list[tuple[str, list[str]]]:
    found = []
    for name in SERVICES:
        if os.path.exists(os.path.join(ROOT, "services", name, "service.py")):
            found.append((name, [os.path.join(BIN, "nameko"), "run", "--config", CONFIG,
                                 f"services.{name}.service"]))
    found.append(("relay", [sys.executable, "-m", "services.eventstore.relay", "--config", CONFIG]))
    found.append(("witness", [sys.executable, "-m", "services.eventstore.witness", "--config", CONFIG]))
    return found


def _healthy(name: str, env: dict) -> bool:
    result = subprocess.run([sys.executable, os.path.join("deploy", "healthcheck.py"), name],
                            cwd=ROOT, env=env, capture_output=True, timeout=20)
    return result.returncode == 0


def main() -> int:
    os.chdir(ROOT)
    os.makedirs(os.path.join("var", "log"), exist_ok=True)
    env = _env()
    children: dict[str, subprocess.Popen] = {}
    logs = {}

    def stop_all(*_):
        for name, proc in children.items():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in children.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
        for handle in logs.values():
            handle.close()

    interrupted = False

    def on_signal(*_):
        nonlocal interrupted
        interrupted = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    for name, command in _processes():
        logs[name] = open(os.path.join("var", "log", f"{name}.log"), "ab")
        # own process group: Ctrl-C in the terminal reaches only us, and we
        # stop the children in order
        children[name] = subprocess.Popen(command, cwd=ROOT, env=env, stdout=logs[name],
                                          stderr=subprocess.STDOUT, start_new_session=True)

    print("Visitor Service Center is starting ...", flush=True)
    waiting = [name for name in children if name not in ("relay", "witness")]  # no health RPC
    deadline = time.monotonic() + 60
    while waiting and not interrupted and time.monotonic() < deadline:
        waiting = [name for name in waiting if children[name].poll() is None and not _healthy(name, env)]
        dead = [name for name, proc in children.items() if proc.poll() is not None]
        if dead:
            print(f"stopped unexpectedly: {', '.join(dead)} (see var/log/<name>.log)", file=sys.stderr)
            stop_all()
            return 1
    if waiting and not interrupted:
        print(f"no health answer from: {', '.join(waiting)} (see var/log/)", file=sys.stderr)
        stop_all()
        return 1

    if not interrupted:
        print()
        print(f"  event store   {env['EVENT_STORE_URI']}")
        print(f"  RabbitMQ      {env['AMQP_URI'].split('@')[-1]} (management UI on http://localhost:15672 if enabled)")
        for name, proc in children.items():
            print(f"  {name:<13} pid {proc.pid:<7} log var/log/{name}.log")
        if "gateway" in children:
            print("\n  desk console  http://localhost:8000/")
        else:
            print("\n  desk console  not built yet (gateway issue); use RPC, e.g.")
            print("                .venv/bin/nameko shell --config deploy/config.yaml")
            print("                >>> n.rpc.duty_log.health()")
        print("\nCtrl-C stops everything.", flush=True)

    while not interrupted:
        dead = [name for name, proc in children.items() if proc.poll() is not None]
        if dead:
            print(f"stopped unexpectedly: {', '.join(dead)} (see var/log/<name>.log); stopping the rest",
                  file=sys.stderr)
            stop_all()
            return 1
        time.sleep(0.5)
    print("\nstopping ...", flush=True)
    stop_all()
    print("stopped.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
