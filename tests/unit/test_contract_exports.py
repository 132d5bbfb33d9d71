"""The JSON Schema export of the contracts (``python -m contracts.jsonschema``):
the checked-in files are current, ``--check`` notices drift, and what every
contract promises (no unknown fields, personal data marked) shows in the export."""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys

import marshmallow
import pytest
from marshmallow import fields

import contracts
from contracts import jsonschema as export
from contracts.base import EventSchema, Personal, Registry, personal_fields
from contracts.envelope import EventEnvelope

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REGISTRY = contracts.registry


def _all_contracts():
    """(id, schema class, export path) for every registered contract."""
    items = [("envelope", EventEnvelope, "envelope.json")]
    for event_type, cls in sorted(REGISTRY.events.items()):
        items.append((f"event:{event_type}", cls, export.event_path(event_type, cls.schema_version)))
    for (service, method), contract in sorted(REGISTRY.rpcs.items()):
        for part in ("request", "reply"):
            schema_cls = contract.request if part == "request" else contract.reply
            items.append((f"rpc:{service}.{method}.{part}", schema_cls, export.rpc_path(service, method, part)))
    return items


CONTRACTS = _all_contracts()


def _run(argv, capsys, registry=None):
    code = export.main([str(arg) for arg in argv], registry=registry)
    return code, capsys.readouterr().out


@pytest.fixture
def exported(tmp_path, capsys):
    out, docs = tmp_path / "schemas", tmp_path / "events.md"
    code, _ = _run(["--out", out, "--docs", docs], capsys)
    assert code == 0
    return out, docs


