"""`vsc audit`: an auditor verifies the log against the witness, catches
tampering, damage and removal, and exports the log as of a moment."""
import json
import shutil
import sqlite3

import pytest

import contracts
from services.chassis.config import load_config
from services.cli.main import UsageError, main, parse_as_of
from services.eventstore import NewEvent, open_store
from services.eventstore import sqlite as sqlite_backend
from services.eventstore.chain import chain_hash
from services.eventstore.witness import open_witness

RECORDED = [f"2026-05-01T0{n}:00:00.000000Z" for n in range(5)]  # 08:00 to 12:00 in Asia/Shanghai


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Five records recorded at RECORDED, the store in db/, the audit files in
    audit/, and a config file naming both."""
    (tmp_path / "db").mkdir()
    uri = f"sqlite:///{tmp_path}/db/events.db"
    (tmp_path / "config.yaml").write_text(
        f"EVENT_STORE_URI: {uri}\nAUDIT_DIR: {tmp_path}/audit\nTIMEZONE: Asia/Shanghai\nAUDIT_SIGN_EVERY: 2\n")
    monkeypatch.chdir(tmp_path)
    times = iter(RECORDED)
    monkeypatch.setattr(sqlite_backend, "utc_now", lambda: next(times))
    with open_store(uri, validator=contracts.registry) as store:
        for n in range(5):
            store.append(f"duty_day-d-2026-05-0{n + 1}", [NewEvent("ClerkSignedIn", {
                "desk": "d", "shift_date": f"2026-05-0{n + 1}", "clerk_id": "c-1", "clerk_name": "甲",
                "signed_in_at": "2026-05-01T07:00:00+08:00"}, RECORDED[n])], 0)
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, env, *argv):
    code = main(["--config", str(env / "config.yaml"), *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def db(env):
    return sqlite3.connect(env / "db" / "events.db")


def witness_everything(env):
    config = load_config(str(env / "config.yaml"))
    with open_store(config["EVENT_STORE_URI"]) as store:
        witness = open_witness(store, config)
        witness.batch_size = 2  # heads at 2, 4 and 5
        while witness.witness_once():
            witness.sign_if_due(force=True)
        witness.close()


def forge(env, position, data):
    """Rewrite one record's data and recompute every hash from there on."""
    with db(env) as connection:
        connection.execute("UPDATE events SET data = ? WHERE position = ?", (data, position))
        rows = connection.execute(
            "SELECT position, stream_id, version, event_id, type, schema_version, occurred_at, recorded_at, "
            "data, metadata, prev_hash FROM events WHERE position >= ? ORDER BY position", (position,)).fetchall()
        prev_hash = rows[0][-1]
        for p, s, v, e, t, sv, oa, ra, d, m, _ in rows:
            new = chain_hash(prev_hash, p, s, v, e, t, sv, oa, ra, d.encode(), m.encode())
            connection.execute("UPDATE events SET prev_hash = ?, hash = ? WHERE position = ?", (prev_hash, new, p))
            prev_hash = new


# -- verify ------------------------------------------------------------------------------------
def test_verify_passes_on_an_untouched_log_and_says_no_witness_was_checked(env, capsys):
    code, out, _ = run(capsys, env, "audit", "verify")
    result = json.loads(out)
    assert code == 0 and result["checked"] == 5 and result["witnessed"] == 0
    assert "no witness copy" in result["warning"]


def test_verify_names_the_first_altered_record(env, capsys):
    with db(env) as connection:
        connection.execute("UPDATE events SET data = replace(data, '甲', '乙') WHERE position = 3")
    code, out, _ = run(capsys, env, "audit", "verify")
    assert code == 1 and json.loads(out)["first_bad_position"] == 3


def test_verify_names_a_record_whose_stored_json_gained_whitespace(env, capsys):
    with db(env) as connection:
        connection.execute("UPDATE events SET data = replace(data, ',', ', ') WHERE position = 2")
    code, out, _ = run(capsys, env, "audit", "verify")
    assert code == 1 and json.loads(out)["first_bad_position"] == 2


def test_verify_names_a_record_whose_data_is_not_json_instead_of_crashing(env, capsys):
    with db(env) as connection:
        connection.execute("UPDATE events SET data = '{\"desk\": ' WHERE position = 4")
    code, out, _ = run(capsys, env, "audit", "verify")
    result = json.loads(out)
    assert code == 1 and result["first_bad_position"] == 4 and result["problem"] == "data is not valid JSON"


def test_a_forger_who_recomputes_every_later_hash_is_named_at_the_rewritten_record(env, capsys):
    assert run(capsys, env, "audit", "keygen")[0] == 0
    witness_everything(env)
    assert run(capsys, env, "audit", "verify")[0] == 0
    forge(env, 2, '{"clerk_id":"c-9","clerk_name":"乙","desk":"d","shift_date":"2026-05-02",'
                  '"signed_in_at":"2026-05-01T07:00:00+08:00"}')
    code, out, _ = run(capsys, env, "audit", "verify")
    result = json.loads(out)
    assert code == 1 and result["first_bad_position"] == 2 and result["checked"] == 1
    assert (result["witnessed"], result["signed"]) == (5, 5)


