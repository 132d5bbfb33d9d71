"""Export every contract as JSON Schema (2020-12) and the event catalogue.

    python -m contracts.jsonschema            # (re)write contracts/schemas/** and docs/events.md
    python -m contracts.jsonschema --check    # exit 1 naming stale, missing or extra files

What is written (all from :data:`contracts.registry`, whatever is registered):

- ``events/<EventType>.v<N>.json``: the ``data`` of one event type at its
  current schema version, with ``x-event-type``, ``x-schema-version`` and
  ``x-source-service``;
- ``rpc/<service>.<method>.request.json`` and ``.reply.json``;
- ``envelope.json``: the message the relay publishes;
- ``docs/events.md``: the catalogue, per source service.

The marshmallow -> JSON Schema conversion is apispec's (OpenAPI 3.1, whose
schema objects are JSON Schema 2020-12). Each file is self-contained: nested
schemas go into its own ``$defs``. Fields marked personal carry
``"x-personal": true``. Output is deterministic (sorted keys, two-space
indent, trailing newline) so it can be diffed and checked in CI.

Older versions: the registry knows only an event's current shape, so a file
``events/<Type>.v<N>.json`` with N below the current version is kept as it is
(the frozen shape of events already stored, which upcasters lift) and is
neither rewritten nor reported as extra.
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

import marshmallow
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from apispec.ext.marshmallow.common import resolve_schema_cls

import contracts
from contracts.base import MULTILINE, PERSONAL, Registry
from contracts.envelope import EventEnvelope

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "contracts" / "schemas"
DEFAULT_DOCS = ROOT / "docs" / "events.md"

DIALECT = "https://json-schema.org/draft/2020-12/schema"
OPENAPI_VERSION = "3.1.0"
_COMPONENT_REF = "#/components/schemas/"
_EVENT_FILE = re.compile(r"^events/(?P<type>.+)\.v(?P<version>\d+)\.json$")


# -- marshmallow -> JSON Schema ----------------------------------------------------
class ContractConverter(OpenAPIConverter):
    """apispec's converter plus what our contracts say beyond plain fields."""

    def init_attribute_functions(self):
        super().init_attribute_functions()
        self.add_attribute_function(personal2property)
        self.add_attribute_function(multiline2property)

    def field2choices(self, field, **kwargs):
        result = super().field2choices(field, **kwargs)
        # choices given as a set have no stable order (string hashing is
        # randomised per process): sort them so the output stays diffable
        if "enum" in result and any(isinstance(getattr(v, "choices", None), (set, frozenset))
                                    for v in field.validators):
            values = result["enum"]
            result["enum"] = sorted((v for v in values if v is not None), key=str) + (
                [None] if None in values else [])
        return result

    def schema2jsonschema(self, schema):
        result = super().schema2jsonschema(schema)
        instance = schema if isinstance(schema, marshmallow.Schema) else schema()
        # apispec skips additionalProperties when Meta has a description;
        # the contract's ``unknown`` setting is what really decides it
        if instance.unknown == marshmallow.RAISE:
            result["additionalProperties"] = False
        elif instance.unknown == marshmallow.INCLUDE:
            result["additionalProperties"] = True
        doc = _own_doc(resolve_schema_cls(schema))
        if doc and "description" not in result:
            result["description"] = doc
        return result


def personal2property(self, field, **_kwargs) -> dict:
    return {"x-personal": True} if field.metadata.get(PERSONAL) else {}


def multiline2property(self, field, **_kwargs) -> dict:
    return {"x-multiline": True} if field.metadata.get(MULTILINE) else {}


class ContractPlugin(MarshmallowPlugin):
    Converter = ContractConverter


def _own_doc(cls) -> str:
    """A class's own docstring (not inherited), first paragraph, one line."""
    doc = cls.__dict__.get("__doc__") or ""
    first = doc.strip().split("\n\n", 1)[0]
    return " ".join(first.split())


def _schema_name(schema) -> str:
    return resolve_schema_cls(schema).__name__


def _rewrite_refs(node, top_name: str):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_COMPONENT_REF):
                name = value[len(_COMPONENT_REF):]
                value = "#" if name == top_name else f"#/$defs/{name}"
            out[key] = _rewrite_refs(value, top_name)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, top_name) for item in node]
    return node


