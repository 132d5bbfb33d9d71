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