# -- the checked-in files ------------------------------------------------------------
def test_checked_in_exports_are_current():
    """Fails when a contract changed without `python -m contracts.jsonschema`."""
    proc = subprocess.run([sys.executable, "-m", "contracts.jsonschema", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (
        "exported contracts are out of date; run `python -m contracts.jsonschema`\n"
        + proc.stdout + proc.stderr)


# -- --check -------------------------------------------------------------------------
def test_check_passes_right_after_generating(exported, capsys):
    out, docs = exported
    code, output = _run(["--check", "--out", out, "--docs", docs], capsys)
    assert code == 0, output
    assert (out / "envelope.json").is_file() and docs.is_file()


def test_check_reports_a_stale_file(exported, capsys):
    out, docs = exported
    event_type, cls = next(iter(sorted(REGISTRY.events.items())))
    target = out / export.event_path(event_type, cls.schema_version)
    document = json.loads(target.read_text(encoding="utf-8"))
    document["description"] = "edited by hand"
    target.write_text(json.dumps(document, sort_keys=True, indent=2) + "\n", encoding="utf-8")

    code, output = _run(["--check", "--out", out, "--docs", docs], capsys)

    assert code == 1
    assert output.splitlines() == [f"stale: {target}"]


def test_check_reports_missing_extra_and_stale_docs(exported, capsys):
    out, docs = exported
    service, method = sorted(REGISTRY.rpcs)[0]
    missing = out / export.rpc_path(service, method, "reply")
    missing.unlink()
    extra = out / "events" / "NoSuchEvent.v1.json"
    extra.write_text("{}\n", encoding="utf-8")
    docs.write_text(docs.read_text(encoding="utf-8") + "a hand-written line\n", encoding="utf-8")

    code, output = _run(["--check", "--out", out, "--docs", docs], capsys)

    assert code == 1
    assert sorted(output.splitlines()) == sorted([f"missing: {missing}", f"extra: {extra}", f"stale: {docs}"])


def test_generating_again_repairs_everything_and_changes_nothing_after(exported, capsys):
    out, docs = exported
    (out / "envelope.json").write_text("{}\n", encoding="utf-8")
    extra = out / "rpc" / "gone.method.reply.json"
    extra.write_text("{}\n", encoding="utf-8")

    code, output = _run(["--out", out, "--docs", docs], capsys)
    assert code == 0
    assert f"updated: {out / 'envelope.json'}" in output and f"removed: {extra}" in output
    assert not extra.exists()

    code, output = _run(["--out", out, "--docs", docs], capsys)
    assert code == 0 and output.splitlines() == [output.splitlines()[-1]]  # only the summary line


def test_export_picks_up_any_registered_contract_and_keeps_older_versions(tmp_path, capsys):
    registry = Registry()

    @registry.event
    class ParcelLogged(EventSchema):
        event_type = "ParcelLogged"
        schema_version = 2
        source = "lockers"
        description = "A parcel was logged | with a pipe."
        owner = Personal("name", "owner", required=True)
        size = fields.String(load_default="small")

    registry.rpc("lockers", "log_parcel", ParcelLogged, ParcelLogged, "Log a parcel.", roles=frozenset({"clerk"}))
    out, docs = tmp_path / "schemas", tmp_path / "events.md"
    frozen = out / "events" / "ParcelLogged.v1.json"
    frozen.parent.mkdir(parents=True)
    frozen.write_text('{"title": "the v1 shape"}\n', encoding="utf-8")

    assert _run(["--out", out, "--docs", docs], capsys, registry)[0] == 0

    current = json.loads((out / "events" / "ParcelLogged.v2.json").read_text(encoding="utf-8"))
    assert current["x-schema-version"] == 2 and current["x-source-service"] == "lockers"
    assert current["properties"]["owner"]["x-personal"] is True
    assert (out / "rpc" / "lockers.log_parcel.request.json").is_file()
    assert frozen.read_text(encoding="utf-8") == '{"title": "the v1 shape"}\n'  # neither rewritten nor removed
    catalogue = docs.read_text(encoding="utf-8")
    assert "## lockers" in catalogue and "#### ParcelLogged (v2)" in catalogue
    assert "with a pipe" in catalogue and "\\|" in catalogue
    assert _run(["--check", "--out", out, "--docs", docs], capsys, registry) == (0, "contract exports are up to date\n")


def test_output_is_deterministic(tmp_path):
    first = export.render(REGISTRY, tmp_path, tmp_path / "events.md")
    second = export.render(REGISTRY, tmp_path, tmp_path / "events.md")
    assert first == second
    for path, text in first.items():
        assert text.endswith("\n") and not text.endswith("\n\n"), path
        if path.suffix == ".json":
            assert json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n" == text


# -- what every contract promises ----------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _exported() -> dict:
    """Relative path -> exported JSON document, for every registered contract."""
    return export.schema_files(REGISTRY)


def _nested_schemas(schema: marshmallow.Schema, path="$"):
    yield path, schema
    for name, field in schema.fields.items():
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested):
            yield from _nested_schemas(inner.schema, f"{path}.{name}")


def _object_nodes(node, document, seen=()):
    """Every object schema in an exported document, following $refs once."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref and ref not in seen:
            target = document if ref == "#" else document["$defs"][ref.rsplit("/", 1)[-1]]
            yield from _object_nodes(target, document, (*seen, ref))
        if "properties" in node:
            yield node
        for key, value in node.items():
            if key not in ("$defs", "$ref"):
                yield from _object_nodes(value, document, seen)
    elif isinstance(node, list):
        for item in node:
            yield from _object_nodes(item, document, seen)


def _exported_personal(node, document, prefix="", seen=()):
    """Dotted names (as contracts.base.personal_fields spells them) marked x-personal."""
    found = set()
    if "$ref" in node and node["$ref"] not in seen:
        ref = node["$ref"]
        node = document if ref == "#" else document["$defs"][ref.rsplit("/", 1)[-1]]
        seen = (*seen, ref)
    for name, prop in node.get("properties", {}).items():
        if prop.get("x-personal"):
            found.add(prefix + name)
        inner = prop.get("items", prop)
        for choice in [inner, *inner.get("anyOf", [])]:  # a nullable nested schema is anyOf [$ref, null]
            if "$ref" in choice or "properties" in choice:
                found |= _exported_personal(choice, document, f"{prefix}{name}.", seen)
    return found


@pytest.mark.parametrize("schema_cls,path", [item[1:] for item in CONTRACTS], ids=[item[0] for item in CONTRACTS])
def test_every_contract_rejects_unknown_fields(schema_cls, path):
    for where, schema in _nested_schemas(schema_cls()):
        assert schema.unknown == marshmallow.RAISE, f"{schema_cls.__name__} {where} accepts unknown fields"
    errors = schema_cls().validate({"surely_not_a_field": 1})
    assert errors.get("surely_not_a_field") == ["Unknown field."]

    document = _exported()[path]
    nodes = list(_object_nodes(document, document))
    assert nodes
    for node in nodes:
        assert node.get("additionalProperties") is False, f"{path}: {sorted(node['properties'])}"


@pytest.mark.parametrize("schema_cls,path", [item[1:] for item in CONTRACTS], ids=[item[0] for item in CONTRACTS])
def test_personal_fields_are_marked_in_the_export(schema_cls, path):
    document = _exported()[path]
    assert _exported_personal(document, document) == personal_fields(schema_cls())


def test_catalogue_lists_every_event_and_rpc(tmp_path):
    catalogue = export.render(REGISTRY, tmp_path, tmp_path / "events.md")[tmp_path / "events.md"]
    for event_type, cls in REGISTRY.events.items():
        assert f"#### {event_type} (v{cls.schema_version})" in catalogue
    for service, method in REGISTRY.rpcs:
        assert f"#### `{service}.{method}`" in catalogue
