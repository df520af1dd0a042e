"""EIDO exchange (NENA-STA-021): a ticket exported as an EIDO document that NENA's schema
accepts, NENA's sample taken in as a ticket, the round trip through another database,
idempotent and ordered updates, and refusals.

Routing is called as a service where a test needs an offer (no worker runs here)."""

import copy
import json
import pathlib
from datetime import UTC, datetime, timedelta

import pytest

from callcenter.extensions import db
from callcenter.models import EidoLink, Event, Ticket
from callcenter.services import routing
from callcenter.services.eido import schema
from tests.conftest import reset_state
from tests.helpers import KEPANJEN, offset, ticket_payload

SAMPLE = pathlib.Path(__file__).parents[1] / "data" / "eido" / "sample_call_transfer.json"
# NENA's own files, beside the repository (shared/standards/eido), where they are.
NENA_SCHEMA = pathlib.Path(__file__).parents[3] / "shared" / "standards" / "eido" / "Schema"


def sample() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


@pytest.fixture
def dispatcher(factory):
    return factory.headers("dispatcher")


@pytest.fixture
def supervisor(factory):
    return factory.headers("supervisor")


def post_eido(client, headers, document, **kw):
    return client.post("/api/v1/eido", json=document, headers=headers, **kw)


def get_eido(client, headers, ticket_id):
    return client.get(f"/api/v1/tickets/{ticket_id}/eido", headers=headers)


def detail(client, headers, ticket_id):
    return client.get(f"/api/v1/tickets/{ticket_id}", headers=headers).get_json()


def later(document, seconds):
    moment = schema.parse_timestamp(document["lastUpdateTimeStamp"]) + timedelta(seconds=seconds)
    return moment.isoformat()


def newer_robbery(document, seconds, *, incident_id, note_id, note) -> dict:
    """``document`` as its sender updates it ``seconds`` later: now a robbery of priority 1,
    with one note."""
    newer = copy.deepcopy(document)
    stamp = later(document, seconds)
    agency = {"$ref": "state.pa.us"}
    newer["lastUpdateTimeStamp"] = stamp
    newer["incidentComponent"] = {
        "$id": incident_id,
        "lastUpdateTimeStamp": stamp,
        "updatedByAgencyReference": agency,
        "incidentTypeCommonRegistryText": "ROBBERY",
        "incidentCommonPriorityNumber": 1,
    }
    newer["notesComponent"] = [
        {
            "$id": note_id,
            "lastUpdateTimeStamp": stamp,
            "updatedByAgencyReference": agency,
            "notesActionComments": note,
        }
    ]
    return newer


def busy_ticket(client, factory, dispatcher) -> int:
    """A ticket with 2 calls, 2 units that accepted and moved (their history in the
    events), a note and a hand-off: what an export has to carry."""
    units = [
        factory.unit(callsign=c, point=offset(KEPANJEN, north_m=n))
        for c, n in (
            ("KPJ-1", 200),
            ("KPJ-2", 600),
        )
    ]
    created = client.post(
        "/api/v1/tickets",
        json=ticket_payload(
            category="traffic_accident_injury",
            priority=1,
            summary="Tabrakan motor dan truk, dua korban",
            location={"lat": KEPANJEN[0], "lon": KEPANJEN[1], "address": "Jl. Raya Kepanjen 12"},
        ),
        headers=dispatcher,
    )
    assert created.status_code == 201, created.get_json()
    ticket_id = created.get_json()["id"]
    assert factory.run(routing.route_ticket, ticket_id) == "offered"
    offers = factory.assignments(ticket_id)
    assert len(offers) == 2
    for offer in offers:
        headers = factory.unit_user(offer.unit_id)
        url = f"/api/v1/assignments/{offer.id}"
        assert client.post(url + "/accept", headers=headers).status_code == 200
        moved = client.post(url + "/progress", json={"status": "en_route"}, headers=headers)
        assert moved.status_code == 200, moved.get_json()
    first = next(o for o in offers if o.unit_id == units[0])
    arrived = client.post(
        f"/api/v1/assignments/{first.id}/progress",
        json={"status": "on_scene"},
        headers=factory.unit_user(first.unit_id),
    )
    assert arrived.status_code == 200
    call = client.post(
        f"/api/v1/tickets/{ticket_id}/calls",
        json={
            "channel": "whatsapp",
            "caller": {"name": "Siti Aminah", "phone": "+62 812-3456-7890"},
            "text": "Ada yang luka parah & berdarah",
        },
        headers=dispatcher,
    )
    assert call.status_code == 201, call.get_json()
    note = client.post(
        f"/api/v1/tickets/{ticket_id}/notes",
        json={"text": "Truk B 1234 XY\nsopir kabur ke arah utara"},
        headers=dispatcher,
    )
    assert note.status_code == 201
    handed = client.post(
        f"/api/v1/tickets/{ticket_id}/handoffs",
        json={"agency": "psc119", "note": "2 korban"},
        headers=dispatcher,
    )
    assert handed.status_code == 201
    return ticket_id


