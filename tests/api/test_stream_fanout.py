"""The embedded live feed: one reader per process fans each event out once to every stream
of its scope; resumes join the live feed without gap or repeat; caps answer at once; a
stream ends with its credential."""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.request

import pytest

from callcenter.extensions import db
from callcenter.models import User
from callcenter.services import accounts, routing
from callcenter.streams import broadcaster
from tests.helpers import KEPANJEN, PASSWORD, offset, ticket_payload
from tests.processes import WebServer, free_port, process_env
from tests.sse import Stream


@pytest.fixture
def streams(live_server):
    opened: list[Stream] = []

    def open_(headers: dict, last_event_id: int | None = None, **kw) -> Stream:
        extra = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
        stream = Stream(live_server + "/api/v1/events/stream", {**headers, **extra}, **kw)
        opened.append(stream)
        return stream

    yield open_
    for stream in opened:
        stream.close()


def visible(event, scope: str, unit_id: int | None = None) -> bool:
    if scope == "supervisor":
        return True
    if event.type.startswith(("auth.", "user.")):
        return False
    return scope == "staff" or event.unit_id == unit_id


def ids_until(stream: Stream, last: int) -> list[int]:
    got = []
    while not got or got[-1] < last:
        message = stream.next()
        if message["id"] is not None:
            got.append(message["id"])
    return got


def ends(stream: Stream) -> bool:
    """Read until the server ends the stream (each read waits at most its timeout)."""
    try:
        while True:
            stream.next()
    except EOFError:
        return True


def test_each_event_reaches_every_stream_of_its_scope_once(client, factory, streams):
    dispatcher = factory.headers("dispatcher")
    supervisor = factory.headers("supervisor")
    a = factory.unit(callsign="FO-1", point=offset(KEPANJEN, 300, 0))
    b = factory.unit(callsign="FO-2", point=offset(KEPANJEN, 900, 0))
    a_headers, b_headers = factory.unit_user(a), factory.unit_user(b)
    start = factory.events()[-1].id
    staff = [streams(dispatcher) for _ in range(3)]
    boss = streams(supervisor)
    a_stream, b_stream = streams(a_headers), streams(b_headers)
    for i in range(4):
        ticket = client.post(
            "/api/v1/tickets", json=ticket_payload(summary=f"fan-out {i}"), headers=dispatcher
        ).get_json()
        factory.run(routing.route_ticket, ticket["id"])
    factory.user("dispatcher")  # user.created: supervisors only
    events = [e for e in factory.events() if e.id > start]

    want = [e.id for e in events if visible(e, "staff")]
    for stream in staff:
        assert ids_until(stream, want[-1]) == want
    assert ids_until(boss, events[-1].id) == [e.id for e in events]
    for unit_id, stream in ((a, a_stream), (b, b_stream)):
        mine = [e.id for e in events if visible(e, "unit", unit_id)]
        assert mine
        assert ids_until(stream, mine[-1]) == mine


def test_a_resume_older_than_memory_reads_pages_and_joins_the_live_feed(
    app, client, factory, streams, monkeypatch
):
    """The process started after the backlog (its memory begins there), pages are 5
    events, and calls keep coming during the replay: every event once, in order."""
    monkeypatch.setitem(app.config, "CALLCENTER_STREAM_REPLAY_PAGE", 5)
    monkeypatch.setattr(broadcaster, "RING", 4)  # memory keeps only a few events
    dispatcher = factory.headers("dispatcher")
    for i in range(12):
        client.post("/api/v1/tickets", json=ticket_payload(summary=f"old {i}"), headers=dispatcher)
    streams(dispatcher).close()  # the reader runs
    with app.app_context():
        broadcaster.get(app).reset()
        db.session.remove()

    def keep_logging():
        for i in range(20):
            client.post(
                "/api/v1/tickets", json=ticket_payload(summary=f"new {i}"), headers=dispatcher
            )
            time.sleep(0.02)

    writer = threading.Thread(target=keep_logging)
    stream = streams(dispatcher, last_event_id=0)
    writer.start()
    writer.join(60)
    want = [e.id for e in factory.events() if visible(e, "staff")]
    assert ids_until(stream, want[-1]) == want


def test_the_per_user_cap_answers_429_with_retry_after(app, factory, streams, live_server):
    app.config["CALLCENTER_STREAMS_PER_USER"] = 2
    try:
        headers = factory.headers("dispatcher")
        streams(headers), streams(headers)
        with pytest.raises(urllib.error.HTTPError) as refused:
            streams(headers)
        assert refused.value.code == 429
        assert int(refused.value.headers["Retry-After"]) >= 1
        check = urllib.request.Request(live_server + "/api/v1/events/stream/check", headers=headers)
        with pytest.raises(urllib.error.HTTPError) as checked:
            urllib.request.urlopen(check, timeout=10)
        assert checked.value.code == 429
        other = factory.headers("dispatcher")
        streams(other)
        check = urllib.request.Request(live_server + "/api/v1/events/stream/check", headers=other)
        assert urllib.request.urlopen(check, timeout=10).status == 204
    finally:
        app.config["CALLCENTER_STREAMS_PER_USER"] = 3


