"""make run waits for each process's health probe, but never for ever."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_local():
    spec = importlib.util.spec_from_file_location("run_local", os.path.join(ROOT, "deploy", "run_local.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_probe_that_hangs_is_killed_and_counts_as_not_healthy_yet(monkeypatch):
    module = run_local()
    monkeypatch.setattr(module, "PROBE_TIMEOUT", 0.5)
    began = time.monotonic()
    hanging = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    assert module._probe_passed(hanging) is False
    assert time.monotonic() - began < 10 and hanging.returncode is not None
    assert module._probe_passed(subprocess.Popen([sys.executable, "-c", "pass"])) is True
    assert module._probe_passed(subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])) is False


def test_make_runs_processes_without_green_dns_unless_told_otherwise(monkeypatch, tmp_path):
    # green DNS (dnspython) is 0.3-0.5 s of every start; make run talks to localhost
    module = run_local()
    monkeypatch.delenv("EVENTLET_NO_GREENDNS", raising=False)
    assert module.child_env(str(tmp_path))["EVENTLET_NO_GREENDNS"] == "yes"
    monkeypatch.setenv("EVENTLET_NO_GREENDNS", "no")   # a broker known by a remote name
    assert module.child_env(str(tmp_path))["EVENTLET_NO_GREENDNS"] == "no"
    script = "import eventlet, sys; eventlet.monkey_patch(); import eventlet.green.socket; " \
             "print('eventlet.support.greendns' in sys.modules)"
    for setting, loaded in (("yes", "False"), ("no", "True")):
        out = subprocess.run([sys.executable, "-W", "ignore", "-c", script], capture_output=True, text=True,
                             env=dict(os.environ, EVENTLET_NO_GREENDNS=setting), timeout=60)
        assert out.stdout.strip() == loaded, out.stderr[-500:]