def test_export_validates_against_the_nena_schema(client, factory, dispatcher):
    ticket_id = busy_ticket(client, factory, dispatcher)
    response = get_eido(client, dispatcher, ticket_id)
    assert response.status_code == 200
    doc = response.get_json()
    assert schema.problems(doc) == {}
    assert schema.validator().is_valid(doc)

    incident = doc["incidentComponent"]
    assert incident["incidentTypeCommonRegistryText"] == "MVAINJY"
    assert incident["incidentTypeInternalCode"] == "traffic_accident_injury"
    assert incident["incidentCommonPriorityNumber"] == 1
    ticket = factory.ticket(ticket_id)
    assert doc["$id"] == f"urn:emergency:uid:incidentid:{ticket.number}:callcenter110.polri.invalid"

    persons = {p["$id"]: p for p in doc["personComponent"]}
    callbacks = {c["$id"]: c for c in doc["callbackComponent"]}
    callers = []
    for call in doc["callComponent"]:
        [person_ref] = call["personReference"]
        person = persons[person_ref["$ref"]]
        assert person["personIncidentRoleRegistryText"] == ["Caller"]
        assert call["$id"] in person["callIdentifier"]
        name = person["ncPersonComponent"]["name"][0]["personFullName"][0]["value"]
        callers.append(
            (
                call["localCallType"],
                name,
                callbacks[person["callBackReference"]["$ref"]]["callBackInformationUri"],
            )
        )
    assert callers == [
        ("phone", "Budi Santoso", ["tel:+62811482000"]),
        ("whatsapp", "Siti Aminah", ["tel:+6281234567890"]),
    ]

    [location] = doc["locationComponent"]
    assert location["locationDescriptionText"] == "Jl. Raya Kepanjen 12"
    assert f"{KEPANJEN[0]!r} {KEPANJEN[1]!r}" in location["locationByValue"]

    resources = {r["emergencyResourceName"]: r for r in doc["emergencyResourceComponent"]}
    assert set(resources) == {"KPJ-1", "KPJ-2"}
    steps = {
        name: [s.split("@")[0] for s in r["unitStatusInternal"]] for name, r in resources.items()
    }
    assert steps == {
        "KPJ-1": ["offered", "accepted", "en_route", "on_scene"],
        "KPJ-2": ["offered", "accepted", "en_route"],
    }
    assert resources["KPJ-1"]["primaryUnitStatusRegistryText"] == "OnScene"
    assert len(doc["dispatchComponent"]) == 2

    notes = {n["$id"]: n["notesActionComments"] for n in doc["notesComponent"]}
    incident_notes = [notes[r["$ref"]] for r in incident["notesReference"]]
    assert incident_notes == [
        "Tabrakan motor dan truk, dua korban",
        "Truk B 1234 XY<br>sopir kabur ke arah utara",
    ]
    assert "Ada yang luka parah &amp; berdarah" in notes.values()

    agencies = {a["$id"]: a for a in doc["agencyComponent"]}
    assert agencies["callcenter110.polri.invalid"]["incidentOwningAgencyIndicator"] is True
    psc = agencies["urn:emergency:uid:agencyid:psc119:callcenter110.polri.invalid"]
    assert psc["agencyType"] == ["ems"] and "PSC 119" in psc["agencyJcard"]


