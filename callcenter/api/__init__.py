"""The JSON API (v1): the contract in DESIGN.md, for the unit app, integrations and our pages."""

from __future__ import annotations

import contextlib
import logging

from flask import Blueprint, g, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from ..extensions import db
from ..services.errors import ServiceError, ValidationError

bp = Blueprint("api", __name__)
log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    503: "unavailable",
}


def error_response(status: int, code: str, message, fields: dict | None = None):
    body = {"code": code, "message": str(message)}
    if fields:
        body["fields"] = {k: str(v) for k, v in fields.items()}
    response = jsonify({"error": body})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="callcenter110"'
    return response


@bp.before_request
def _refuse_nul_in_query():
    """No query parameter means a NUL character, and PostgreSQL cannot compare one."""
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            return error_response(
                422,
                "validation_failed",
                _l("Invalid query parameters."),
                {name.replace("\x00", ""): _l("Must not contain the NUL character.")},
            )
    return None


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    db.session.rollback()
    response = error_response(exc.status, exc.code, exc.message, exc.fields)
    if getattr(exc, "retry_after", None):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


@bp.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError):
    return error_response(
        400, "csrf_failed", _l("The page's security token is missing or old. Reload the page.")
    )


@bp.errorhandler(RateLimitExceeded)
def _rate_limited(exc):
    return error_response(429, "rate_limited", _l("Too many requests. Wait a moment."))


@bp.errorhandler(OperationalError)
def _database_unavailable(exc: OperationalError):
    """The database went away (restarting, failing over): nothing was changed; say when to
    try again. A retried ``POST /tickets`` with its ``Idempotency-Key`` never makes two."""
    with contextlib.suppress(Exception):
        db.session.rollback()
    if "_login_user" not in g:
        # Who is asking cannot be read either: answer as to a stranger (in the language the
        # request asks for) rather than wait on the database again for their setting.
        from ..extensions import login_manager

        g._login_user = login_manager.anonymous_user()
    log.warning("database unavailable: %s", exc.orig if exc.orig is not None else exc)
    response = error_response(
        503, "database_unavailable", _l("The database is not answering. Try again in a moment.")
    )
    response.headers["Retry-After"] = "1"
    return response


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return error_response(exc.code or 500, _HTTP_CODES.get(exc.code, "error"), exc.description)


def json_body() -> dict:
    """The request's JSON object, or a 400 naming what is wrong with it."""
    if not request.is_json:
        raise ServiceError(
            _l("Send a JSON body (Content-Type: application/json)."), code="invalid_json"
        )
    from ..services.validation import find_nul

    try:
        data = request.get_json(silent=True)
    except RecursionError:  # thousands of nested brackets: not a body anyone means
        raise ServiceError(_l("The body is not valid JSON."), code="invalid_json") from None
    if data is None:
        raise ServiceError(_l("The body is not valid JSON."), code="invalid_json")
    if not isinstance(data, dict):
        raise ValidationError(_l("The request body must be a JSON object."))
    where = find_nul(data)
    if where:
        raise ValidationError(
            _l("The request was not accepted."),
            fields={where: _l("Must not contain the NUL character.")},
        )
    return data


def page_args() -> tuple[int, int | None]:
    """``limit`` (1..500, default 100) and ``after`` (an id cursor) from the query string."""
    from ..services.validation import Errors, whole_number

    errors = Errors()
    limit, after = 100, None
    raw = request.args.get("limit")
    if raw is not None:
        if not whole_number(raw) or not 1 <= int(raw) <= 500:
            errors.add(
                "limit", _l("Must be a whole number from %(low)s to %(high)s.", low=1, high=500)
            )
        else:
            limit = int(raw)
    raw = request.args.get("after")
    if raw is not None:
        if not whole_number(raw):
            errors.add("after", _l("Must be a whole number."))
        else:
            after = int(raw)
    if errors:
        raise ValidationError(_l("Invalid query parameters."), fields=errors)
    return limit, after


from .contract import check_error_body  # noqa: E402

bp.after_request(check_error_body)

from . import (  # noqa: E402,F401
    admin,
    assignments,
    audit,
    auth,
    eido,
    events,
    followups,
    reference,
    reports,
    system,
    tickets,
    units,
    wa,
)