def schema_document(schema_cls: type[marshmallow.Schema], **annotations) -> dict:
    """One self-contained JSON Schema document for a marshmallow schema class:
    nested schemas in ``$defs``, ``annotations`` (title, description, x-...)
    on top."""
    spec = APISpec(title="vsc-contracts", version="1", openapi_version=OPENAPI_VERSION,
                   plugins=[ContractPlugin(schema_name_resolver=_schema_name)])
    top_name = schema_cls.__name__
    spec.components.schema(top_name, schema=schema_cls)
    components = _rewrite_refs(copy.deepcopy(spec.to_dict()["components"]["schemas"]), top_name)
    document = {"$schema": DIALECT, **components.pop(top_name)}
    if components:
        document["$defs"] = components
    document.update({key: value for key, value in annotations.items() if value not in (None, "")})
    return document


def dumps(document: dict) -> str:
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


# -- what to generate ------------------------------------------------------------------
def event_path(event_type: str, version: int) -> str:
    return f"events/{event_type}.v{version}.json"


def rpc_path(service: str, method: str, part: str) -> str:
    return f"rpc/{service}.{method}.{part}.json"


def event_document(schema_cls) -> dict:
    return schema_document(
        schema_cls,
        **{"$id": f"urn:vsc:event:{schema_cls.event_type}:v{schema_cls.schema_version}",
           "title": schema_cls.event_type,
           "description": schema_cls.description or _own_doc(schema_cls),
           "x-event-type": schema_cls.event_type,
           "x-schema-version": schema_cls.schema_version,
           "x-source-service": schema_cls.source})


def rpc_document(contract, part: str) -> dict:
    schema_cls = contract.request if part == "request" else contract.reply
    return schema_document(
        schema_cls,
        **{"$id": f"urn:vsc:rpc:{contract.service}.{contract.method}:{part}",
           "title": f"{contract.service}.{contract.method} {part}",
           "description": contract.description,
           "x-rpc-service": contract.service,
           "x-rpc-method": contract.method,
           "x-rpc-part": part,
           "x-roles": sorted(contract.roles)})


def envelope_document() -> dict:
    return schema_document(
        EventEnvelope,
        **{"$id": "urn:vsc:envelope",
           "title": "EventEnvelope",
           "description": _own_doc(EventEnvelope) or " ".join(
               (sys.modules[EventEnvelope.__module__].__doc__ or "").split())})


def schema_files(registry: Registry) -> dict[str, dict]:
    """Relative path under the schemas directory -> JSON document."""
    files = {"envelope.json": envelope_document()}
    for event_type in sorted(registry.events):
        schema_cls = registry.events[event_type]
        files[event_path(event_type, schema_cls.schema_version)] = event_document(schema_cls)
    for service, method in sorted(registry.rpcs):
        contract = registry.rpcs[(service, method)]
        for part in ("request", "reply"):
            files[rpc_path(service, method, part)] = rpc_document(contract, part)
    return files


# -- the catalogue ----------------------------------------------------------------------
def _md(text) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _resolve(node: dict, document: dict) -> dict:
    ref = node.get("$ref")
    if ref == "#":
        return document
    if ref and ref.startswith("#/$defs/"):
        return document["$defs"][ref[len("#/$defs/"):]]
    return node


def _type_of(prop: dict, document: dict) -> str:
    for key in ("anyOf", "oneOf"):
        if key in prop:
            choices = [_type_of(choice, document) for choice in prop[key] if choice != {"type": "null"}]
            nullable = len(choices) < len(prop[key])
            return " or ".join(choices) + (", nullable" if nullable else "")
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return f"object {document.get('title') if name == '#' else name}"
    types = prop.get("type", "any")
    types = types if isinstance(types, list) else [types]
    words = []
    for kind in types:
        if kind == "null":
            continue
        if kind == "array":
            words.append(f"array of {_type_of(prop.get('items', {}), document)}")
        elif kind == "string" and prop.get("format"):
            words.append(f"string ({prop['format']})")
        else:
            words.append(kind)
    text = " or ".join(words) or "null"
    if "enum" in prop:
        text += ": " + ", ".join(json.dumps(value, ensure_ascii=False) for value in prop["enum"])
    if "null" in types:
        text += ", nullable"
    return text