def test_the_shipped_schema_is_nenas(tmp_path):
    """The JSON under callcenter/data/eido is what scripts/eido_schema.py makes of NENA's
    YAML (run where NENA's files are beside the repository)."""
    if not NENA_SCHEMA.is_dir():
        pytest.skip("NENA's schema files are not beside the repository")
    import importlib.util

    script = pathlib.Path(__file__).parents[2] / "scripts" / "eido_schema.py"
    spec = importlib.util.spec_from_file_location("eido_schema", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.convert(NENA_SCHEMA, tmp_path)
    shipped = schema.SCHEMA_DIR
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.json"))
    assert made == sorted(p.relative_to(shipped) for p in shipped.rglob("*.json"))
    for name in made:
        assert (tmp_path / name).read_text() == (shipped / name).read_text(), name


def test_nenas_sample_is_taken_in_as_a_ticket(client, factory, supervisor):
    response = post_eido(client, supervisor, sample())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["eido"] == "created" and "Idempotent-Replayed" not in response.headers
    ticket = detail(client, supervisor, body["id"])
    # No incident type in the sample: a request for police assistance, at its civic address
    # (a point it does not give, so it waits for a dispatcher rather than for routing).
    assert ticket["category"] == "assistance"
    assert ticket["status"] == "new"
    assert ticket["location"]["address"] == "42 W Cellular Street, Wilmington, DE, US"
    assert ticket["location"]["lat"] is None
    [call] = ticket["calls"]
    assert call["channel"] == "phone"
    assert call["received_at"].startswith("2021-04-30T18:40:00")
    # tel:8195551212 is neither global (+...) nor national (0...): kept, not guessed.
    assert call["caller"]["phone"] is None
    types = [e["type"] for e in ticket["timeline"]]
    assert types[0] == "ticket.created" and "eido.received" in types
    [received] = [e for e in ticket["timeline"] if e["type"] == "eido.received"]
    data = received["data"]
    assert data["eido_id"] == "urn:emergency:uid:incidentid:a56e556d871:bcf.state.pa.us"
    assert data["source"] == "state.pa.us"
    assert data["agencies"][0]["$id"] == "state.pa.us"
    unmapped = data["unmapped"]
    assert len(unmapped["additionalDataComponent"]) == 3
    assert unmapped["caller_uris"] == {
        "urn:emergency:uid:callid:a56e556d871:bcf.state.pa.us": [
            "sip:8195551212@osp.com",
            "tel:8195551212",
        ]
    }
    assert [
        loc["locationTypeDescriptionRegistryText"] for loc in unmapped["locationComponent"]
    ] == ["Caller"]
    assert received["actor"]["username"].startswith("supervisor")
    # The ticket's own export names the incident as the sample did, and is valid.
    exported = get_eido(client, supervisor, body["id"]).get_json()
    assert exported["$id"] == sample()["$id"]
    assert schema.problems(exported) == {}


def test_round_trip_keeps_the_incident(app, client, factory, dispatcher):
    ticket_id = busy_ticket(client, factory, dispatcher)
    first = get_eido(client, dispatcher, ticket_id).get_json()
    before = detail(client, dispatcher, ticket_id)

    reset_state(app)  # another center's database
    supervisor = factory.headers("supervisor")
    unit = factory.unit(callsign="PKS-1", point=offset(KEPANJEN, east_m=300))
    response = post_eido(client, supervisor, first)
    assert response.status_code == 201, response.get_json()
    new_id = response.get_json()["id"]
    after = detail(client, supervisor, new_id)

    for name in ("category", "priority", "summary", "channel", "units_needed"):
        assert after[name] == before[name], name
    assert after["location"]["lat"] == before["location"]["lat"]
    assert after["location"]["lon"] == before["location"]["lon"]
    assert after["location"]["address"] == before["location"]["address"]

    def calls(body):
        return [
            (c["channel"], c["caller"]["name"], c["caller"]["phone"], c["text"], c["received_at"])
            for c in body["calls"]
        ]

    assert calls(after) == calls(before)
    assert [n["text"] for n in after["notes"]] == [n["text"] for n in before["notes"]]
    # The units were the other center's: their history is in the timeline.
    [received] = [e for e in after["timeline"] if e["type"] == "eido.received"]
    history = {u["name"]: u["history"] for u in received["data"]["units"]}
    exported = {
        r["emergencyResourceName"]: r["unitStatusInternal"]
        for r in first["emergencyResourceComponent"]
    }
    assert history == exported
    # An imported incident is a real one: handed off by its category, and routed.
    assert factory.run(routing.route_ticket, new_id) == "offered"
    assert [a.unit_id for a in factory.assignments(new_id)] == [unit]

    second = get_eido(client, supervisor, new_id).get_json()
    assert schema.problems(second) == {}
    assert second["$id"] == first["$id"]
    for key in ("incidentTypeCommonRegistryText", "incidentTypeInternalCode"):
        assert second["incidentComponent"][key] == first["incidentComponent"][key]
    first_agencies = {a["$id"] for a in first["agencyComponent"]}
    assert first_agencies <= {a["$id"] for a in second["agencyComponent"]}

    def callers(doc):
        persons = {p["$id"]: p for p in doc["personComponent"]}
        return [
            persons[c["personReference"][0]["$ref"]]["ncPersonComponent"]["name"]
            for c in doc["callComponent"]
        ]

    assert callers(second) == callers(first)

    def incident_notes(doc):
        notes = {n["$id"]: n["notesActionComments"] for n in doc["notesComponent"]}
        return [notes[r["$ref"]] for r in doc["incidentComponent"]["notesReference"]]

    assert incident_notes(second) == incident_notes(first)


def test_the_same_version_twice_is_a_replay(client, factory, supervisor):
    document = sample()
    first = post_eido(client, supervisor, document)
    assert first.status_code == 201
    events_before = factory.count(Event)
    again = post_eido(client, supervisor, document)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["eido"] == "replayed"
    assert factory.count(Ticket) == 1 and factory.count(EidoLink) == 1
    assert factory.count(Event) == events_before


def test_a_newer_version_updates_and_an_older_one_is_refused(client, factory, supervisor):
    document = sample()
    created = post_eido(client, supervisor, document).get_json()
    newer = newer_robbery(
        document,
        60,
        incident_id="urn:emergency:uid:incidentinfo:x1:state.pa.us",
        note_id="note-1",
        note="<p>Pelaku <b>dua orang</b></p>",
    )
    newer["incidentComponent"]["notesReference"] = [{"$ref": "note-1"}]
    newer["notesComponent"][0]["agentReference"] = {"$ref": "tjones.atroop@state.pa.us"}
    response = post_eido(client, supervisor, newer)
    assert response.status_code == 200, response.get_json()
    assert "Idempotent-Replayed" not in response.headers
    body = response.get_json()
    assert body["id"] == created["id"] and body["eido"] == "updated"
    ticket = detail(client, supervisor, created["id"])
    assert ticket["category"] == "violent_robbery"
    assert ticket["priority"] == 1
    assert ticket["summary"] == "Pelaku dua orang"
    assert [n["text"] for n in ticket["notes"]] == ["Pelaku dua orang"]
    types = [e["type"] for e in ticket["timeline"]]
    assert "ticket.updated" in types and "eido.updated" in types
    [updated] = [e for e in ticket["timeline"] if e["type"] == "ticket.updated"]
    assert updated["data"]["changes"]["category"] == ["assistance", "violent_robbery"]
    assert updated["data"]["source"] == "eido"
    assert factory.count(Ticket) == 1

    # The same newer version again: nothing more (the note is not added twice).
    assert post_eido(client, supervisor, newer).headers["Idempotent-Replayed"] == "true"
    # The first version, now older than the one applied.
    stale = post_eido(client, supervisor, document)
    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "eido_outdated"
    assert [n["text"] for n in detail(client, supervisor, created["id"])["notes"]] == [
        "Pelaku dua orang"
    ]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.pop("agencyComponent"), "agencyComponent"),
        (lambda d: d["callComponent"][0].update(direction="sideways"), "callComponent.0.direction"),
        (
            lambda d: d["callComponent"][0].update(callStartTimestamp="kemarin sore"),
            "callComponent.0.callStartTimestamp",
        ),
        (
            lambda d: d.update(
                incidentComponent={
                    "$id": "i",
                    "lastUpdateTimeStamp": d["lastUpdateTimeStamp"],
                    "updatedByAgencyReference": {"$ref": "state.pa.us"},
                }
            ),
            "incidentComponent.incidentTypeCommonRegistryText",
        ),
        (lambda d: d.update(eidoVersion="2.0"), "eidoVersion"),
    ],
)
def test_an_invalid_document_is_refused_naming_the_path(client, factory, supervisor, change, path):
    document = sample()
    change(document)
    response = post_eido(client, {**supervisor, "Accept-Language": "id"}, document)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert path in error["fields"], error["fields"]
    assert error["message"] == "Dokumen EIDO tidak sesuai dengan skema NENA."
    assert factory.count(Ticket) == 0


