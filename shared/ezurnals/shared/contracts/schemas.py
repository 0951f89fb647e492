"""Committed JSON Schemas of every contract, and the backward-transitive compatibility check.

Old events are replayed forever, so a contract may only change in ways that still read every event
written under each committed schema of the same (type, version): new properties must be optional,
no property may change type, an enum may only grow. Anything else needs a new schema_version and
an upcaster; ``export_schemas`` refuses to overwrite a schema with an incompatible one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ezurnals.shared.contracts import catalog
from ezurnals.shared.contracts.base import IntegrationEvent, registry

SCHEMA_DIR = Path(__file__).parent / "schemas"

Schema = dict[str, Any]


def contract_models() -> list[type[IntegrationEvent]]:
    return [m for m in registry if getattr(m, "service", None) in catalog.PRODUCERS]


def schema_path(model: type[IntegrationEvent]) -> Path:
    return SCHEMA_DIR / model.service / f"{model.event_type}.v{model.schema_version}.json"


def generate(model: type[IntegrationEvent]) -> Schema:
    schema = model.model_json_schema(mode="validation")
    schema["x-event-type"] = model.event_type
    schema["x-schema-version"] = model.schema_version
    return schema


def _resolve(node: Any, root: Schema) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = root.get("$defs", {}).get(name, {})
    return node


def _options(node: Any, root: Schema) -> list[Any]:
    node = _resolve(node, root)
    if isinstance(node, dict) and "anyOf" in node:
        return [o for sub in node["anyOf"] for o in _options(sub, root)]
    return [node]


_IGNORED = {"title", "description", "default", "examples"}


def _reads(new: Any, new_root: Schema, old: Any, old_root: Schema, path: str) -> list[str]:
    """Problems that stop a reader with schema ``new`` from reading data valid under ``old``."""
    new_opts, old_opts = _options(new, new_root), _options(old, old_root)
    if len(new_opts) > 1 or len(old_opts) > 1:
        missing = [
            o
            for o in old_opts
            if not any(not _reads(n, new_root, o, old_root, path) for n in new_opts)
        ]
        return [f"{path}: no longer accepts {json.dumps(o)[:80]}" for o in missing]
    n, o = new_opts[0], old_opts[0]
    if not isinstance(n, dict) or not isinstance(o, dict) or n == {}:
        return []
    problems: list[str] = []
    widened = n.get("type") == "number" and o.get("type") == "integer"
    if "type" in n and "type" in o and n["type"] != o["type"] and not widened:
        return [f"{path}: type changed from {o['type']} to {n['type']}"]
    if "enum" in n:
        lost = [
            v for v in o.get("enum", [o["const"]] if "const" in o else []) if v not in n["enum"]
        ]
        problems += [f"{path}: enum value {v!r} removed" for v in lost]
    if "const" in n and o.get("const") != n["const"]:
        problems.append(f"{path}: const changed")
    if n.get("type") == "object" or "properties" in n:
        new_props, old_props = n.get("properties", {}), o.get("properties", {})
        for name in n.get("required", []):
            if name not in o.get("required", []):
                problems.append(f"{path}.{name}: newly required (give it a default)")
        for name, sub in new_props.items():
            if name in old_props:
                problems += _reads(sub, new_root, old_props[name], old_root, f"{path}.{name}")
    if n.get("type") == "array" and "items" in n and "items" in o:
        problems += _reads(n["items"], new_root, o["items"], old_root, f"{path}[]")
    for key in (
        set(n)
        - _IGNORED
        - {
            "type",
            "enum",
            "const",
            "properties",
            "required",
            "items",
            "$defs",
            "additionalProperties",
            "x-event-type",
            "x-schema-version",
        }
    ):
        if (
            key in o
            and o[key] != n[key]
            and key in {"format", "pattern", "minimum", "maximum", "minLength", "maxLength"}
        ):
            problems.append(f"{path}: {key} changed from {o[key]!r} to {n[key]!r}")
    return problems


def incompatibilities(new: Schema, old: Schema) -> list[str]:
    return _reads(new, new, old, old, old.get("x-event-type", "$"))


def export_schemas(*, write: bool) -> list[str]:
    """Write changed schema files; returns the paths that changed (or would change).

    Raises ValueError listing incompatible changes instead of writing them.
    """
    changed: list[str] = []
    problems: list[str] = []
    for model in contract_models():
        path = schema_path(model)
        fresh = generate(model)
        if path.exists():
            committed = json.loads(path.read_text())
            if committed == fresh:
                continue
            problems += incompatibilities(fresh, committed)
        changed.append(str(path.relative_to(SCHEMA_DIR)))
        if write and not problems:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(fresh, indent=2, sort_keys=True) + "\n")
    if problems:
        raise ValueError("incompatible contract changes:\n" + "\n".join(problems))
    return changed


def committed_schemas() -> dict[tuple[str, int], Schema]:
    found: dict[tuple[str, int], Schema] = {}
    for path in SCHEMA_DIR.glob("*/*.json"):
        schema = json.loads(path.read_text())
        found[(schema["x-event-type"], schema["x-schema-version"])] = schema
    return found