def _rows(node: dict, document: dict, prefix: str = "", seen=()) -> list[tuple]:
    """(name, type, required, personal, description) for each field, nested
    objects flattened to dotted names (``rows[].clerk_id``)."""
    node = _resolve(node, document)
    required = set(node.get("required", []))
    rows = []
    for name, prop in sorted(node.get("properties", {}).items()):
        full = f"{prefix}{name}"
        notes = [prop.get("description", "")]
        if "default" in prop and prop["default"] is not None:
            notes.append(f"default {json.dumps(prop['default'], ensure_ascii=False)}")
        bounds = [f"{key} {prop[key]}" for key in ("minLength", "maxLength", "minimum", "maximum") if key in prop]
        if bounds:
            notes.append(", ".join(bounds))
        rows.append((full, _type_of(prop, document), name in required, bool(prop.get("x-personal")),
                     "; ".join(note for note in notes if note)))
        inner, suffix = prop, "."
        if prop.get("type") == "array" or (isinstance(prop.get("type"), list) and "array" in prop["type"]):
            inner, suffix = prop.get("items", {}), "[]."
        for choice in [inner, *inner.get("anyOf", [])]:
            ref = choice.get("$ref")
            if ref and ref not in seen:
                rows += _rows(choice, document, f"{full}{suffix}", (*seen, ref))
            elif "properties" in choice:
                rows += _rows(choice, document, f"{full}{suffix}", seen)
    return rows


def _field_table(document: dict) -> list[str]:
    rows = _rows(document, document)
    if not rows:
        return ["(no fields)", ""]
    lines = ["| field | type | required | personal | notes |", "| --- | --- | --- | --- | --- |"]
    for name, kind, required, personal, notes in rows:
        lines.append(f"| `{name}` | {_md(kind)} | {'yes' if required else 'no'} | "
                     f"{'**yes**' if personal else 'no'} | {_md(notes)} |")
    return lines + [""]


def catalogue(registry: Registry, files: dict[str, dict]) -> str:
    services = sorted({cls.source for cls in registry.events.values()} | {service for service, _ in registry.rpcs})
    lines = [
        "# Event catalogue",
        "",
        "<!-- Generated by `python -m contracts.jsonschema` from the marshmallow contracts in",
        "     contracts/. Do not edit by hand; `python -m contracts.jsonschema --check` fails",
        "     when this file is out of date. -->",
        "",
        "Every event and RPC contract, per service. JSON Schema (2020-12) for each is in",
        "`contracts/schemas/`. Unknown fields are refused everywhere. Fields marked personal",
        "(names, phones, ID numbers) never appear in logs.",
        "",
        "What every contract refuses besides (`contracts/base.py`): in any string or field",
        "name, NUL and other control characters (tab and line breaks only in fields marked",
        "`x-multiline`), lone surrogates and bidi controls; a boolean that is not `true` or",
        "`false`; an integer that is not a JSON integer (`1.5`, `\"10\"`); a time or date before",
        "2000-01-01 or from 2100-01-01 on and, in a request, one in the future (times: more",
        "than five minutes; dates: after tomorrow; months: after next month). Times are",
        "stored in UTC and shown in replies in the site's time zone (`TIMEZONE`).",
        "",
    ]
    for service in services:
        lines += [f"- [{service}](#{service})"]
    lines += ["- [Who may call what](#who-may-call-what)", ""]
    for service in services:
        lines += [f"## {service}", ""]
        events = sorted(name for name, cls in registry.events.items() if cls.source == service)
        if events:
            lines += ["### Events", ""]
            for event_type in events:
                cls = registry.events[event_type]
                path = event_path(event_type, cls.schema_version)
                document = files[path]
                lines += [f"#### {event_type} (v{cls.schema_version})", ""]
                if document.get("description"):
                    lines += [_md(document["description"]), ""]
                lines += [f"Routing key `{event_type}` on exchange `{service}.events`; "
                          f"schema [`{path}`](../contracts/schemas/{path}).", ""]
                lines += _field_table(document)
        methods = sorted(method for svc, method in registry.rpcs if svc == service)
        if methods:
            lines += ["### RPCs", ""]
            for method in methods:
                contract = registry.rpcs[(service, method)]
                lines += [f"#### `{service}.{method}`", ""]
                if contract.description:
                    lines += [_md(contract.description), ""]
                lines += [f"Who may call it: {_who(contract)}.", ""]
                for part in ("request", "reply"):
                    path = rpc_path(service, method, part)
                    lines += [f"{part.capitalize()} ([`{path}`](../contracts/schemas/{path})):", ""]
                    lines += _field_table(files[path])
    lines += _access_table(registry)
    envelope = files["envelope.json"]
    lines += ["## Envelope", "", _md(envelope.get("description", "")), "",
              "Schema [`envelope.json`](../contracts/schemas/envelope.json).", ""]
    lines += _field_table(envelope)
    return "\n".join(lines).rstrip("\n") + "\n"


