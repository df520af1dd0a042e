"""Odd input gets a 4xx with the API's error shape, never a 500, and changes nothing."""

import pytest

from tests.auth.test_pages import page_sign_in
from tests.helpers import KEPANJEN, offset, ticket_payload


def error(response) -> dict:
    return response.get_json()["error"]


def test_thousands_of_nested_brackets_are_not_json(client, factory):
    response = client.post(
        "/api/v1/auth/tokens", data="[" * 30_000, content_type="application/json"
    )
    assert response.status_code == 400
    assert error(response)["code"] == "invalid_json"
    assert factory.events() == []


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tickets/12345678901234567890123",
        "/api/v1/units/12345678901234567890123",
        "/api/v1/assignments/12345678901234567890123/accept",
    ],
)
def test_an_id_too_long_for_any_key_names_nothing(client, factory, path):
    headers = factory.headers("dispatcher")
    response = (client.post if path.endswith("accept") else client.get)(path, headers=headers)
    # No route takes it, whatever the method: a plain 404 (it used to be a 405 where another
    # method's route had the same shape).
    assert response.status_code == 404
    assert error(response)["code"] == "not_found"


def test_an_id_too_large_in_a_body_is_refused(client, factory):
    headers = factory.headers("dispatcher")
    factory.unit(callsign="KPJ-1", point=offset(KEPANJEN, 200, 0))
    ticket = client.post("/api/v1/tickets", json=ticket_payload(), headers=headers).get_json()
    before = len(factory.events())
    response = client.post(
        f"/api/v1/tickets/{ticket['id']}/assign", json={"unit_id": 10**30}, headers=headers
    )
    assert response.status_code == 422
    assert "unit_id" in error(response)["fields"]
    assert len(factory.events()) == before


@pytest.mark.parametrize("value", ["²", "١٢", "1" * 30])
def test_a_cursor_of_other_digits_is_refused(client, factory, value):
    headers = factory.headers("dispatcher")
    response = client.get(f"/api/v1/events?after={value}", headers=headers)
    assert response.status_code == 422
    assert "after" in error(response)["fields"]
    stream = client.get("/api/v1/events/stream", headers={**headers, "Last-Event-ID": value})
    assert stream.status_code == 422
    assert "Last-Event-ID" in error(stream)["fields"]


def test_a_time_without_its_offset_is_refused(client, factory):
    response = client.get(
        "/api/v1/units/positions?since=2026-11-28T10:00:00", headers=factory.headers("dispatcher")
    )
    assert response.status_code == 422
    assert "since" in error(response)["fields"]
    with_offset = client.get(
        "/api/v1/units/positions?since=2026-11-28T10:00:00%2B07:00",
        headers=factory.headers("dispatcher"),
    )
    assert with_offset.status_code == 200


def test_the_last_day_of_the_calendar_is_not_a_report_day(client, factory):
    factory.user("supervisor", username="kaspkt")
    page_sign_in(client, "kaspkt")
    page = client.get("/reports/?from=9999-12-01&to=9999-12-31")
    assert page.status_code == 422
    kpis = client.get(
        "/api/v1/reports/kpis?to=9999-12-31&sector=%C2%B2", headers=factory.headers("supervisor")
    )
    assert kpis.status_code == 422
    assert {"to", "sector"} <= set(error(kpis)["fields"])


def test_a_nul_character_in_text_is_refused_and_nothing_is_stored(client, factory):
    headers = factory.headers("dispatcher")
    response = client.post(
        "/api/v1/tickets", json=ticket_payload(summary="Ada\x00orang"), headers=headers
    )
    assert response.status_code == 422
    assert error(response)["fields"] == {"summary": error(response)["fields"]["summary"]}
    nested = client.post(
        "/api/v1/tickets",
        json=ticket_payload(caller={"name": "Bu\x00di", "phone": "0811-48-2000"}),
        headers=headers,
    )
    assert nested.status_code == 422 and "caller.name" in error(nested)["fields"]
    query = client.get("/api/v1/events?after=1\x00", headers=headers)
    assert query.status_code == 422
    assert client.get("/api/v1/tickets", headers=headers).get_json() in ([], {"tickets": []})
    assert [e for e in factory.events() if e.type.startswith("ticket.")] == []


