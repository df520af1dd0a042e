"""Fuzzing the API from its own OpenAPI document (schemathesis), as every role, on SQLite.

For each operation, schemathesis generates requests from the document (valid ones, and
ones that break it) and checks each answer: never a 5xx, a status and content type the
document declares, a body that matches the declared schema, and invalid input refused.
A fixed seed and a bounded number of examples keep the run repeatable and short in CI;
``CALLCENTER_FUZZ_EXAMPLES=200 scripts/test.sh tests/api/test_fuzz.py`` is the longer run;
``CALLCENTER_FUZZ_ONLY=/wa/media`` limits a run to the operations whose path contains it.

Valid requests draw path ids from 1..5, and a few rows of each kind exist, so that
operations reach their real work instead of answering 404 to every random id.
"""

from __future__ import annotations

import copy
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks as openapi_checks

from callcenter.models.user import ROLES
from tests.helpers import ticket_payload

EXAMPLES = int(os.environ.get("CALLCENTER_FUZZ_EXAMPLES", "12"))
# One caller's run takes about 3 s per example (every operation, both modes) here: a
# longer run gets the time it needs instead of the suite's 300 s.
pytestmark = pytest.mark.timeout(max(300, EXAMPLES * 30))
# Streams never end by themselves: their own tests drive them (tests/api/test_*stream*.py).
SKIP_CONTENT = ("text/event-stream",)
CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.negative_data_rejection,
]


@pytest.fixture
def sqlite_only(backend):
    if backend != "sqlite":
        pytest.skip("the fuzz run is on the embedded default (SQLite)")


def _small_ids(doc: dict) -> dict:
    doc = copy.deepcopy(doc)
    for item in doc["paths"].values():
        for op in item.values():
            for param in op.get("parameters", []):
                if param.get("in") == "path" and param["schema"].get("type") == "integer":
                    param["schema"] = {"type": "integer", "minimum": 1, "maximum": 5}
    return doc


def _seed(client, factory) -> None:
    """A few of everything: units, tickets (with offers), users."""
    for _ in range(3):
        factory.unit()
    dispatcher = factory.headers("dispatcher")
    for _ in range(3):
        response = client.post("/api/v1/tickets", json=ticket_payload(), headers=dispatcher)
        assert response.status_code == 201


def _skipped(operation) -> bool:
    for response in operation.definition.raw.get("responses", {}).values():
        if any(media in response.get("content", {}) for media in SKIP_CONTENT):
            return True
    # The rest of the run needs the caller's token: an operation that revokes it is tested
    # by its own tests (tests/api/test_auth.py).
    return bool(operation.definition.raw.get("x-revokes-credential"))


def _described(exc: BaseException) -> str:
    """An exception and, for a group (a flaky failure, several failures), each one in it:
    a flaky failure's own message does not say what failed."""
    text = str(exc)
    for inner in getattr(exc, "exceptions", ()):
        text += f"\n  - {type(inner).__name__}: {_described(inner)}"
    return text


def _operations(schema):
    """The operations to fuzz: all, or those whose path contains ``CALLCENTER_FUZZ_ONLY``
    (to reproduce one operation's finding quickly)."""
    only = os.environ.get("CALLCENTER_FUZZ_ONLY", "")
    for result in schema.get_all_operations():
        operation = result.ok()
        if only in operation.path and not _skipped(operation):
            yield operation


def _fuzz(app, headers: dict) -> list[str]:
    from callcenter.api.openapi import document

    with app.app_context():
        doc = document()
    # Valid requests name ids that exist; invalid ones are judged by the real document.
    schemas = {
        GenerationMode.POSITIVE: schemathesis.openapi.from_dict(_small_ids(doc)),
        GenerationMode.NEGATIVE: schemathesis.openapi.from_dict(doc),
    }
    for schema in schemas.values():
        schema.app = app
    failures = []
    for operation in _operations(schemas[GenerationMode.POSITIVE]):
        checks = CHECKS
        if operation.definition.raw.get("x-lenient-body"):
            # Documented as read leniently (the emergency button is never refused for its
            # body): an invalid body is expected to be accepted.
            checks = [c for c in CHECKS if c is not openapi_checks.negative_data_rejection]
        for mode, schema in schemas.items():
            strategy = schema[operation.path][operation.method.upper()].as_strategy(
                generation_mode=mode
            )

            @given(case=strategy)
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case):
                response = case.call(headers=headers)
                case.validate_response(response, checks=checks)

            try:
                run()
            except Unsatisfiable:  # nothing to break: no parameters and no body
                continue
            except Exception as exc:  # collect every operation's failure, then report all
                name = f"{operation.method.upper()} {operation.path} ({mode.value})"
                failures.append(f"{name}: {_described(exc)}"[:6000])
    return failures


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_the_api_answers_every_generated_request_as_documented(
    sqlite_only, app, client, factory, role
):
    _seed(client, factory)
    if role == "anonymous":
        headers = {}
    elif role == "unit":
        headers = factory.unit_user(factory.unit())
    else:
        headers = factory.headers(role)
    failures = _fuzz(app, headers)
    assert failures == [], "\n\n".join(failures)