def _who(contract) -> str:
    if contract.open:
        return "anyone, without a login"
    who = ", ".join(f"`{role}`" for role in sorted(contract.roles))
    return who + (" (also before changing a one-time password)" if contract.while_password_change else "")


def _access_table(registry: Registry) -> list[str]:
    """RPCs down, roles across: the access table of docs/identity.md."""
    from contracts.roles import ROLES
    columns = list(ROLES)
    lines = ["## Who may call what", "",
             "Every RPC's contract names the roles allowed (`contracts/roles.py`); the chassis checks the",
             "caller's signed principal against them before reading the payload (`unauthenticated`,",
             "`forbidden`). ● allowed; `open`: no login. `health` is open on every service.", "",
             "| RPC | " + " | ".join(columns) + " |",
             "|---|" + "---|" * len(columns)]
    for service, method in sorted(registry.rpcs):
        contract = registry.rpcs[(service, method)]
        cells = ["open"] * len(columns) if contract.open else [
            "●" if role in contract.roles else "" for role in columns]
        lines.append(f"| `{service}.{method}` | " + " | ".join(cells) + " |")
    return lines + [""]


# -- write / check -----------------------------------------------------------------------
def render(registry: Registry, out_dir: Path, docs_path: Path) -> dict[Path, str]:
    """Every generated file (absolute path) -> its exact text."""
    files = schema_files(registry)
    rendered = {out_dir / rel: dumps(document) for rel, document in files.items()}
    rendered[docs_path] = catalogue(registry, files)
    return rendered


def _is_frozen(rel: str, registry: Registry) -> bool:
    """An older version's event schema: kept, never generated."""
    match = _EVENT_FILE.match(rel)
    if not match or match["type"] not in registry.events:
        return False
    return int(match["version"]) < registry.events[match["type"]].schema_version


def _existing(out_dir: Path) -> list[Path]:
    return sorted(path for path in out_dir.rglob("*.json") if path.is_file()) if out_dir.is_dir() else []


def _extras(registry: Registry, out_dir: Path, wanted: dict[Path, str]) -> list[Path]:
    return [path for path in _existing(out_dir)
            if path not in wanted and not _is_frozen(path.relative_to(out_dir).as_posix(), registry)]


def check(registry: Registry, out_dir: Path, docs_path: Path) -> list[str]:
    """Problems (``stale: path`` / ``missing: path`` / ``extra: path``); empty when up to date."""
    wanted = render(registry, out_dir, docs_path)
    problems = []
    for path, text in sorted(wanted.items()):
        if not path.is_file():
            problems.append(f"missing: {_show(path)}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"stale: {_show(path)}")
    problems += [f"extra: {_show(path)}" for path in _extras(registry, out_dir, wanted)]
    return problems


def write(registry: Registry, out_dir: Path, docs_path: Path) -> list[str]:
    """Write what changed, remove extra files; returns what was done."""
    wanted = render(registry, out_dir, docs_path)
    done = []
    for path, text in sorted(wanted.items()):
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        done.append(f"{'updated' if path.exists() else 'created'}: {_show(path)}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for path in _extras(registry, out_dir, wanted):
        path.unlink()
        done.append(f"removed: {_show(path)}")
    return done


def _show(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def main(argv=None, registry: Registry | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contracts.jsonschema",
                                     description="Export the contracts as JSON Schema and docs/events.md.")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 listing stale, missing or extra files")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="schemas directory (default: %(default)s)")
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS, help="catalogue file (default: %(default)s)")
    args = parser.parse_args(argv)
    registry = registry or contracts.registry
    out_dir, docs_path = args.out.absolute(), args.docs.absolute()
    if args.check:
        problems = check(registry, out_dir, docs_path)
        for line in problems:
            print(line)
        if problems:
            print(f"{len(problems)} exported contract file(s) out of date; "
                  "run `python -m contracts.jsonschema` and commit the result", file=sys.stderr)
            return 1
        print("contract exports are up to date")
        return 0
    for line in write(registry, out_dir, docs_path):
        print(line)
    print(f"contract exports written to {_show(out_dir)} and {_show(docs_path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
