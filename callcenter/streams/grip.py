"""Production streams: Pushpin holds the connection; the web answers short requests (GRIP).

A stream request reaches the web through Pushpin. The web authenticates it, takes a lease
(``registry``), and answers with the events missed since ``Last-Event-ID``:

- more than a page missed: the page, and a ``Grip-Link`` to the next one. Pushpin sends
  the page and asks for the next when the client has taken it in, so a replay from an old
  id is read in pages, at the client's pace;
- caught up: the rest, then ``Grip-Hold: stream`` on the scope's channel (``staff``,
  ``supervisor`` or ``unit-<id>``) with ``prev-id`` = the newest event of that channel
  the client now has, ``positions`` for staff, and a close channel per credential.

The web replays no further than the relay has published (``relay.published_upto``);
the relay publishes each event with its ``id`` and the ``prev-id`` of the channel's
previous event. When an item's ``prev-id`` is not what a connection last got, Pushpin
drops it and asks the ``Grip-Link`` again with ``Grip-Last: <channel>; last-id=<id>``,
and the web answers with what was missed: no event is lost or repeated when the relay
missed events or the engine dropped some. An event committed between our read and the
hand-over is covered twice by Pushpin: on a channel others already hold, the first hold's
``prev-id`` is compared with the channel's last published id and the link is asked when
they differ; a channel nobody held before is a new subscription, after which Pushpin asks
the link again (1 s later), and the answer brings what was published meanwhile.

Pushpin asks the links of held streams through a limiter of 10 a second in all, one ask
covering up to 100 streams with the same link, and a stream waiting for its answer holds
back its items. It also asks after every new channel subscription (1 s later). So a held
stream's link is shared: ``/events/stream/held/<when its slice of time began>``; the answer
rebuilds the stream's channels from ``Grip-Last`` (its close channels carry ``prev-id=0``
so that they are named there). It is asked for recoveries, after new subscriptions, and
once at ``CALLCENTER_STREAM_MAX_S``, when the answer ends the stream (the client reconnects
and signs in again). A replay's pages use a signed link of the stream's own. A stream's
lease lasts its whole life (``registry``); ends come through close channels: one per user
and per credential (see ``feed.close_keys``) and one per stream (another stream of the
same browser tab took over its lease).

Pushpin does not forward the client's cookies or token on links: a page link carries a
signed ticket, and every link is answered only for a valid ``Grip-Sig``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
import time
from dataclasses import asdict, dataclass

from flask import Response, current_app, url_for
from flask_babel import lazy_gettext as _l
from gripcontrol import Channel, create_grip_channel_header, validate_sig
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pubcontrol import PubControlClient

from ..extensions import db
from ..models import ApiToken, User
from ..services import clock
from ..services.errors import Refused
from ..services.validation import whole_number
from . import feed, registry, relay


def grip_key(app=None) -> str:
    """The key Pushpin signs ``Grip-Sig`` with (its ``sig_key``)."""
    cfg = (app or current_app).config
    if cfg["CALLCENTER_GRIP_KEY"]:
        return cfg["CALLCENTER_GRIP_KEY"]
    secret = cfg["SECRET_KEY"].encode()
    return hmac.new(secret, b"callcenter-grip-sig", hashlib.sha256).hexdigest()


def from_engine(headers) -> bool:
    """Whether a request came through our push engine (a valid ``Grip-Sig``)."""
    token = headers.get("Grip-Sig")
    return bool(token) and validate_sig(token, grip_key())


def not_through_engine() -> Refused:
    return Refused(
        _l("Live screens connect through the push engine; this address serves no streams."),
        retry_after=30,
        status=503,
        code="streams_elsewhere",
    )


@dataclass
class Link:
    """What a stream's next link carries (signed)."""

    user: int
    cred: str  # the close key of the credential: token-<id> or session-<sid>
    scope: str  # the scope's channel
    stream: str
    member: str  # the stream's lease (registry)
    started: float
    cursor: int

    @property
    def token_id(self) -> int | None:
        return int(self.cred[6:]) if self.cred.startswith("token-") else None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="cc-stream-link")


def _sign(link: Link) -> str:
    return _serializer().dumps(asdict(link))


def load(ticket: str) -> Link | None:
    """The link behind a signed ticket, or None when forged or too old."""
    cfg = current_app.config
    max_age = float(cfg["CALLCENTER_STREAM_MAX_S"]) + float(cfg["CALLCENTER_STREAM_LEASE_S"])
    try:
        return Link(**_serializer().loads(ticket, max_age=max_age))
    except (BadSignature, TypeError):
        return None


def lease_s() -> float:
    """A handed-over stream's lease lasts as long as the stream may."""
    cfg = current_app.config
    return float(cfg["CALLCENTER_STREAM_MAX_S"]) + float(cfg["CALLCENTER_STREAM_LEASE_S"])


def open_stream(
    user, scope: feed.Scope, cursor: int, cred: str, client: str | None = None
) -> Response:
    """Answer a new stream request: take a lease (``Refused`` over a cap), replay, hand over.
    A stream from the same ``client`` key (a browser tab) ends that client's previous one."""
    stream_id = secrets.token_urlsafe(9)
    link = Link(
        user=user.id,
        cred=cred,
        scope=scope.channel,
        stream=stream_id,
        member=registry.member_for(client, stream_id),
        started=time.time(),
        cursor=cursor,
    )
    replaced = registry.admit(user.id, link.member, link.stream, lease_s())
    if replaced:
        publish_close(f"close-stream-{replaced}", secrets.token_hex(6))
    return _answer(link, first=True)