def test_a_version_from_the_future_is_refused(client, factory, supervisor):
    document = sample()
    document["lastUpdateTimeStamp"] = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    response = post_eido(client, supervisor, document)
    assert response.status_code == 422
    assert "lastUpdateTimeStamp" in response.get_json()["error"]["fields"]


def test_roles_and_unknown_tickets(client, factory, dispatcher, supervisor):
    assert post_eido(client, dispatcher, sample()).status_code == 403
    assert post_eido(client, factory.unit_user(factory.unit()), sample()).status_code == 403
    assert post_eido(client, factory.headers("admin"), sample()).status_code == 201
    ticket_id = client.post(
        "/api/v1/tickets", json=ticket_payload(), headers=dispatcher
    ).get_json()["id"]
    for role in ("supervisor", "admin"):
        assert get_eido(client, factory.headers(role), ticket_id).status_code == 200
    assert get_eido(client, factory.unit_user(factory.unit()), ticket_id).status_code == 403
    assert client.get(f"/api/v1/tickets/{ticket_id}/eido").status_code == 401
    missing = get_eido(client, dispatcher, 999_999)
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"


def test_a_large_document_within_the_eido_limit_is_read(client, factory, supervisor):
    """EIDO documents carry additional data by value: more than the API's usual body."""
    document = sample()
    document["additionalDataComponent"][0]["additionalDataByValue"] += " " * (200 * 1024)
    response = post_eido(client, supervisor, document)
    assert response.status_code == 201, response.get_json()


