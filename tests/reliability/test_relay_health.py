"""``deploy/healthcheck.py relay`` answers for a relay actually at work: it
fails with no relay running, passes once one holds and renews the lease, and
fails again when that relay is killed (its lease lapses) or stopped (it gives
the lease up)."""
import os
import subprocess
import sys
import time

import pytest

import contracts
from services.eventstore import open_store
from tests.conftest import ROOT, wait_for

pytestmark = [pytest.mark.rabbit, pytest.mark.slow]


@pytest.fixture
def store(service_config):
    with open_store(service_config["EVENT_STORE_URI"], validator=contracts.registry) as store:
        yield store


@pytest.fixture
def healthcheck(service_config):
    env = dict(os.environ, AMQP_URI=service_config["AMQP_URI"], EVENT_STORE_URI=service_config["EVENT_STORE_URI"],
               PYTHONPATH=ROOT)

    def run():
        return subprocess.run([sys.executable, os.path.join(ROOT, "deploy", "healthcheck.py"), "relay"], env=env,
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
    return run


def test_the_relay_healthcheck_fails_with_no_relay_running(healthcheck, store):
    result = healthcheck()
    assert result.returncode == 1
    assert "no relay holds the relay lease" in result.stderr


def test_the_relay_healthcheck_passes_with_a_relay_running_and_fails_once_it_is_killed(healthcheck, store,
                                                                                       relay_process):
    relay_process.start()
    wait_for(lambda: store.lease("relay") is not None, timeout=30, message="the relay's lease")
    result = healthcheck()
    assert result.returncode == 0, result.stderr
    assert '"status": "ok"' in result.stdout and store.lease("relay").owner in result.stdout

    relay_process.kill()
    wait_for(lambda: store.lease("relay").expires_at < time.time(), timeout=30, message="the lease to lapse")
    result = healthcheck()
    assert result.returncode == 1
    assert "expired" in result.stderr and "no relay is renewing it" in result.stderr


def test_the_relay_healthcheck_fails_once_the_relay_has_stopped(healthcheck, store, relay_process):
    relay_process.start()
    wait_for(lambda: store.lease("relay") is not None, timeout=30, message="the relay's lease")
    assert healthcheck().returncode == 0
    relay_process.stop()
    result = healthcheck()
    assert result.returncode == 1 and "none is running" in result.stderr
