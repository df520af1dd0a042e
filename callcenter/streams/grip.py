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
and the web answers with what was missed: no event is lost or repeated, whether it was
committed between our read and the hand-over, or the relay missed it. Pushpin compares
the first hold with the channel's last published id; when it knows none (it restarted,
or nothing was published on that channel yet), the link asked 2 s after the hold closes
that window too. After that the link is asked every ``CALLCENTER_STREAM_LEASE_S``/2:
it renews the lease, checks the account again, and ends the stream after
``CALLCENTER_STREAM_MAX_S`` (the client reconnects and signs in again).

Links carry a signed ticket (Pushpin does not forward the client's cookies or token); each
stream's link path is its own, so Pushpin never shares one answer between two streams.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import time
from dataclasses import asdict, dataclass

from flask import Response, current_app, url_for
from flask_babel import lazy_gettext as _l
from gripcontrol import Channel, create_grip_channel_header, validate_sig
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..extensions import db
from ..models import ApiToken, User
from ..services import clock
from ..services.errors import Refused
from . import feed, registry, relay

# Asked this long after a hold that followed a read: closes the read-to-hand-over window.
HANDOVER_CHECK_S = 2


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
    started: float
    cursor: int
    subscribed: bool = False  # has Pushpin held the stream on its channels yet?

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


def open_stream(user, scope: feed.Scope, cursor: int, cred: str) -> Response:
    """Answer a new stream request: take a lease (``Refused`` over a cap), replay, hand over."""
    cfg = current_app.config
    link = Link(
        user=user.id,
        cred=cred,
        scope=scope.channel,
        stream=secrets.token_urlsafe(9),
        started=time.time(),
        cursor=cursor,
    )
    registry.admit(user.id, link.stream, float(cfg["CALLCENTER_STREAM_LEASE_S"]))
    return _answer(link, first=True)


def next_link(ticket: str, grip_last: list[str]) -> Response:
    """Answer Pushpin's request for a stream's next link: the next replay page, a recovery
    after a gap (``Grip-Last``), or the periodic check (lease, account, recycle)."""
    cfg = current_app.config
    link = load(ticket)
    if link is None:
        return _end()
    if time.time() - link.started >= float(cfg["CALLCENTER_STREAM_MAX_S"]) or not _still_valid(
        link
    ):
        registry.release(link.user, link.stream)
        return _end()
    with contextlib.suppress(Refused):  # an open stream is never cut off by the caps
        registry.admit(link.user, link.stream, float(cfg["CALLCENTER_STREAM_LEASE_S"]))
    for header in ",".join(grip_last).split(","):
        channel, _, params = header.partition(";")
        if channel.strip() == link.scope and "last-id=" in params:
            last = params.split("last-id=", 1)[1].split(";", 1)[0].strip()
            if last.isdigit():
                link.cursor = int(last)
    return _answer(link, first=False)


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
    return [f"close-user-{link.user}", f"close-{link.cred}"]


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
        # No hold: Pushpin sends this page, then asks for the next one.
        link.subscribed = False
        response.headers["Grip-Link"] = f"<{_url(link)}>; rel=next"
        return response
    lease_s = int(cfg["CALLCENTER_STREAM_LEASE_S"])
    check_s = lease_s // 2 if link.subscribed else HANDOVER_CHECK_S
    link.subscribed = True
    channels = [Channel(scope.channel, prev_id=str(prev))]
    if scope.positions:
        channels.append(Channel(feed.POSITIONS_CHANNEL))
    channels += [Channel(name) for name in close_channels(link)]
    keepalive = int(cfg["CALLCENTER_STREAM_KEEPALIVE_S"])
    response.headers["Grip-Hold"] = "stream"
    response.headers["Grip-Channel"] = create_grip_channel_header(channels)
    response.headers["Grip-Link"] = f"<{_url(link)}>; rel=next; timeout={max(1, check_s)}"
    response.headers["Grip-Keep-Alive"] = (
        f"{feed.KEEPALIVE_FRAME.decode()!s}".replace("\n", "\\n")
        + f"; format=cstring; timeout={keepalive}"
    )
    return response


def _url(link: Link) -> str:
    return url_for("api.stream_next", ticket=_sign(link))
