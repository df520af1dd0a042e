"""The OpenAPI 3.1 document: spectree's, from the declared schemas, completed with what the
declarations leave to the routes (roles, error answers, idempotency, streams, id bounds)."""

from __future__ import annotations

import copy
import re

from flask import current_app

from ..converters import PATH_ID_MAX
from ..services.events import EVENT_TYPES
from .contract import JSON, reference_error, spec

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": (
        "Any unique text the client makes up per request. A retry with the same key returns "
        "the first answer (with `Idempotent-Replayed: true`) and changes nothing; the same key "
        "with a different body is refused with 422 (`idempotency_key_reused`)."
    ),
}

ROLES = ("dispatcher", "supervisor", "admin", "unit")


def _path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _stream_text() -> str:
    return (
        "A `text/event-stream` (Server-Sent Events). Each message has `id:` (the event's id, "
        "send it back as `Last-Event-ID` to resume without a gap), `event:` (its type) and "
        "`data:` (the event as JSON, the `Event` schema). Types: "
        + ", ".join(f"`{t}`" for t in EVENT_TYPES)
        + ". A unit's stream carries only events about itself and the tickets it is on."
    )


def _complete(doc: dict) -> dict:
    doc["components"].setdefault("securitySchemes", {}).update(
        {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "A token from `POST /api/v1/auth/tokens`.",
            },
            "session": {
                "type": "apiKey",
                "in": "cookie",
                "name": "session",
                "description": "Our own pages' session; writes also need `X-CSRFToken`.",
            },
        }
    )
    doc["components"]["schemas"]["Event"] = doc["components"]["schemas"].get(
        "Event", {"type": "object"}
    )
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = current_app.view_functions[rule.endpoint]
        item = doc["paths"].get(_path(rule.rule))
        if item is None:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op = item.get(method.lower())
            if op is not None:
                _complete_operation(op, view, rule, doc["components"]["schemas"])
    return doc


def _complete_operation(op: dict, view, rule, components: dict) -> None:
    contract = getattr(view, "contract", {})
    roles = getattr(view, "roles", None)
    responses = op.setdefault("responses", {})
    errors = set(contract.get("errors", ())) | {422, 429, 503}
    if roles is None:
        op["security"] = []
        op["x-roles"] = []
    else:
        op["security"] = [{"bearer": []}, {"session": []}]
        op["x-roles"] = list(roles or ROLES)
        errors |= {401, 403}
        who = ", ".join(roles) if roles else "any signed-in user"
        op["description"] = (op.get("description", "") + f"\n\nRoles: {who}.").strip()
    if rule.arguments:
        errors.add(404)
    if "requestBody" in op:
        errors |= {400, 413}
    for status in sorted(errors):
        responses.setdefault(str(status), reference_error(status))
    for param in op.get("parameters", []):
        if param.get("in") == "path" and param.get("schema", {}).get("type") == "integer":
            param["schema"] = {"type": "integer", "format": "int64", "minimum": 0}
            param["schema"]["maximum"] = PATH_ID_MAX
    if contract.get("idempotent"):
        op.setdefault("parameters", []).append(dict(IDEMPOTENCY_KEY))
    for name, text in contract.get("headers", {}).items():
        op.setdefault("parameters", []).append(
            {
                "name": name,
                "in": "header",
                "required": False,
                "description": text,
                "schema": {"type": "string"},
            }
        )
    if contract.get("revokes_credential"):
        op["x-revokes-credential"] = True  # after a success, the caller must sign in again
    model = contract.get("described_body")
    if model is not None:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, nested in schema.pop("$defs", {}).items():
            components.setdefault(name, nested)
        components.setdefault(model.__name__, schema)
        op["x-lenient-body"] = True  # a body that breaks this schema is read, not refused
        op["requestBody"] = {
            "required": False,
            "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
        }
        responses.setdefault("400", reference_error(400))
    content = contract.get("content")
    if content:
        ok = responses.setdefault(str(contract["status"]), {"description": "OK"})
        if content == "text/event-stream":
            ok["description"] = _stream_text()
            ok["content"] = {content: {"schema": {"type": "string"}}}
            op["x-event-types"] = list(EVENT_TYPES)
        else:
            ok["content"] = {content: {"schema": {"type": "string"}}}


def document() -> dict:
    """The whole document (built once per process, in an app context)."""
    cache = current_app.extensions.setdefault("callcenter.openapi", {})
    if "doc" not in cache:
        cache["doc"] = _complete(copy.deepcopy(spec.spec))
    return cache["doc"]


__all__ = ["JSON", "document"]
