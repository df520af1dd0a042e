"""NENA's EIDO schema (NENA-STA-021, JSON), and the check of a document against it.

The schema ships as JSON under ``callcenter/data/eido/`` (converted once from NENA's OpenAPI
YAML by ``scripts/eido_schema.py``, so the app needs no YAML parser): ``openapi.json`` holds
the EIDO's own components, ``NIEMComponents/*.json`` the NIEM types they use. The files keep
NENA's cross-file ``$ref``s; ``referencing`` resolves them from a registry of the shipped
files, never from the network.

OpenAPI 3.0's schema objects follow JSON Schema draft 4 (``$ref`` replaces its siblings), so
documents are checked with the draft 4 validator. Of the formats only ``date-time`` is
asserted: EIDO's timestamps are what idempotency and ordering go by.
"""

from __future__ import annotations

import ast
import contextlib
import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from flask_babel import lazy_gettext as _l
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "data" / "eido"
ROOT = "openapi.json"
DOCUMENT_TYPE = "EmergencyIncidentDataObjectType"
# At most this many problems are named in one answer (a bad document can have thousands).
MAX_PROBLEMS = 20


def _uri(path: Path) -> str:
    return path.as_uri()


@lru_cache(maxsize=1)
def registry() -> Registry:
    """Every shipped schema file, by its file URI (relative references resolve against it)."""
    resources = []
    for path in sorted(SCHEMA_DIR.rglob("*.json")):
        with open(path, encoding="utf-8") as fh:
            contents = json.load(fh)
        resources.append((_uri(path), Resource(contents=contents, specification=DRAFT4)))
    return Registry().with_resources(resources)


def parse_timestamp(value) -> datetime | None:
    """An EIDO timestamp (RFC 3339: date, ``T``, time, offset or ``Z``) as an aware
    datetime, or None if it is not one."""
    if not isinstance(value, str) or "T" not in value.upper():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


_formats = FormatChecker(formats=())


@_formats.checks("date-time")
def _date_time(value) -> bool:
    return not isinstance(value, str) or parse_timestamp(value) is not None


@lru_cache(maxsize=1)
def validator() -> Draft4Validator:
    """The validator of a whole EIDO document (built once per process)."""
    root = _uri(SCHEMA_DIR / ROOT)
    schema = {"$ref": f"{root}#/components/schemas/{DOCUMENT_TYPE}"}
    return Draft4Validator(schema, registry=registry(), format_checker=_formats)


def _path(error) -> str:
    """The failing element's dotted path; for a missing member, the member's own path."""
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        # jsonschema names the one missing member per error, as "<repr> is a required ...".
        with contextlib.suppress(ValueError, SyntaxError):
            parts.append(str(ast.literal_eval(error.message.split(" is a required", 1)[0])))
    return ".".join(p for p in parts if p != "") or "document"


def _message(error):
    """What is wrong, in the reader's language (jsonschema's own texts are English only)."""
    rule, value = error.validator, error.validator_value
    if rule == "required":
        return _l("Required.")
    if rule == "type":
        kinds = value if isinstance(value, list) else [value]
        return _l("Must be of type %(type)s.", type=" / ".join(str(k) for k in kinds))
    if rule == "enum":
        choices = ", ".join(str(v) for v in value[:12]) + (", ..." if len(value) > 12 else "")
        return _l("One of: %(choices)s.", choices=choices)
    if rule == "format" and value == "date-time":
        return _l("An ISO 8601 time with its offset.")
    if rule == "minItems":
        return _l("At least %(n)s items.", n=value)
    if rule == "maxItems":
        return _l("At most %(n)s items.", n=value)
    return _l("Not valid here (rule %(rule)s).", rule=rule)


def problems(document) -> dict[str, object]:
    """The failing paths of ``document`` (dotted, e.g. ``callComponent.0.direction``), each
    with what is wrong; empty when the document is a valid EIDO."""
    found: dict[str, object] = {}
    errors = sorted(validator().iter_errors(document), key=lambda e: list(map(str, e.path)))
    for error in errors:
        found.setdefault(_path(error), _message(error))
        if len(found) >= MAX_PROBLEMS:
            break
    return found
