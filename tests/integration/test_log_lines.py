"""What real services write to the log, on the real RabbitMQ: nameko's own
record of a refusal is one INFO JSON line without traceback or client text,
and the forms service is silent while there is nothing new."""
import json

import pytest
from nameko.testing.services import entrypoint_hook

from services.chassis import logging as vsc_logging
from services.chassis.errors import ValidationFailed
from services.chassis.principal import CONTEXT_KEY
from services.duty_log.service import DutyLogService
from services.forms.service import FormsService

pytestmark = pytest.mark.rabbit

CLIENT_FIELD = "x" * 100_000 + "\ud800"
SIGN_IN = {"desk": "main-gate", "shift_date": "2026-05-01", "at": "2026-05-01T07:28:00+08:00"}


@pytest.fixture
def log_lines(capsys):
    """What the process writes to stdout meanwhile, every line parsed as
    JSON: our records and the stdlib's (the pipeline's root handler writes to
    stdout as it is at each record); returns (parsed lines, raw text)."""
    vsc_logging.configure("INFO")
    capsys.readouterr()
    seen = []

    def read():
        seen.append(capsys.readouterr().out)
        text = "".join(seen)
        return [json.loads(line) for line in text.splitlines() if line.strip()], text

    return read


def clerk(token_for) -> dict:
    return {CONTEXT_KEY: token_for("clerk", name="王芳")}


def test_a_refusal_is_one_info_line_from_nameko_without_traceback_or_the_clients_field(
        container_factory, service_config, log_lines, token_for):
    container = container_factory(DutyLogService, service_config)
    container.start()
    with entrypoint_hook(container, "sign_in", context_data=clerk(token_for)) as sign_in:
        with pytest.raises(ValidationFailed):
            sign_in(dict(SIGN_IN, **{CLIENT_FIELD: 1}))
    lines, text = log_lines()
    from_nameko = [line for line in lines if line.get("logger") == "nameko.containers"]
    assert [(line["level"], line["event"], line["code"]) for line in from_nameko] == \
        [("info", "worker.refused", "validation_failed")]
    assert from_nameko[0]["entrypoint"] == "sign_in" and from_nameko[0]["service"] == "duty_log"
    refused = [line for line in lines if line["event"] == "call.refused"]
    assert len(refused) == 1 and refused[0]["undeclared_fields"] == 1
    assert "Traceback" not in text and "xxxxxxxxxx" not in text and "王芳" not in text
    assert len(text) < 2000


def test_the_forms_service_logs_nothing_while_there_is_nothing_new(container_factory, service_config, log_lines,
                                                                   token_for):
    duty_log = container_factory(DutyLogService, service_config)
    forms = container_factory(FormsService, service_config)
    duty_log.start()
    forms.start()
    with entrypoint_hook(forms, "catch_up") as tick, \
            entrypoint_hook(forms, "on_duty_log_event") as on_event:
        tick()
        on_event({"position": 0})
        assert [line for line in log_lines()[0] if line.get("service") == "forms"] == []

        with entrypoint_hook(duty_log, "sign_in", context_data=clerk(token_for)) as sign_in:
            sign_in(SIGN_IN)
        tick()
        tick()
    forms_lines = [line for line in log_lines()[0] if line.get("service") == "forms"]
    assert [(line["event"], line["entrypoint"], line["caught_up_from"], line["position"])
            for line in forms_lines] == [("call.done", "catch_up", 0, 1)]