def test_a_saved_checkpoint_catches_the_log_and_the_witness_copy_cut_short_together(env, capsys):
    assert run(capsys, env, "audit", "keygen")[0] == 0
    witness_everything(env)
    code, out, _ = run(capsys, env, "audit", "checkpoint", "--out", str(env / "cp.json"))
    assert code == 0 and json.loads(out)["size"] == 5
    saved = env / "saved-audit"
    shutil.copytree(env / "audit", saved)
    with db(env) as connection:  # both cut back to 3 records, the heads to the one signed at 2
        connection.execute("DELETE FROM events WHERE position > 3")
    lines = (saved / "witness.jsonl").read_text().splitlines()[:3]
    (env / "audit" / "witness.jsonl").write_text("\n".join(lines) + "\n")
    heads = [line for line in (saved / "heads.jsonl").read_text().splitlines() if json.loads(line)["size"] <= 2]
    (env / "audit" / "heads.jsonl").write_text("\n".join(heads) + "\n")
    assert run(capsys, env, "audit", "verify")[0] == 0  # consistent with each other, and shorter
    code, out, _ = run(capsys, env, "audit", "verify", "--checkpoint", str(env / "cp.json"))
    assert code == 1 and "cut short" in json.loads(out)["problem"]


def test_a_witness_copy_without_its_public_key_is_a_configuration_error(env, capsys):
    assert run(capsys, env, "audit", "keygen")[0] == 0
    witness_everything(env)
    (env / "audit" / "witness.pub").unlink()
    code, _, err = run(capsys, env, "audit", "verify")
    assert code == 2 and "no witness public key" in err


def test_audit_files_inside_the_database_directory_are_refused(env, capsys):
    (env / "config.yaml").write_text((env / "config.yaml").read_text().replace(
        f"AUDIT_DIR: {env}/audit", f"AUDIT_DIR: {env}/db/audit"))
    code, _, err = run(capsys, env, "audit", "keygen")
    assert code == 2 and "inside the event store's directory" in err
    assert not (env / "db" / "audit").exists()


# -- export --------------------------------------------------------------------------------------
def positions(out):
    return [json.loads(line)["position"] for line in out.splitlines()]


def test_export_until_a_position_stops_there_and_gives_data_as_stored(env, capsys):
    code, out, _ = run(capsys, env, "audit", "export", "--until", "2")
    assert code == 0 and positions(out) == [1, 2]
    with db(env) as connection:
        stored = connection.execute("SELECT data FROM events WHERE position = 1").fetchone()[0]
    assert f',"data":{stored},' in out.splitlines()[0]


@pytest.mark.parametrize("as_of, expected", [
    ("2026-05-01T10:30:00+08:00", [1, 2, 3]),   # 02:30Z
    ("2026-05-01T02:30:00Z", [1, 2, 3]),
    ("2026-05-01T01:00:00.000000Z", [1, 2]),    # recorded at exactly that time: included
    ("2026-05-01", []),                         # local midnight: 2026-04-30T16:00Z
    ("2026-05-02", [1, 2, 3, 4, 5]),
    ("2026-05-01 09:00-01:00", [1, 2, 3, 4, 5]),
])
def test_export_as_of_a_time_with_its_offset_or_a_local_date(env, capsys, as_of, expected):
    code, out, _ = run(capsys, env, "audit", "export", "--as-of", as_of)
    assert code == 0 and positions(out) == expected


@pytest.mark.parametrize("as_of", ["yesterday", "2026-05-01T10:30:00", "2026-02-30", "2026-05-01T25:00:00Z",
                                   "0001-01-01T00:00:00+14:00", "1714521600", "2026-05-01T10:30:00+8"])
def test_export_refuses_an_as_of_that_is_not_a_date_or_a_time_with_an_offset(env, capsys, as_of):
    code, out, err = run(capsys, env, "audit", "export", "--as-of", as_of)
    assert code == 2 and out == ""
    assert f"--as-of {as_of!r}" in err and "offset" in err


def test_parse_as_of_gives_store_time():
    assert parse_as_of("2026-11-23", "Asia/Shanghai") == "2026-11-22T16:00:00.000000Z"
    assert parse_as_of("2026-11-23T08:00:00+08:00", "UTC") == "2026-11-23T00:00:00.000000Z"
    assert parse_as_of("2026-11-23", "UTC") == "2026-11-23T00:00:00.000000Z"
    with pytest.raises(UsageError, match="not a time zone"):
        parse_as_of("2026-11-23", "Mars/Olympus")


def test_export_names_a_damaged_record_and_still_exports_every_record(env, capsys):
    with db(env) as connection:
        connection.execute("UPDATE events SET data = '{\"desk\": ' WHERE position = 3")
        connection.execute("UPDATE events SET metadata = '{ }' WHERE position = 5")
    code, out, err = run(capsys, env, "audit", "export")
    assert code == 1
    assert positions(out) == [1, 2, 3, 4, 5]
    damaged = json.loads(out.splitlines()[2])
    assert damaged["data"] is None and damaged["damaged"] == {"data": '{"desk": '}
    assert "position 3: data not valid JSON" in err
    assert "position 5: metadata is not the exact text" in err


def test_export_refuses_a_negative_position(env, capsys):
    code, _, err = run(capsys, env, "audit", "export", "--until", "-1")
    assert code == 2 and "--until -1" in err


def test_a_malformed_store_uri_is_a_clear_error(env, capsys, monkeypatch):
    (env / "config.yaml").write_text("EVENT_STORE_URI: postgres://x\n")
    code, _, err = run(capsys, env, "store", "head")
    assert code == 2 and "scheme 'postgres' is not supported" in err
