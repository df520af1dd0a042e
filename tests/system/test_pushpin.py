"""The production arrangement of live streams: a real Pushpin holds the connections, the
web (gunicorn) authenticates, replays and hands over, the relay publishes each event once.

Every test starts its own Pushpin, web and relay: Pushpin remembers the item ids it has
seen for a minute, and the emptied tables hand out the same ids again."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request

import pytest

from callcenter.services import accounts
from callcenter.streams.grip import grip_key
from tests.helpers import KEPANJEN, offset, ticket_payload
from tests.processes import Pushpin, StreamRelay, WebServer, free_port, process_env, stop_all
from tests.sse import Stream


class Stack:
    def __init__(self, app, app_config, tmp_path, **settings):
        web_port = free_port()
        self.pushpin = Pushpin(str(tmp_path / "pushpin"), f"127.0.0.1:{web_port}", grip_key(app))
        env = process_env(
            app_config,
            CALLCENTER_STREAMS="pushpin",
            CALLCENTER_PUSHPIN_PUBLISH_URL=self.pushpin.publish_url,
            **settings,
        )
        self.env = env
        self.web = WebServer(env, str(tmp_path / "web.log"), web_port)
        self.relay = StreamRelay(env, str(tmp_path / "relay.log"))
        self.url = self.pushpin.url
        self.pushpin.wait_ready()
        self.web.wait_ready()
        self.relay.wait_ready()

    def stream(self, headers: dict, last_event_id: int | None = None, **kw) -> Stream:
        extra = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
        return Stream(self.url + "/api/v1/events/stream", {**headers, **extra}, **kw)

    def stop(self):
        stop_all(self.relay, self.web, self.pushpin)


@pytest.fixture
def stack(production_stack, app_config, tmp_path):
    started = []

    def start(**settings) -> Stack:
        started.append(Stack(production_stack, app_config, tmp_path, **settings))
        return started[-1]

    yield start
    for one in started:
        one.stop()


def visible(event, scope: str, unit_id: int | None = None) -> bool:
    private = event.type.startswith(("auth.", "user."))
    if scope == "supervisor":
        return True
    if private:
        return False
    return scope == "staff" or event.unit_id == unit_id


def ids_until(stream: Stream, last: int) -> list[int]:
    """The event ids a stream delivers until ``last`` (positions messages left out)."""
    got = []
    while not got or got[-1] < last:
        message = stream.next()
        if message["id"] is not None:
            got.append(message["id"])
    return got


def test_the_engine_delivers_each_event_once_to_every_stream_of_its_scope(stack, client, factory):
    s = stack()
    dispatcher = factory.headers("dispatcher")
    supervisor = factory.headers("supervisor")
    a = factory.unit(callsign="PP-1", point=offset(KEPANJEN, 300, 0))
    b = factory.unit(callsign="PP-2", point=offset(KEPANJEN, 900, 0))
    a_headers, b_headers = factory.unit_user(a), factory.unit_user(b)
    start = max([e.id for e in factory.events()] or [0])
    staff = [s.stream(dispatcher) for _ in range(3)]
    bosses = [s.stream(supervisor)]
    a_stream, b_stream = s.stream(a_headers), s.stream(b_headers)

    from callcenter.services import routing

    for i in range(4):
        ticket = client.post(
            "/api/v1/tickets", json=ticket_payload(summary=f"fan-out {i}"), headers=dispatcher
        ).get_json()
        factory.run(routing.route_ticket, ticket["id"])
    factory.user("dispatcher")  # a private event: supervisors only
    events = [e for e in factory.events() if e.id > start]
    last = events[-1].id

    for stream in staff:
        want = [e.id for e in events if visible(e, "staff")]
        assert ids_until(stream, want[-1]) == want
    for stream in bosses:
        assert ids_until(stream, last) == [e.id for e in events]
    for unit_id, stream in ((a, a_stream), (b, b_stream)):
        want = [e.id for e in events if visible(e, "unit", unit_id)]
        assert want, "each unit was offered a ticket"
        assert ids_until(stream, want[-1]) == want
    for stream in [*staff, *bosses, a_stream, b_stream]:
        stream.close()


def test_resume_from_an_old_id_pages_through_the_engine_and_joins_the_live_feed(
    stack, client, factory
):
    """A replay of more than a page (5 here), while new events keep coming: every event
    once, in order, then live."""
    s = stack(CALLCENTER_STREAM_REPLAY_PAGE=5)
    dispatcher = factory.headers("dispatcher")
    for i in range(12):
        client.post(
            "/api/v1/tickets", json=ticket_payload(summary=f"backlog {i}"), headers=dispatcher
        )
    stop = threading.Event()

    def keep_logging():
        i = 0
        while not stop.is_set() and i < 15:
            client.post(
                "/api/v1/tickets", json=ticket_payload(summary=f"live {i}"), headers=dispatcher
            )
            i += 1
            time.sleep(0.05)

    writer = threading.Thread(target=keep_logging)
    stream = s.stream(dispatcher, last_event_id=0)
    writer.start()
    try:
        writer.join(30)
    finally:
        stop.set()
    want = [e.id for e in factory.events() if visible(e, "staff")]
    assert ids_until(stream, want[-1]) == want
    stream.close()


def test_a_restarted_relay_publishes_what_was_committed_meanwhile(stack, client, factory, tmp_path):
    s = stack()
    dispatcher = factory.headers("dispatcher")
    stream = s.stream(dispatcher)
    client.post("/api/v1/tickets", json=ticket_payload(summary="before"), headers=dispatcher)
    first = factory.events()[-1].id
    assert ids_until(stream, first)[-1] == first
    s.relay.stop()
    for i in range(3):
        client.post("/api/v1/tickets", json=ticket_payload(summary=f"gap {i}"), headers=dispatcher)
    s.relay = StreamRelay(s.env, str(tmp_path / "relay2.log")).wait_ready()
    want = [e.id for e in factory.events() if visible(e, "staff") and e.id > first]
    assert ids_until(stream, want[-1]) == want
    stream.close()


def test_events_the_relay_never_published_are_recovered_from_the_web(
    stack, client, factory, tmp_path, app_config
):
    """The relay's mark is lost (a new Redis) while events were committed: the new relay
    starts at the newest event; the open stream learns of the gap from the next item's
    prev-id and fetches what it missed from the web, once each."""
    import redis

    s = stack()
    mark = app_config["CALLCENTER_REDIS_PREFIX"] + ":streams:published"
    conn = redis.Redis.from_url(app_config["REDIS_URL"])
    dispatcher = factory.headers("dispatcher")
    stream = s.stream(dispatcher)
    client.post("/api/v1/tickets", json=ticket_payload(summary="before"), headers=dispatcher)
    first = factory.events()[-1].id
    assert ids_until(stream, first)[-1] == first
    s.relay.stop()
    for i in range(3):
        client.post("/api/v1/tickets", json=ticket_payload(summary=f"gap {i}"), headers=dispatcher)
    newest = factory.events()[-1].id
    conn.delete(mark)
    s.relay = StreamRelay(s.env, str(tmp_path / "relay2.log")).wait_ready()
    deadline = time.monotonic() + 30
    while conn.get(mark) != str(newest).encode():  # it started at the newest event
        assert time.monotonic() < deadline, conn.get(mark)
        time.sleep(0.05)
    client.post("/api/v1/tickets", json=ticket_payload(summary="after"), headers=dispatcher)
    want = [e.id for e in factory.events() if visible(e, "staff") and e.id > first]
    assert ids_until(stream, want[-1]) == want
    stream.close()


def test_a_revoked_tokens_stream_ends_and_reconnecting_is_refused(stack, factory, client):
    s = stack()
    user = factory.user("dispatcher")
    token = factory.token(user)
    headers = {"Authorization": f"Bearer {token}"}
    other = factory.headers("dispatcher")
    stream = s.stream(headers, timeout=30)
    bystander = s.stream(other)
    assert client.delete("/api/v1/auth/tokens/current", headers=headers).status_code == 204
    with pytest.raises(EOFError):
        while True:
            stream.next()
    with pytest.raises(urllib.error.HTTPError) as refused:
        s.stream(headers)
    assert refused.value.code == 401
    # Another user's stream goes on.
    client.post("/api/v1/tickets", json=ticket_payload(), headers=other)
    assert bystander.next()["data"]["type"] == "ticket.created"
    bystander.close()


def test_the_per_user_cap_answers_429_with_retry_after(stack, factory):
    s = stack(CALLCENTER_STREAMS_PER_USER=2)
    headers = factory.headers("dispatcher")
    open_ = [s.stream(headers), s.stream(headers)]
    with pytest.raises(urllib.error.HTTPError) as refused:
        s.stream(headers)
    assert refused.value.code == 429
    assert int(refused.value.headers["Retry-After"]) >= 1
    assert refused.value.headers["Content-Type"].startswith("application/json")
    # Someone else is let in, and the API answers.
    other = factory.headers("dispatcher")
    fine = s.stream(other)
    request = urllib.request.Request(s.url + "/api/v1/auth/me", headers=other)
    assert urllib.request.urlopen(request, timeout=10).status == 200
    for stream in [*open_, fine]:
        stream.close()


def test_a_deactivated_users_streams_end(stack, factory):
    s = stack()
    unit = factory.unit(callsign="PP-9")
    user = factory.user("unit", unit_id=unit)
    headers = {"Authorization": f"Bearer {factory.token(user)}"}
    stream = s.stream(headers, timeout=30)
    from callcenter.extensions import db
    from callcenter.models import User

    factory.run(lambda: accounts.set_active(db.session.get(User, user["id"]), False))
    with pytest.raises(EOFError):
        while True:
            stream.next()


def test_an_idle_stream_gets_keepalives_and_is_recycled_then_resumes(stack, client, factory):
    """Streams end at CALLCENTER_STREAM_MAX_S (3 s here; counted from the start of the
    stream's 1 s slice); the client reconnects with Last-Event-ID and gets what happened
    meanwhile."""
    s = stack(
        CALLCENTER_STREAM_MAX_S=3, CALLCENTER_STREAM_LEASE_S=2, CALLCENTER_STREAM_KEEPALIVE_S=1
    )
    dispatcher = factory.headers("dispatcher")
    client.post("/api/v1/tickets", json=ticket_payload(summary="first"), headers=dispatcher)
    seen = factory.events()[-1].id
    request = urllib.request.Request(
        s.url + "/api/v1/events/stream", headers={**dispatcher, "Last-Event-ID": str(seen)}
    )
    response = urllib.request.urlopen(request, timeout=20)
    lines = []
    started = time.monotonic()
    while True:
        raw = response.readline()
        if not raw:
            break
        lines.append(raw.decode().rstrip("\n"))
    lasted = time.monotonic() - started
    assert ": keepalive" in lines
    assert 2 <= lasted < 15
    client.post("/api/v1/tickets", json=ticket_payload(summary="meanwhile"), headers=dispatcher)
    resumed = s.stream(dispatcher, last_event_id=seen)
    want = [e.id for e in factory.events() if e.id > seen and visible(e, "staff")]
    assert ids_until(resumed, want[-1]) == want
    resumed.close()


def test_a_tabs_reconnect_takes_over_its_stream_through_the_engine(stack, factory, client):
    s = stack(CALLCENTER_STREAMS_PER_USER=1)
    headers = factory.headers("dispatcher")
    url = s.url + "/api/v1/events/stream"
    first = Stream(url + "?client=tab1", headers, timeout=15)
    client.post("/api/v1/tickets", json=ticket_payload(), headers=headers)
    assert first.next()["data"]["type"] == "ticket.created"  # it is open and live
    second = Stream(url + "?client=tab1", headers, timeout=15)
    with pytest.raises(EOFError):
        while True:
            first.next()
    with pytest.raises(urllib.error.HTTPError) as refused:
        Stream(url + "?client=tab2", headers)
    assert refused.value.code == 429
    second.close()
