"""Supervisors switch the automatic updates on the console (``/api/v1/wa/settings``): the
switch is audited, refused to dispatchers and for bad input (nothing changes), and the
reader of the events table follows it at once."""

from callcenter.services.whatsapp import reactions
from tests.whatsapp.conftest import REPORTER


def _auto(client, headers):
    response = client.get("/api/v1/wa/settings", headers=headers)
    assert response.status_code == 200
    return response.get_json()["auto"]


def test_a_supervisor_switches_an_update_and_it_is_audited(wa, client, factory, app, monkeypatch):
    monkeypatch.setitem(app.config, "CALLCENTER_WA_AUTO_CLOSED", False)
    supervisor = factory.headers("supervisor")
    dispatcher = factory.headers("dispatcher")
    # Until someone switches them, the settings decide.
    assert _auto(client, dispatcher) == {"ack": True, "en_route": True, "closed": False}

    changed = client.patch(
        "/api/v1/wa/settings", json={"en_route": False, "closed": True}, headers=supervisor
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["auto"] == {"ack": True, "en_route": False, "closed": True}
    assert _auto(client, dispatcher) == {"ack": True, "en_route": False, "closed": True}
    (event,) = factory.events("wa.settings_changed")
    assert event.data["changes"] == {"en_route": [True, False], "closed": [False, True]}
    assert event.actor_id is not None

    # The same again changes nothing and records nothing.
    again = client.patch("/api/v1/wa/settings", json={"en_route": False}, headers=supervisor)
    assert again.status_code == 200
    assert len(factory.events("wa.settings_changed")) == 1


def test_dispatchers_and_bad_input_are_refused_and_change_nothing(wa, client, factory):
    supervisor = factory.headers("supervisor")
    dispatcher = factory.headers("dispatcher")
    refused = client.patch("/api/v1/wa/settings", json={"ack": False}, headers=dispatcher)
    assert refused.status_code == 403
    for body, field in (
        ({"ack": "no"}, "ack"),
        ({"ack": 0}, "ack"),
        ({"sms": True}, "sms"),
        ({}, "ack"),
    ):
        answer = client.patch("/api/v1/wa/settings", json=body, headers=supervisor)
        assert answer.status_code == 422, body
        error = answer.get_json()["error"]
        assert error["code"] and error["message"] and field in error["fields"], error
    bad_json = client.patch(
        "/api/v1/wa/settings",
        data="[",
        headers={**supervisor, "Content-Type": "application/json"},
    )
    assert bad_json.status_code == 400
    assert _auto(client, supervisor) == {"ack": True, "en_route": True, "closed": True}
    assert factory.events("wa.settings_changed") == []


def test_the_reader_follows_the_switch_at_once(wa, client, factory):
    supervisor = factory.headers("supervisor")
    off = client.patch("/api/v1/wa/settings", json={"ack": False}, headers=supervisor)
    assert off.status_code == 200
    wa.text("halo", wa_id=REPORTER)
    assert factory.run(reactions.react) == 0
    assert wa.messages(direction="out") == []

    on = client.patch("/api/v1/wa/settings", json={"ack": True}, headers=supervisor)
    assert on.status_code == 200
    other = "6281398765432"
    wa.text("tolong", wa_id=other)
    assert factory.run(reactions.react) == 1
    (ack,) = wa.messages(direction="out")
    assert ack.auto_kind == "ack"
    assert {t.id for t in wa.threads() if t.wa_id == other} == {ack.thread_id}
