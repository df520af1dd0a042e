"""The OpenAPI document: valid, complete, and what the answers are checked against."""

from __future__ import annotations

import ast
import pathlib
import re

import pytest
import schemathesis
from flask import jsonify
from pydantic import BaseModel

import callcenter
from callcenter.api.contract import operation
from callcenter.services.events import EVENT_TYPES

SOURCE = pathlib.Path(callcenter.__file__).parent


def _doc(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_document_is_public_and_valid_openapi_3_1(client):
    doc = _doc(client)
    assert doc["openapi"].startswith("3.1")
    schemathesis.openapi.from_dict(doc).validate()  # the OpenAPI 3.1 meta-schema


def test_every_api_route_is_in_the_document(app, client):
    """A route the document does not describe fails here (add an ``@operation``)."""
    paths = _doc(client)["paths"]
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method.lower() not in paths.get(path, {}):
                missing.append(f"{method} {path}")
    assert missing == []


def test_each_operation_names_its_roles_errors_and_summary(client):
    doc = _doc(client)
    for path, item in doc["paths"].items():
        for method, op in item.items():
            name = f"{method.upper()} {path}"
            assert op.get("summary"), f"{name} has no summary"
            assert "x-roles" in op, name
            assert "422" in op["responses"], name
            if op["x-roles"]:
                assert {"401", "403"} <= set(op["responses"]), name
            if "{" in path:
                assert "404" in op["responses"], name
            for code, answer in op["responses"].items():
                if int(code) >= 400:
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, name


def test_intake_documents_its_idempotency_key(client):
    op = _doc(client)["paths"]["/api/v1/tickets"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in op["parameters"] if p["in"] == "header"]


def test_only_signing_out_says_it_revokes_the_callers_credential(client):
    flagged = [
        f"{method.upper()} {path}"
        for path, item in _doc(client)["paths"].items()
        for method, op in item.items()
        if op.get("x-revokes-credential")
    ]
    assert flagged == ["DELETE /api/v1/auth/tokens/current"]


def test_the_stream_lists_its_event_types(client):
    op = _doc(client)["paths"]["/api/v1/events/stream"]["get"]
    assert op["x-event-types"] == list(EVENT_TYPES)
    assert "text/event-stream" in op["responses"]["200"]["content"]


def test_every_recorded_event_type_is_listed():
    """Each ``events.record("type", ...)`` in the code names a listed type; the types made
    from a status (``ticket.<to>``, ``assignment.<to>``) are listed for each status."""
    recorded = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", None)) == "record"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                recorded.add(node.args[0].value)
    assert recorded - set(EVENT_TYPES) == set()
    for status in ("closed", "cancelled"):
        assert f"ticket.{status}" in EVENT_TYPES
    for status in ("completed", "declined", "expired", "cancelled", "released"):
        assert f"assignment.{status}" in EVENT_TYPES


class _Shape(BaseModel):
    model_config = {"extra": "forbid"}
    n: int


@pytest.fixture
def odd_app():
    """An app with two declared operations whose answers break their schemas."""
    app = callcenter.create_app(
        {"TESTING": True, "CALLCENTER_CHECK_RESPONSES": True, "DATABASE_URL": "sqlite://"}
    )

    @operation(tag="test", ok=_Shape)
    def wrong_type():
        """Answers text where a number is declared."""
        return jsonify({"n": "five"})

    @operation(tag="test", ok=_Shape)
    def undeclared_field():
        """Answers a field its schema does not have."""
        return jsonify({"n": 5, "secret": True})

    app.add_url_rule("/wrong-type", view_func=wrong_type)
    app.add_url_rule("/undeclared-field", view_func=undeclared_field)
    return app


def test_an_answer_that_breaks_its_schema_fails_the_tests(odd_app):
    client = odd_app.test_client()
    wrong = client.get("/wrong-type")
    assert wrong.status_code == 500
    assert [e["loc"] for e in wrong.get_json()] == [["n"]]  # what broke, for the test's log
    undeclared = client.get("/undeclared-field")
    assert undeclared.status_code == 500
    assert [e["loc"] for e in undeclared.get_json()] == [["secret"]]


def test_without_the_check_the_answer_goes_out_as_the_view_made_it(odd_app):
    odd_app.config["CALLCENTER_CHECK_RESPONSES"] = False
    response = odd_app.test_client().get("/wrong-type")
    assert response.status_code == 200
    assert response.get_json() == {"n": "five"}


def test_a_request_that_breaks_its_schema_gets_the_api_error_shape(client, factory):
    response = client.post("/api/v1/auth/tokens", json={"username": 5, "password": "x", "extra": 1})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert set(error["fields"]) == {"username", "extra"}


def test_the_reference_page_is_served_from_our_own_files(client):
    html = client.get("/api/v1/reference").get_data(as_text=True)
    assert "js/reference.js" in html
    linked = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert linked and all(url.startswith(("/", "#")) for url in linked), linked
