"""The JSON API over the real broker: the errors a desk terminal meets, and
schemathesis against the served OpenAPI document (no 5xx, every response as
the document says)."""
import os
import re
import subprocess
import sys
import time

import eventlet
import pytest
import requests

from tests.conftest import ROOT
from tests.integration.gateway_support import PASSWORD, system  # noqa: F401 (fixture)

pytestmark = [pytest.mark.rabbit, pytest.mark.slow]

CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


def test_login_wrong_password_malformed_oversized_and_no_token(system):
    wrong = system.api("/api/login", {"staff_id": "wang.fang", "password": "not-it"})
    assert wrong.status_code == 401
    assert wrong.json()["error"] == {"code": "unauthenticated", "message": "wrong staff id or password",
                                     "field": None}
    token = system.token("wang.fang")
    before = system.head()
    malformed = requests.post(system.url + "/api/duty_log/sign_in", data=b'{"desk": ',
                              headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "malformed_json"
    oversized = system.api("/api/duty_log/sign_in", {"desk": "main-gate", "note": "x" * 70_000}, token)
    assert oversized.status_code == 413 and oversized.json()["error"]["code"] == "too_large"
    anonymous = system.api("/api/duty_log/sign_in", {"desk": "main-gate"})
    assert anonymous.status_code == 401
    invalid = system.api("/api/duty_log/sign_in", {"desk": "", "shift_date": "yesterday"}, token)
    assert invalid.status_code == 400
    assert invalid.json()["error"]["field"] == "desk" and set(invalid.json()["error"]["fields"]) == {
        "desk", "shift_date"}
    assert system.head() == before
    signed = system.api("/api/duty_log/sign_in", {}, token)
    assert signed.status_code == 200 and signed.json()["stream_id"].startswith("duty_day-main-gate-")
    again = system.api("/api/duty_log/sign_in", {}, token)
    assert again.status_code == 422 and again.json()["error"]["reason"] == "already_signed_in"


def test_a_clerk_cannot_reach_a_finance_rpc_and_a_forged_or_expired_token_is_401(system, token_for):
    clerk = system.token("wang.fang")
    refused = system.api("/api/lost_and_found/sign_off_finance_handover", {"handover_id": "h-1"}, clerk)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    finance = system.token("li.cai", desk=None)
    let_in = system.api("/api/lost_and_found/sign_off_finance_handover", {"handover_id": "h-1"}, finance)
    assert let_in.status_code not in (401, 403), let_in.text
    expired = token_for("clerk", staff_id="wang.fang", now=time.time() - 7200)
    assert system.api("/api/forms/sign_in_sheet", {"desk": "main-gate", "shift_date": "2026-05-01"},
                      expired).status_code == 401
    assert system.api("/api/forms/sign_in_sheet", {"desk": "main-gate", "shift_date": "2026-05-01"},
                      clerk[:-4] + "AAAA").status_code == 401


def test_the_docs_page_is_readable_without_any_outside_resource(system):
    page = requests.get(system.url + "/api/docs", timeout=30)
    assert page.status_code == 200 and "POST /api/lost_and_found/turn_in_by_staff" in page.text
    assert "https://" not in page.text and "cdn" not in page.text.lower()


@pytest.mark.timeout(900)
def test_schemathesis_finds_no_server_error_and_every_response_conforms(system):
    """``schemathesis run`` against the served document, as a clerk (and
    once more with no token at all): coverage and fuzzing phases."""
    document = requests.get(system.url + "/api/openapi.json", timeout=30).json()
    assert document["openapi"] == "3.1.0" and len(document["paths"]) > 30
    token = system.token("wang.fang")
    examples = os.environ.get("VSC_SCHEMATHESIS_EXAMPLES", "5")
    seed = os.environ.get("VSC_SCHEMATHESIS_SEED", "20261201")
    command = [os.path.join(os.path.dirname(sys.executable), "schemathesis"), "run",
               system.url + "/api/openapi.json", "-H", f"Authorization: Bearer {token}", "--checks", CHECKS,
               "--phases", "coverage,fuzzing", "--max-examples", examples, "--seed", seed, "--no-color",
               "--request-timeout", "30", "--suppress-health-check", "all", "--workers", "4"]
    log = os.path.join(ROOT, "var", "schemathesis.log") if os.path.isdir(os.path.join(ROOT, "var")) else None
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=dict(os.environ, PYTHONWARNINGS="ignore"))
    output = []

    def read():
        for line in proc.stdout:
            output.append(line.decode(errors="replace"))
    reader = eventlet.spawn(read)  # the services answer in this process meanwhile
    deadline = time.monotonic() + 840
    while proc.poll() is None:
        if time.monotonic() > deadline:
            proc.kill()
            break
        eventlet.sleep(0.5)
    reader.wait()
    text = "".join(output)
    if log:
        with open(log, "w") as handle:
            handle.write(text)
    assert proc.returncode == 0, text[-6000:]
    summary = text.split("SUMMARY")[-1]
    counted = re.search(r"(\d+) generated, (\d+) passed", summary)
    assert counted and not re.search(r"\b\d+ (failed|errored)\b", summary), summary
    assert int(counted.group(1)) == int(counted.group(2)) >= 20 * len(document["paths"])
