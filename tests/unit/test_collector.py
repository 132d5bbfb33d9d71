"""Once a service's read models are in memory, no full collection walks them
again (services/chassis/collector.py), but only in a service's own process."""
import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = """
import gc, sys
from services.chassis import collector
rows = [[n] for n in range(50_000)]  # lists: always tracked by the collector
before = gc.get_freeze_count()
if sys.argv[1] == "service":
    collector.freeze_in_this_process()
did = collector.freeze()
print(did, gc.get_freeze_count() - before >= 50_000)
"""


def run(kind: str) -> str:
    shown = subprocess.run([sys.executable, "-c", SCRIPT, kind], cwd=ROOT, capture_output=True, text=True,
                           timeout=60)
    assert shown.returncode == 0, shown.stderr[-2000:]
    return shown.stdout.strip()


def test_a_service_process_freezes_what_it_has_loaded():
    assert run("service") == "True True"


def test_another_process_running_containers_keeps_its_heap_as_it_is():
    assert run("test") == "False False"