def publish_close(channel: str, item_id: str) -> None:
    """End the streams held on ``channel`` (best effort: they end at their age anyway)."""
    body = json.dumps({"items": [feed.close_item(channel, item_id)]})
    try:
        PubControlClient(current_app.config["CALLCENTER_PUSHPIN_PUBLISH_URL"]).http_call(
            "/publish/", body.encode(), {"Content-Type": "application/json"}
        )
    except Exception as exc:  # the engine is down: nothing to close there
        current_app.logger.warning("stream close not published: %s", exc)


def next_page(ticket: str) -> Response:
    """Answer Pushpin's request for the next page of a replay (a link of its own)."""
    link = load(ticket)
    if link is None or _expired(link.started) or not _still_valid(link):
        if link is not None:
            registry.release(link.user, link.member, link.stream)
        return _end()
    return _answer(link, first=False)


def slice_s() -> int:
    """Streams that begin in the same slice of time share their held link: a tenth of the
    maximum age, at most a minute. A stream lives between the maximum less a slice and the
    maximum."""
    return int(max(1, min(60, float(current_app.config["CALLCENTER_STREAM_MAX_S"]) // 10)))


def held(since: int, grip_last: list[str]) -> Response:
    """Answer Pushpin's request on a held stream's link (shared by every stream that began
    in the same slice of time, so Pushpin asks it for up to 100 streams at once): a
    recovery after a gap, the check after a new subscription, or the end at the maximum
    age. The stream's channels come back from ``Grip-Last``."""
    last = _parse_grip_last(grip_last)
    scope_channel = next((c for c in last if not c.startswith("close-")), None)
    user = next((c[11:] for c in last if c.startswith("close-user-")), None)
    stream = next((c[13:] for c in last if c.startswith("close-stream-")), None)
    cred = next((c[6:] for c in last if c.startswith(("close-token-", "close-session-"))), None)
    if None in (scope_channel, user, stream, cred) or not whole_number(user):
        return _end()
    link = Link(
        user=int(user),
        cred=cred,
        scope=scope_channel,
        stream=stream,
        member="",
        started=float(since),
        cursor=int(last[scope_channel]),
    )
    if _expired(link.started) or not _still_valid(link):
        return _end()
    return _answer(link, first=False)


def _parse_grip_last(headers: list[str]) -> dict[str, str]:
    out = {}
    for header in ",".join(headers).split(","):
        channel, _, params = header.partition(";")
        if "last-id=" in params:
            value = params.split("last-id=", 1)[1].split(";", 1)[0].strip()
            if whole_number(value):
                out[channel.strip()] = value
    return out


def _expired(started: float) -> bool:
    # Asked early, a stream gets another hold with the time it has left.
    return time.time() - started >= float(current_app.config["CALLCENTER_STREAM_MAX_S"])


def _still_valid(link: Link) -> bool:
    """The account is active and, for a token, the token is neither revoked nor expired."""
    try:
        active = db.session.scalar(db.select(User.is_active_flag).where(User.id == link.user))
        if not active:
            return False
        if link.token_id is not None:
            token = db.session.get(ApiToken, link.token_id)
            if token is None or token.revoked_at is not None or token.expires_at <= clock.now():
                return False
        return True
    finally:
        db.session.remove()


def _end() -> Response:
    """An empty answer without instructions: Pushpin ends the client's stream."""
    return Response(b"", mimetype="text/event-stream")


def close_channels(link: Link) -> list[str]:
    return [f"close-user-{link.user}", f"close-{link.cred}", f"close-stream-{link.stream}"]


def _answer(link: Link, *, first: bool) -> Response:
    cfg = current_app.config
    scope = feed.scope_from_channel(link.scope)
    page = int(cfg["CALLCENTER_STREAM_REPLAY_PAGE"])
    try:
        entries, reached = feed.read(
            link.cursor, limit=page, scope=scope, upto=relay.published_upto()
        )
        more = len(entries) == page
        prev = entries[-1].id if entries else feed.last_in_scope(scope, before=reached + 1)
    finally:
        db.session.remove()
    link.cursor = reached
    body = (feed.RETRY_FRAME if first else b"") + b"".join(e.frame for e in entries)
    response = Response(body, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    if more:
        # No hold: Pushpin sends this page, then asks this stream's own link for the next.
        page_url = url_for("api.stream_next", ticket=_sign(link))
        response.headers["Grip-Link"] = f"<{page_url}>; rel=next"
        return response
    channels = [Channel(scope.channel, prev_id=str(prev))]
    if scope.positions:
        channels.append(Channel(feed.POSITIONS_CHANNEL))
    channels += [Channel(name, prev_id="0") for name in close_channels(link)]
    response.headers["Grip-Hold"] = "stream"
    response.headers["Grip-Channel"] = create_grip_channel_header(channels)
    # Asked again (unless a recovery asks sooner) when the stream reaches its maximum age,
    # counted from the start of its slice of time (streams of one slice share the link).
    max_s = float(cfg["CALLCENTER_STREAM_MAX_S"])
    since = int(link.started // slice_s() * slice_s())
    remaining = since + max_s - time.time()
    held_url = url_for("api.stream_held", since=since)
    response.headers["Grip-Link"] = (
        f"<{held_url}>; rel=next; timeout={max(1, math.ceil(remaining))}"
    )
    keepalive = int(cfg["CALLCENTER_STREAM_KEEPALIVE_S"])
    comment = feed.KEEPALIVE_FRAME.decode().replace("\n", "\\n")
    response.headers["Grip-Keep-Alive"] = f"{comment}; format=cstring; timeout={keepalive}"
    return response
