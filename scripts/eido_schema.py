#!/usr/bin/env python3
"""Convert NENA's EIDO schema (NENA-STA-021, OpenAPI YAML) into the JSON files the app ships.

Usage: .venv/bin/python scripts/eido_schema.py SCHEMA_DIR [OUT_DIR]
  SCHEMA_DIR: the folder holding NENA's ``openapi.yaml`` and ``NIEMComponents/*.yaml``
  OUT_DIR:    default ``callcenter/data/eido``

Why a conversion, run once, rather than reading the YAML at run time: the app then needs no
YAML parser (PyYAML stays a development tool), loading is a plain ``json.load``, and the
files hold only what a validator reads (the descriptions stay in NENA's files): about half
the size of the YAML.

What the conversion does, and nothing more:
- keeps every schema reachable from ``EmergencyIncidentDataObjectType`` through ``$ref``
  (most of NIEM: a person has a great many parts), file by file (``openapi.json`` and
  ``NIEMComponents/<name>.json``), and drops the rest and the annotations (``DROPPED``);
- rewrites each ``$ref`` from ``x.yaml`` to ``x.json`` (and ``NIEMComponents//j.yaml`` to
  ``NIEMComponents/j.json``), so that the cross-file references still resolve relative to
  the file that holds them;
- reads every YAML scalar as text and then gives it the JSON type its JSON Schema keyword
  needs (``minItems`` a number, ``enum`` values of a ``type: string`` schema text, ...), so
  that YAML 1.1's guesses (``NO`` as false, ``010`` as 8) cannot change a value; a numeric
  keyword written with a stray character (``minItems: 1,`` in ``AgentType``) is read as its
  number, and reported.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

ROOT_SCHEMA = "EmergencyIncidentDataObjectType"
INTEGER_KEYWORDS = {
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minProperties",
    "maxProperties",
}
NUMBER_KEYWORDS = {"minimum", "maximum", "multipleOf"}
BOOLEAN_KEYWORDS = {
    "uniqueItems",
    "nullable",
    "readOnly",
    "writeOnly",
    "deprecated",
    "exclusiveMinimum",
    "exclusiveMaximum",
}
# Annotations a validator never reads: left out of the shipped files (they are in NENA's).
DROPPED = {"description", "example", "externalDocs"}
# Keywords whose value is a schema, a list of schemas or a map of schemas.
SCHEMA_KEYWORDS = {"items", "not", "additionalProperties"}
SCHEMA_LIST_KEYWORDS = {"allOf", "anyOf", "oneOf"}
SCHEMA_MAP_KEYWORDS = {"properties"}


class TextLoader(yaml.SafeLoader):
    """Every plain scalar is text: types are given by the keyword afterwards."""


TextLoader.yaml_implicit_resolvers = {}
fixes: list[str] = []


def _number(text: str, where: str, kind=int):
    try:
        return kind(text)
    except ValueError:
        cleaned = re.sub(r"[^0-9.+-]", "", text)
        fixes.append(f"{where}: {text!r} read as {cleaned}")
        return kind(cleaned)


def _boolean(value, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise SystemExit(f"{where}: {value!r} is not true or false")


def _typed_enum(values: list, schema_type, where: str) -> list:
    if schema_type == "integer":
        return [_number(v, where) for v in values]
    if schema_type == "number":
        return [_number(v, where, float) for v in values]
    if schema_type == "boolean":
        return [_boolean(v, where) for v in values]
    return [str(v) for v in values]


def typed_schema(node, where: str):
    """A schema read as text, with each keyword's value of the JSON type it takes."""
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        here = f"{where}/{key}"
        if key in INTEGER_KEYWORDS:
            out[key] = _number(str(value), here)
        elif key in NUMBER_KEYWORDS:
            out[key] = _number(str(value), here, float)
            if out[key].is_integer():
                out[key] = int(out[key])
        elif key in BOOLEAN_KEYWORDS or (
            key == "additionalProperties" and not isinstance(value, dict)
        ):
            out[key] = _boolean(value, here)
        elif key == "enum":
            out[key] = _typed_enum(value, node.get("type"), here)
        elif key in SCHEMA_KEYWORDS:
            out[key] = typed_schema(value, here)
        elif key in SCHEMA_LIST_KEYWORDS:
            out[key] = [typed_schema(v, f"{here}/{i}") for i, v in enumerate(value)]
        elif key in SCHEMA_MAP_KEYWORDS:
            out[key] = {k: typed_schema(v, f"{here}/{k}") for k, v in value.items()}
        elif key == "required":
            out[key] = [str(v) for v in value]
        elif key == "$ref":
            out[key] = str(value).strip()
        elif key in DROPPED:
            continue
        else:
            out[key] = value  # title, format, @context, ... stay text
    return out