def test_ids_too_large_in_the_story_bodies_are_refused(client, factory):
    headers = factory.headers("dispatcher")
    ticket = client.post("/api/v1/tickets", json=ticket_payload(), headers=headers).get_json()
    before = len(factory.events())
    attach = client.post("/api/v1/tickets", json=ticket_payload(attach_to=10**30), headers=headers)
    assert attach.status_code == 422 and "attach_to" in error(attach)["fields"]
    handoff = client.post(
        f"/api/v1/tickets/{ticket['id']}/handoffs", json={"agency": 10**30}, headers=headers
    )
    assert handoff.status_code == 422
    assert len(factory.events()) == before


# What the fuzz run (tests/api/test_fuzz.py) found, each kept here as its own case.


def test_a_huge_id_with_another_method_is_a_404_not_a_405(client, factory):
    response = client.patch(
        "/api/v1/users/4077420284119415363758718976", json={}, headers=factory.headers("admin")
    )
    assert response.status_code == 404


@pytest.mark.parametrize("since", ["-32911", "1700000000", "2026-11-28T10:00:00"])
def test_since_must_be_a_time_with_its_offset(client, factory, since):
    response = client.get(
        f"/api/v1/units/positions?since={since}", headers=factory.headers("dispatcher")
    )
    assert response.status_code == 422
    assert set(error(response)["fields"]) == {"since"}


def test_a_query_parameter_given_twice_is_refused(client, factory):
    response = client.get(
        "/api/v1/events/stream/check?client=a1&client=b2", headers=factory.headers("dispatcher")
    )
    assert response.status_code == 422
    assert set(error(response)["fields"]) == {"client"}


def test_a_stream_key_is_letters_digits_and_dashes(client, factory):
    headers = factory.headers("dispatcher")
    bad = client.get("/api/v1/events/stream/check?client={'a': 1}", headers=headers)
    assert bad.status_code == 422
    assert (
        client.get("/api/v1/events/stream/check?client=ab-12", headers=headers).status_code == 204
    )


@pytest.mark.parametrize("body", ["3.5", "[1, 2]", '"text"', "null"])
def test_a_release_or_an_emergency_press_with_a_body_that_is_no_object(client, factory, body):
    headers = factory.headers("dispatcher")
    release = client.post(
        "/api/v1/events/stream/release", data=body, content_type="application/json", headers=headers
    )
    assert release.status_code == 422
    assert set(error(release)["fields"]) == {"client"}
    unit_headers = factory.unit_user(factory.unit())
    press = client.post(
        "/api/v1/units/me/emergency",
        data=body,
        content_type="application/json",
        headers=unit_headers,
    )
    assert press.status_code == 201  # the button is never refused for its body


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_an_empty_query_parameter_is_accepted_only_where_the_document_says_so(
    client, factory, role
):
    """The pages' filter forms send empty values (``?status=&from=``), which several
    operations read as their default. The document must say so: a client or a fuzzer reading
    it must not find an empty value it forbids accepted (found by the longer fuzz run on
    ``/callbacks?status=``, ``/wa/threads?status=`` and ``/reports/kpis?from=``)."""
    from jsonschema import Draft202012Validator

    headers = factory.headers(role)
    doc = client.get("/api/v1/openapi.json").get_json()
    accepted_but_forbidden = []
    for path, item in doc["paths"].items():
        operation = item.get("get")
        if operation is None or "{" in path:
            continue
        if "text/event-stream" in str(operation["responses"]):
            continue
        for param in operation.get("parameters", []):
            if param["in"] != "query":
                continue
            response = client.get(f"{path}?{param['name']}=", headers=headers)
            if response.status_code < 300:
                schema = {**param["schema"], "components": doc["components"]}
                checker = Draft202012Validator.FORMAT_CHECKER
                if not Draft202012Validator(schema, format_checker=checker).is_valid(""):
                    accepted_but_forbidden.append(f"{path}?{param['name']}=")
    assert accepted_but_forbidden == [], accepted_but_forbidden