def test_a_concurrent_first_delivery_makes_one_ticket(app, factory):
    """The unique incident id decides: a link already made by another delivery turns this
    one into a replay, even when it did not see the link before trying."""
    from callcenter.models import User
    from callcenter.services.eido import intake

    user = factory.user("supervisor")
    document = sample()
    with app.app_context():
        actor = db.session.get(User, user["id"])
        first, outcome = intake.receive(document, actor=actor)
        assert outcome == "created"
        real = intake._locked_link
        calls = []

        def blind(eido_id):  # the first look finds nothing, as if the other had not committed
            calls.append(eido_id)
            return None if len(calls) == 1 else real(eido_id)

        intake._locked_link = blind
        try:
            ticket, outcome = intake.receive(document, actor=actor)
        finally:
            intake._locked_link = real
        assert outcome == "replayed" and ticket.id == first.id
        db.session.remove()
    assert factory.count(Ticket) == 1


def test_references_that_are_not_objects_name_nothing(client, factory, supervisor):
    """NENA's ReferenceType declares no type: a bare string passes the schema, and is read
    as naming nothing rather than failing."""
    document = sample()
    document["updatedByAgencyReference"] = "state.pa.us"
    document["callComponent"][0]["personReference"] = ["123e4567-abcd-12d3-a456-426614174000"]
    response = post_eido(client, supervisor, document)
    assert response.status_code == 201, response.get_json()
    ticket = detail(client, supervisor, response.get_json()["id"])
    [received] = [e for e in ticket["timeline"] if e["type"] == "eido.received"]
    assert received["data"]["source"] is None