def test_a_revoked_tokens_stream_ends(client, factory, streams):
    user = factory.user("dispatcher")
    headers = {"Authorization": f"Bearer {factory.token(user)}"}
    stream = streams(headers, timeout=15)
    assert client.delete("/api/v1/auth/tokens/current", headers=headers).status_code == 204
    assert ends(stream)
    with pytest.raises(urllib.error.HTTPError) as refused:
        streams(headers)
    assert refused.value.code == 401


def test_a_deactivated_users_streams_end(factory, streams):
    user = factory.user("dispatcher")
    one = streams({"Authorization": f"Bearer {factory.token(user)}"}, timeout=15)
    two = streams({"Authorization": f"Bearer {factory.token(user)}"}, timeout=15)
    factory.run(lambda: accounts.set_active(db.session.get(User, user["id"]), False))
    assert ends(one) and ends(two)


def test_signing_out_ends_the_pages_stream(client, factory, streams):
    factory.user("dispatcher", username="keluar")
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    signed_in = client.post(
        "/login", data={"username": "keluar", "password": PASSWORD, "csrf_token": csrf}
    )
    assert signed_in.status_code == 302
    cookie = client.get_cookie("cc110_session")
    stream = streams({"Cookie": f"cc110_session={cookie.value}"}, timeout=15)
    console = client.get("/").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', console).group(1)
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302
    assert ends(stream)


def test_streams_never_take_the_threads_api_calls_need(app_config, factory, tmp_path):
    """gunicorn with 4 threads holds at most 3 streams: one user at the cap, another is
    refused a stream at once (503, not a hang), and API calls still answer."""
    port = free_port()
    web = WebServer(
        process_env(app_config, CALLCENTER_STREAM_KEEPALIVE_S=1),
        str(tmp_path / "web.log"),
        port,
        workers="1",
        threads="4",
    ).wait_ready()
    opened = []
    try:
        busy = factory.headers("dispatcher")
        url = web.url + "/api/v1/events/stream"
        opened += [Stream(url, busy) for _ in range(3)]
        with pytest.raises(urllib.error.HTTPError) as refused:
            Stream(url, busy)
        assert refused.value.code == 429
        other = factory.headers("dispatcher")
        with pytest.raises(urllib.error.HTTPError) as full:
            Stream(url, other)
        assert full.value.code == 503
        assert int(full.value.headers["Retry-After"]) >= 1
        for _ in range(5):
            me = urllib.request.Request(web.url + "/api/v1/auth/me", headers=other)
            assert urllib.request.urlopen(me, timeout=10).status == 200
    finally:
        for stream in opened:
            stream.close()
        web.stop()


def test_a_tabs_reconnect_takes_over_its_stream_and_leaving_gives_it_back(
    app, client, factory, live_server
):
    """With room for one stream: the same tab (client key) reconnecting replaces its
    stream (the old one ends) instead of being refused; leaving gives the lease back."""
    app.config["CALLCENTER_STREAMS_PER_USER"] = 1
    opened = []
    try:
        headers = factory.headers("dispatcher")
        url = live_server + "/api/v1/events/stream"
        first = Stream(url + "?client=tab1", headers, timeout=15)
        opened.append(first)
        client.post("/api/v1/tickets", json=ticket_payload(), headers=headers)
        assert first.next()["data"]["type"] == "ticket.created"  # it is open and live
        second = Stream(url + "?client=tab1", headers, timeout=15)
        opened.append(second)
        assert ends(first)
        with pytest.raises(urllib.error.HTTPError) as refused:
            Stream(url + "?client=tab2", headers)
        assert refused.value.code == 429
        # The check says the same, except to the page that holds the lease (a reconnect).
        assert (
            client.get("/api/v1/events/stream/check?client=tab2", headers=headers).status_code
            == 429
        )
        assert (
            client.get("/api/v1/events/stream/check?client=tab1", headers=headers).status_code
            == 204
        )
        released = client.post(
            "/api/v1/events/stream/release", json={"client": "tab1"}, headers=headers
        )
        assert released.status_code == 204
        assert ends(second)
        opened.append(Stream(url + "?client=tab2", headers))
    finally:
        app.config["CALLCENTER_STREAMS_PER_USER"] = 3
        for stream in opened:
            stream.close()
