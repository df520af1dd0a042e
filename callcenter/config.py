"""Configuration: the embedded defaults, then the environment, then the caller's override.

Every tunable of the dispatch logic is a ``CALLCENTER_*`` setting; the environment variable of
the same name overrides it, converted to the type of its default.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

AUDIT_MIN_DAYS = 365
DEFAULT_SECRET_KEY = "insecure-development-key-change-me"  # noqa: S105  (refused in production)
# argon2id parameter sets (argon2-cffi's profiles) a new password hash may use.
ARGON2_PROFILES = ("rfc9106-low-memory", "rfc9106-high-memory", "cheapest")


class Defaults:
    """The embedded defaults: one machine, SQLite, no servers."""

    SECRET_KEY = DEFAULT_SECRET_KEY
    DATABASE_URL = ""  # empty: a SQLite file in the instance folder
    REDIS_URL = ""  # empty: the embedded broker, SQL locator, polling wake-ups

    # "development" or "production"; production refuses the default secret key.
    CALLCENTER_ENV = "development"

    # Dispatch.
    CALLCENTER_OFFER_TIMEOUT_S = 45
    CALLCENTER_POSITION_MAX_AGE_S = 180
    CALLCENTER_SEARCH_RADIUS_KM = 25.0
    CALLCENTER_MAX_OFFERS = 5
    CALLCENTER_ESCALATE_QUEUED_S = 60  # priority 1-2 tickets queued longer than this
    CALLCENTER_ONSCENE_TARGET_S = 600  # Polri target: at the scene within 10 minutes
    CALLCENTER_ANSWER_TARGET_S = 10  # Polri target: a 110 call answered within 10 s
    CALLCENTER_PROCESSING_TARGET_S = 60  # NFPA 1225: answer to a unit dispatched (accepted)
    CALLCENTER_SWEEP_INTERVAL_S = 2.0
    CALLCENTER_STUCK_NEW_S = 5  # a ticket still "new" after this is re-routed by the sweep
    CALLCENTER_GEO_RECONCILE_S = 10
    CALLCENTER_ETA_CAR_KMH = 40.0
    CALLCENTER_ETA_MOTORCYCLE_KMH = 35.0
    CALLCENTER_ETA_FUNCTION = "callcenter.services.geo:estimate_eta_s"
    CALLCENTER_EMERGENCY_UNITS = 2  # units sent to an officer who pressed the emergency button
    CALLCENTER_EMERGENCY_FOLLOW_M = 25  # the emergency's location follows moves of this size

    # Intake.
    CALLCENTER_DUPLICATE_RADIUS_M = 300
    CALLCENTER_DUPLICATE_WINDOW_S = 1800
    CALLCENTER_CALLER_HISTORY_DAYS = 30
    CALLCENTER_PRANK_FLAG_MIN = 2  # earlier prank calls that flag a number
    CALLCENTER_SUMMARY_MAX = 2000
    CALLCENTER_ADDRESS_MAX = 300
    CALLCENTER_ATTACH_CLOSED_S = 24 * 3600  # a call may join a ticket closed this recently
    # A unit reads a ticket it cleared for this long afterwards (to finish its report).
    CALLCENTER_UNIT_TICKET_GRACE_S = 3600

    # Hand-offs to other agencies and call-backs (services/handoffs.py, callbacks.py).
    CALLCENTER_HANDOFF_ACK_S = 120  # a hand-off not acknowledged within this is escalated
    CALLCENTER_CALLBACK_DUE_S = 300  # a silent or dropped call is called back within this
    CALLCENTER_CALLBACK_MAX_NO_ANSWER = 3  # tries without an answer before the task closes
    CALLCENTER_CLOCK_SKEW_S = 30  # a phone system's clock this far ahead is taken as now
    CALLCENTER_CALL_MAX_AGE_S = 24 * 3600  # received_at / answered_at no older than this

    # Sign-in.
    # The argon2id parameters of new password hashes (one of ARGON2_PROFILES). RFC 9106's
    # low-memory set (64 MiB, 3 passes) is the library's recommendation; "cheapest" is for
    # test suites only and refused in production. A stored hash made with other parameters
    # is made again at its owner's next sign-in.
    CALLCENTER_ARGON2_PROFILE = "rfc9106-low-memory"
    CALLCENTER_TOKEN_TTL_S = 12 * 3600
    CALLCENTER_SESSION_IDLE_MIN = 60
    CALLCENTER_SESSION_MAX_H = 12.0  # a page session ends after this however active (a shift)
    # Per username and client address: after this many failures, a delay of LOCKOUT_S that
    # doubles with every further failure, up to LOCKOUT_MAX_S.
    CALLCENTER_LOCKOUT_FAILURES = 5
    CALLCENTER_LOCKOUT_S = 600
    CALLCENTER_LOCKOUT_MAX_S = 24 * 3600
    CALLCENTER_HSTS_S = 365 * 24 * 3600  # Strict-Transport-Security max-age over HTTPS
    CALLCENTER_LOGIN_RATE = "20/minute"
    CALLCENTER_PROXY_HOPS = 0  # set to 1 behind one reverse proxy

    # Live streams (callcenter/streams/).
    CALLCENTER_STREAMS = "embedded"  # "embedded": in-process broadcaster; "pushpin": push engine
    CALLCENTER_PUSHPIN_PUBLISH_URL = "http://127.0.0.1:5561"  # the engine's publish endpoint
    CALLCENTER_GRIP_KEY = ""  # the engine's sig_key; empty: derived from SECRET_KEY
    CALLCENTER_STREAM_POLL_S = 0.25  # without Redis, how often the feed looks for events
    CALLCENTER_STREAM_KEEPALIVE_S = 5  # also how soon a stream notices its client left
    CALLCENTER_STREAM_MAX_S = 600  # a stream ends after this; the client reconnects
    CALLCENTER_STREAMS_PER_USER = 3  # open streams per user (429 beyond)
    CALLCENTER_STREAMS_MAX = 5000  # open streams in all (503 beyond)
    # Embedded: streams one web process holds (503 beyond); 0 = 3/4 of GUNICORN_THREADS, so
    # the other threads always answer API calls.
    CALLCENTER_STREAMS_PER_PROCESS = 0
    CALLCENTER_STREAM_REPLAY_PAGE = 200  # events per page of a replay from an old id
    CALLCENTER_STREAM_LEASE_S = 60  # push engine: a stream not renewed for this long is gone
    CALLCENTER_POSITIONS_TICK_S = 1.0  # positions are coalesced and sent once per tick
    CALLCENTER_REDIS_PREFIX = "cc"
    CALLCENTER_QUEUE = "callcenter"
    CALLCENTER_BROKER_URL = ""  # empty: REDIS_URL, or the SQLite broker file
    CALLCENTER_RESULT_BACKEND = ""  # empty: no results are stored (only benchmarks read any)

    # Faults (callcenter/services/fallback.py, /readyz).
    CALLCENTER_BROKER_TIMEOUT_S = 0.1  # a publish waits no longer on a hung broker
    CALLCENTER_REDIS_TIMEOUT_S = 0.1  # nor a request on a hung Redis (wake-ups, limits)
    CALLCENTER_PROBE_TIMEOUT_S = 0.5  # each check of /readyz
    # Check each API answer against its declared schema (a mismatch answers 500): for tests.
    CALLCENTER_CHECK_RESPONSES = False
    CALLCENTER_HEARTBEAT_MAX_AGE_S = 15  # workers silent longer: dispatch degraded; 0: not checked
    CALLCENTER_DISPATCH_FALLBACK = True  # web processes route while broker or workers fail

    # Retention (callcenter/services/retention.py), run by beat every RETENTION_EVERY_S.
    CALLCENTER_RETENTION_EVERY_S = 3600
    CALLCENTER_RETENTION_POSITIONS_DAYS = 30  # breadcrumbs (unit_positions)
    CALLCENTER_RETENTION_IDEMPOTENCY_H = 24  # Idempotency-Key records
    CALLCENTER_RETENTION_THROTTLE_H = 24  # sign-in throttle rows with no lockout in force
    CALLCENTER_RETENTION_TOKENS_H = 24  # API tokens this long past their expiry
    CALLCENTER_RETENTION_SIGN_IN_EVENTS_DAYS = 365  # failed sign-ins, lockouts (>= 365)
    CALLCENTER_RETENTION_EVENTS_DAYS = 0  # every other audit event; 0: forever (else >= 365)

    # WhatsApp Center (Cloud API). Without an app secret every webhook delivery is refused.
    CALLCENTER_WA_VERIFY_TOKEN = ""  # the webhook's verify token, as typed in Meta's app dashboard
    CALLCENTER_WA_APP_SECRET = ""  # the app secret: deliveries are signed with it
    CALLCENTER_WA_ACCESS_TOKEN = ""  # a system user's token for the Graph API
    CALLCENTER_WA_PHONE_NUMBER_ID = ""  # the business number's id (not the number itself)
    CALLCENTER_WA_GRAPH_URL = "https://graph.facebook.com/v23.0"
    CALLCENTER_WA_HTTP_TIMEOUT_S = 10.0
    CALLCENTER_WA_MAX_BODY = 3 * 1024 * 1024  # Meta's largest webhook payload
    CALLCENTER_WA_MEDIA_MAX_BYTES = 16 * 1024 * 1024
    CALLCENTER_WA_MEDIA_TYPES = (
        "image/jpeg,image/png,image/webp,audio/ogg,audio/mpeg,audio/aac,audio/mp4,audio/amr,"
        "video/mp4,video/3gpp,application/pdf"
    )
    CALLCENTER_WA_MEDIA_DIR = ""  # empty: wa-media/ in the instance folder (shared by all hosts)
    CALLCENTER_WA_IDLE_CLOSE_H = 24.0  # a thread with nothing waiting closes after this
    CALLCENTER_WA_FLOOD_PER_MIN = 20  # messages from one number per minute before the flag
    CALLCENTER_WA_SEND_ATTEMPTS = 5  # Graph API attempts (timeouts, 5xx) before "failed"
    CALLCENTER_WA_RETRY_BASE_S = 2.0  # backoff: base, 2 x base, 4 x base, ...
    CALLCENTER_WA_SWEEP_S = 2.0  # automatic updates, retries due, idle threads
    # Outside the 24-hour window only an approved template may be sent; its one body
    # parameter carries the text.
    CALLCENTER_WA_TEMPLATE_NAME = ""
    CALLCENTER_WA_TEMPLATE_LANG = "id"
    CALLCENTER_WA_CENTER_NAME = "Call Center 110"  # how automatic updates sign
    CALLCENTER_WA_AUTO_ACK = True  # answer the first message (and give the ticket number)
    CALLCENTER_WA_AUTO_EN_ROUTE = True  # "petugas menuju lokasi" when a unit accepts
    CALLCENTER_WA_AUTO_CLOSED = True  # "laporan selesai" when the ticket closes

    # EIDO exchange with other centers (NENA-STA-021; services/eido/). The center's agency
    # id, globally unique: a domain name it owns (e.g. 110.polresmalang.id); every id in the
    # documents it issues ends with it.
    CALLCENTER_EIDO_AGENCY_ID = "callcenter110.polri.invalid"
    CALLCENTER_EIDO_MAX_BYTES = 1024 * 1024  # a document received (MAX_CONTENT_LENGTH elsewhere)

    # Operations (callcenter/ops/). /metrics: readable with this bearer token; empty: only
    # from this host, straight to the web (not through a proxy).
    CALLCENTER_METRICS_TOKEN = ""
    # Logs: "json" (one object a line) or "text"; empty: json in production, else text.
    CALLCENTER_LOG_FORMAT = ""
    CALLCENTER_LOG_LEVEL = "INFO"

    # Map tiles for the console; empty shows markers on a plain background.
    CALLCENTER_TILE_URL = ""
    CALLCENTER_TILE_ATTRIBUTION = ""

    BABEL_DEFAULT_LOCALE = "id"
    BABEL_DEFAULT_TIMEZONE = "Asia/Jakarta"
    LANGUAGES = ("id", "en")

    MAX_CONTENT_LENGTH = 64 * 1024
    SESSION_COOKIE_SECURE = False  # True: the cookie only over HTTPS (also set over HTTPS)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "cc110_session"
    WTF_CSRF_CHECK_DEFAULT = False  # checked by auth.csrf_guard, which exempts bearer tokens
    WTF_CSRF_TIME_LIMIT = None
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    JSON_SORT_KEYS = False


def _convert(value: str, default: Any) -> Any:
    if isinstance(default, bool):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    return value


def normalise_database_url(url: str) -> str:
    """Accept the usual URL forms and pick the drivers we ship (psycopg 3 for PostgreSQL)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def sqlite_path(url: str) -> str | None:
    """The file of a ``sqlite:///path`` URL (absolute, or relative to the working
    directory), or None for another database or an in-memory one."""
    for prefix in ("sqla+sqlite:///", "sqlite:///"):
        if url.startswith(prefix):
            path = url[len(prefix) :].split("?", 1)[0]
            return os.path.abspath(path) if path and path != ":memory:" else None
    return None


