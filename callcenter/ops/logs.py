"""Structured logs, and the request id that ties one ticket's story together.

Every web request has an id: the caller's ``X-Request-ID`` when it is a sensible one (1-64
letters, digits, ``.``, ``_``, ``-``), else a new one. The response carries it back in
``X-Request-ID``, the access log line and every log line written while the request runs
carry it, and so does each Celery task the request sends (a message header): the worker
runs the task with that id, and tasks it sends on carry it further. So
``grep <request id>`` over the web's and the worker's logs shows a ticket from intake to
its offers.

``configure()`` sets up the process's logging (JSON objects, one a line, or plain text;
``CALLCENTER_LOG_FORMAT`` / ``CALLCENTER_LOG_LEVEL``). Entry points call it, never
``create_app``: gunicorn through gunicorn.conf.py, Celery through its ``setup_logging``
signal, the CLI commands that run for long.

Personal data stays out: query strings are logged with phone numbers replaced (by name,
``phone=...``, and anything that looks like one), and callers' numbers are never logged.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import sys
import uuid
from urllib.parse import parse_qsl, urlencode

from flask import g, request

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "callcenter_request_id", default=None
)

# Query parameters never logged as they are.
SENSITIVE_PARAMS = {"phone", "caller_phone", "msisdn", "wa_id", "number", "password", "token"}
# A value with 8 or more digits among phone punctuation: a number, whatever its name.
_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]*\d(?:[\s().-]*\d){7,}[\s().-]*$")
REDACTED = "[redacted]"


def new_id() -> str:
    return uuid.uuid4().hex


def redact_query(query: str) -> str:
    """``query`` with sensitive values replaced by ``[redacted]``."""
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    clean = [
        (k, REDACTED if k.lower() in SENSITIVE_PARAMS or _PHONE_LIKE.match(v) else v)
        for k, v in pairs
    ]
    return urlencode(clean, safe="[]")


# --- the web side ----------------------------------------------------------------------------


def _start_request() -> None:
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    rid = sent if _VALID_ID.match(sent) else new_id()
    g.request_id = rid
    g.request_id_token = request_id.set(rid)


def _finish_request(response):
    rid = g.get("request_id")
    if rid:
        response.headers[REQUEST_ID_HEADER] = rid
    return response


def _teardown(_exc=None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        request_id.reset(token)


def init_app(app) -> None:
    """Give every request its id (wiring only)."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)
    app.teardown_request(_teardown)


# --- Celery: the id travels in the task's headers --------------------------------------------


def _before_publish(headers=None, **_kwargs) -> None:
    rid = request_id.get()
    if rid and headers is not None and "request_id" not in headers:
        headers["request_id"] = rid


def _task_prerun(task=None, **_kwargs) -> None:
    rid = getattr(task.request, "request_id", None) if task is not None else None
    request_id.set(rid if isinstance(rid, str) and _VALID_ID.match(rid) else None)


def _task_postrun(**_kwargs) -> None:
    request_id.set(None)


def connect_celery() -> None:
    """Carry request ids through task messages (idempotent)."""
    from celery import signals

    signals.before_task_publish.connect(_before_publish, weak=False, dispatch_uid="cc-rid-pub")
    signals.task_prerun.connect(_task_prerun, weak=False, dispatch_uid="cc-rid-pre")
    signals.task_postrun.connect(_task_postrun, weak=False, dispatch_uid="cc-rid-post")


# --- formatting ------------------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (or None) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


def log_format() -> str:
    chosen = os.environ.get("CALLCENTER_LOG_FORMAT", "").strip().lower()
    if chosen in ("json", "text"):
        return chosen
    return "json" if os.environ.get("CALLCENTER_ENV") == "production" else "text"


def formatter(kind: str | None = None) -> logging.Formatter:
    if (kind or log_format()) == "json":
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(process)d %(request_id)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False,
        )
    return logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s [%(process)d] [%(request_id)s] %(message)s"
    )


def handler(stream=None, kind: str | None = None) -> logging.Handler:
    out = logging.StreamHandler(stream or sys.stderr)
    out.setFormatter(formatter(kind))
    out.addFilter(RequestIdFilter())
    return out


def configure(level: str | int | None = None) -> None:
    """This process's logging: one handler on the root logger, in the chosen format."""
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_callcenter", False):
            root.removeHandler(old)
    out = handler()
    out._callcenter = True  # type: ignore[attr-defined]
    root.addHandler(out)
    if isinstance(level, str):
        level = level.upper()
    root.setLevel(level or os.environ.get("CALLCENTER_LOG_LEVEL", "INFO").upper())