def _refs(node):
    """Every ``$ref`` string in a schema (a property named ``$ref`` is not one)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            elif key in SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
                for item in value.values():
                    yield from _refs(item)
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _split(ref: str, current: str) -> tuple[str, str]:
    """``(file, schema name)`` that a reference in ``current`` points at; files are named
    relative to the schema folder (``openapi.yaml``, ``NIEMComponents/nc.yaml``)."""
    target, _, pointer = ref.partition("#")
    prefix = "/components/schemas/"
    if not pointer.startswith(prefix) or "/" in pointer[len(prefix) :]:
        raise SystemExit(f"{current}: unexpected reference {ref!r}")
    name = pointer[len(prefix) :]
    if not target:
        return current, name
    folder = str(Path(current).parent)
    path = Path(folder, *[p for p in target.split("/") if p]) if folder != "." else Path(target)
    return str(Path(*[p for p in path.parts if p])).replace("\\", "/"), name


def _json_ref(ref: str) -> str:
    target, hash_, pointer = ref.partition("#")
    target = re.sub(r"/+", "/", target)
    if target.endswith(".yaml"):
        target = target[: -len(".yaml")] + ".json"
    return target + hash_ + pointer


def _rewrite(node):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = _json_ref(value)
            elif key in SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
                out[key] = {k: _rewrite(v) for k, v in value.items()}
            else:
                out[key] = _rewrite(value)
        return out
    if isinstance(node, list):
        return [_rewrite(v) for v in node]
    return node


def convert(schema_dir: Path, out_dir: Path) -> dict[str, int]:
    documents: dict[str, dict] = {}

    def schemas_of(file: str) -> dict:
        if file not in documents:
            with open(schema_dir / file, encoding="utf-8") as fh:
                raw = yaml.load(fh, Loader=TextLoader)  # noqa: S506 - SafeLoader, text only
            documents[file] = {
                name: typed_schema(body, f"{file}#/components/schemas/{name}")
                for name, body in raw["components"]["schemas"].items()
            }
        return documents[file]

    keep: dict[str, dict[str, dict]] = {}
    todo = [("openapi.yaml", ROOT_SCHEMA)]
    while todo:
        file, name = todo.pop()
        if name in keep.get(file, {}):
            continue
        schema = schemas_of(file).get(name)
        if schema is None:
            raise SystemExit(f"{file}: no schema {name}")
        keep.setdefault(file, {})[name] = schema
        todo.extend(_split(ref, file) for ref in _refs(schema))

    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.rglob("*.json"):
        old.unlink()
    sizes = {}
    for file, schemas in sorted(keep.items()):
        target = out_dir / (file[: -len(".yaml")] + ".json")
        target.parent.mkdir(parents=True, exist_ok=True)
        # One schema a line: compact, and a later version of NENA's files diffs by schema.
        lines = [
            f"{json.dumps(k)}: {json.dumps(_rewrite(schemas[k]), ensure_ascii=False)}"
            for k in sorted(schemas)
        ]
        text = '{"components": {"schemas": {\n' + ",\n".join(lines) + "\n}}}\n"
        target.write_text(text, encoding="utf-8")
        sizes[str(target.relative_to(out_dir))] = len(schemas)
    return sizes


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    schema_dir = Path(argv[1])
    out_dir = (
        Path(argv[2]) if len(argv) == 3 else Path(__file__).parent.parent / "callcenter/data/eido"
    )
    sizes = convert(schema_dir, out_dir)
    for name, count in sizes.items():
        print(f"{name}: {count} schemas")
    for fix in fixes:
        print(f"fixed {fix}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
