"""`vsc audit`: an auditor verifies the log and catches tampering and removal."""
import json
import sqlite3

import pytest

import contracts
from services.cli.main import main
from services.eventstore import NewEvent, open_store
from services.eventstore.interface import utc_now


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("EVENT_STORE_URI", f"sqlite:///{tmp_path}/events.db")
    monkeypatch.setenv("AUDIT_KEY_FILE", str(tmp_path / "audit.key"))
    monkeypatch.chdir(tmp_path)  # no deploy/config.yaml here: environment only
    with open_store(f"sqlite:///{tmp_path}/events.db", validator=contracts.registry) as store:
        for n in range(5):
            store.append(f"duty_day-d-2026-05-0{n + 1}", [NewEvent("ClerkSignedIn", {
                "desk": "d", "shift_date": f"2026-05-0{n + 1}", "clerk_id": "c-1", "clerk_name": "甲",
                "signed_in_at": "2026-05-01T07:00:00+08:00"}, utc_now())], 0)
    return tmp_path


def run(capsys, *argv):
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_verify_passes_on_an_untouched_log(env, capsys):
    code, out = run(capsys, "audit", "verify")
    assert code == 0 and json.loads(out)["checked"] == 5


def test_verify_names_the_first_altered_record(env, capsys):
    with sqlite3.connect(env / "events.db") as db:
        db.execute("UPDATE events SET data = replace(data, '甲', '乙') WHERE position = 3")
    code, out = run(capsys, "audit", "verify")
    assert code == 1 and json.loads(out)["first_bad_position"] == 3


def test_a_signed_checkpoint_catches_removal_of_the_newest_records(env, capsys):
    assert run(capsys, "audit", "keygen")[0] == 0
    assert run(capsys, "audit", "checkpoint", "--out", str(env / "cp.json"))[0] == 0
    with sqlite3.connect(env / "events.db") as db:
        db.execute("DELETE FROM events WHERE position >= 4")
    assert run(capsys, "audit", "verify")[0] == 0  # the shorter chain is still a valid chain
    code, out = run(capsys, "audit", "verify", "--checkpoint", str(env / "cp.json"))
    assert code == 1 and json.loads(out)["first_bad_position"] == 4


def test_export_as_of_a_position_stops_there(env, capsys):
    code, out = run(capsys, "audit", "export", "--until", "2")
    assert code == 0 and [json.loads(line)["position"] for line in out.splitlines()] == [1, 2]


def test_a_malformed_store_uri_is_a_clear_error(env, capsys, monkeypatch):
    monkeypatch.setenv("EVENT_STORE_URI", "postgres://x")
    assert main(["store", "head"]) == 2
    assert "scheme 'postgres' is not supported" in capsys.readouterr().err