def embedded_broker_url(database_uri: str, instance_path: str) -> str:
    """The embedded broker's file sits beside its database: ``callcenter.sqlite`` has
    ``callcenter.broker.sqlite``, so two instances with two databases never share one.
    With PostgreSQL and no Redis it goes in the instance folder."""
    path = sqlite_path(database_uri)
    if path is None:
        return "sqla+sqlite:///" + os.path.join(instance_path, "broker.sqlite")
    stem, _ = os.path.splitext(path)
    return "sqla+sqlite:///" + stem + ".broker.sqlite"


def load(app, override: dict | None = None) -> None:
    """Fill ``app.config``: defaults, then the environment, then ``override``."""
    app.config.from_object(Defaults)
    for key in dir(Defaults):
        if key.isupper() and key in os.environ:
            app.config[key] = _convert(os.environ[key], getattr(Defaults, key))
    if override:
        app.config.update(override)

    cfg = app.config
    url = cfg["DATABASE_URL"] or "sqlite:///" + os.path.join(app.instance_path, "callcenter.sqlite")
    cfg["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
    cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    else:
        # connect_timeout: a database host that drops packets (failing over, a cut link)
        # fails a connection in seconds instead of holding a request, or /readyz, for minutes.
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_pre_ping": True,
            "pool_size": 10,
            "connect_args": {"connect_timeout": 5},
        }

    if not cfg["CALLCENTER_BROKER_URL"]:
        cfg["CALLCENTER_BROKER_URL"] = cfg["REDIS_URL"] or embedded_broker_url(
            cfg["SQLALCHEMY_DATABASE_URI"], app.instance_path
        )
    cfg["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=cfg["CALLCENTER_SESSION_IDLE_MIN"])
    cfg["SESSION_REFRESH_EACH_REQUEST"] = True
    cfg["RATELIMIT_STORAGE_URI"] = cfg["REDIS_URL"] or "memory://"
    cfg["RATELIMIT_KEY_PREFIX"] = cfg["CALLCENTER_REDIS_PREFIX"] + ":rl"
    cfg["RATELIMIT_HEADERS_ENABLED"] = True
    # The last minute counted exactly: a fixed window lets a burst across its edge through
    # at twice the limit.
    cfg["RATELIMIT_STRATEGY"] = "moving-window"
    # A hung Redis costs a sign-in at most the timeout; then limits are counted in memory
    # until Redis answers again.
    redis_timeout = float(cfg["CALLCENTER_REDIS_TIMEOUT_S"])
    from .redis_policy import no_retry

    cfg["RATELIMIT_STORAGE_OPTIONS"] = {
        "socket_connect_timeout": redis_timeout,
        "socket_timeout": redis_timeout,
        "retry": no_retry(),
    }
    cfg["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = bool(cfg["REDIS_URL"])
    # With Redis down, sign-in still works; the per-username lockout lives in the database.
    cfg["RATELIMIT_SWALLOW_ERRORS"] = True

    if not cfg["CALLCENTER_STREAMS_PER_PROCESS"]:
        threads = int(os.environ.get("GUNICORN_THREADS", "64"))
        cfg["CALLCENTER_STREAMS_PER_PROCESS"] = max(1, threads * 3 // 4)
    if cfg["CALLCENTER_STREAMS"] not in ("embedded", "pushpin"):
        raise RuntimeError("CALLCENTER_STREAMS must be 'embedded' or 'pushpin'")
    if cfg["CALLCENTER_STREAMS"] == "pushpin" and not cfg["REDIS_URL"]:
        raise RuntimeError("CALLCENTER_STREAMS=pushpin needs REDIS_URL (leases and wake-ups)")

    for key in ("CALLCENTER_RETENTION_SIGN_IN_EVENTS_DAYS", "CALLCENTER_RETENTION_EVENTS_DAYS"):
        if cfg[key] and cfg[key] < AUDIT_MIN_DAYS:
            raise RuntimeError(f"{key} keeps audit events {AUDIT_MIN_DAYS} days at least (or 0)")

    if cfg["CALLCENTER_ENV"] == "production" and cfg["SECRET_KEY"] == DEFAULT_SECRET_KEY:
        raise RuntimeError("SECRET_KEY must be set in production (CALLCENTER_ENV=production)")
    if cfg["CALLCENTER_ARGON2_PROFILE"] not in ARGON2_PROFILES:
        raise RuntimeError(f"CALLCENTER_ARGON2_PROFILE must be one of {ARGON2_PROFILES}")
    if cfg["CALLCENTER_ENV"] == "production" and cfg["CALLCENTER_ARGON2_PROFILE"] == "cheapest":
        raise RuntimeError("CALLCENTER_ARGON2_PROFILE=cheapest is for tests, not production")