def test_an_imported_incident_is_offered_by_the_worker(client, factory, supervisor, start_worker):
    """Through intake's own path: committed, handed to a real worker, offered."""
    from callcenter.services.eido import pidf
    from tests.system.sim import wait_for

    near = factory.unit(callsign="NEAR-1", point=offset(KEPANJEN, 400, 0))
    start_worker()
    document = sample()
    stamp = document["lastUpdateTimeStamp"]
    agency = {"$ref": "state.pa.us"}
    document["locationComponent"].append(
        {
            "$id": "loc-kepanjen",
            "lastUpdateTimeStamp": stamp,
            "updatedByAgencyReference": agency,
            "locationTypeDescriptionRegistryText": "Incident",
            "locationByValue": pidf.point_pidf(KEPANJEN[0], KEPANJEN[1], "pres:x"),
        }
    )
    document["incidentComponent"] = {
        "$id": "incident-1",
        "lastUpdateTimeStamp": stamp,
        "updatedByAgencyReference": agency,
        "incidentTypeCommonRegistryText": "ROBBERY",
        "locationReference": [{"$ref": "loc-kepanjen"}],
    }
    response = post_eido(client, supervisor, document)
    assert response.status_code == 201, response.get_json()
    ticket = response.get_json()
    assert ticket["category"] == "violent_robbery" and ticket["units_needed"] == 2
    offered = wait_for(lambda: factory.events("assignment.offered"))
    assert offered[0].unit_id == near and offered[0].ticket_id == ticket["id"]


def test_a_newer_version_of_a_closed_ticket_adds_its_notes_only(client, factory, supervisor):
    document = sample()
    created = post_eido(client, supervisor, document).get_json()
    closed = client.post(
        f"/api/v1/tickets/{created['id']}/close", json={"resolution": "handled"}, headers=supervisor
    )
    assert closed.status_code == 200, closed.get_json()
    newer = newer_robbery(
        document,
        30,
        incident_id="incident-1",
        note_id="note-late",
        note="Pelapor dihubungi kembali",
    )
    response = post_eido(client, supervisor, newer)
    assert response.status_code == 200, response.get_json()
    ticket = detail(client, supervisor, created["id"])
    assert ticket["status"] == "closed"
    assert [n["text"] for n in ticket["notes"]] == ["Pelapor dihubungi kembali"]
    types = [e["type"] for e in ticket["timeline"]]
    assert "ticket.updated" not in types
    [updated] = [e for e in ticket["timeline"] if e["type"] == "eido.updated"]
    assert updated["data"]["unmapped"]["ticket_closed"] == ["category", "priority"]
    assert ticket["category"] == "assistance"
