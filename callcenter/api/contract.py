"""The API as a contract: one pydantic declaration per request and response drives request
validation, the response check and the OpenAPI 3.1 document (``GET /api/v1/openapi.json``).

spectree, because it decorates the views we have: routing, the blueprint's error handlers,
role checks and streams stay Flask's, and a view only gains ``@operation(...)`` and a typed
``json``/``query`` argument. (flask-openapi3 and apiflask replace the blueprint and its error
handling; flask-smorest brings marshmallow beside the pydantic we already need.)

- Requests: the declared ``query`` and ``json`` models parse the request before the view
  runs; a failure is the API's 422 (``fields`` named as the API names them, messages in the
  request's language) and the view never runs.
- Responses: the declared model of the answer's status checks the body when
  ``CALLCENTER_CHECK_RESPONSES`` is on (the test suite): a body that breaks its schema
  becomes a 500 there, so every test is a conformance test. In production the check is off:
  a dispatcher's screen must not fail over a documentation slip, and it costs CPU.
- The document: spectree's, completed with what it cannot know: roles, error answers,
  ``Idempotency-Key``, the streams' event types and our path converters' bounds.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import flask
from flask import current_app, request
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError
from spectree import Response, SpecTree
from spectree.plugins.base import Context
from spectree.plugins.flask_plugin import FlaskPlugin
from spectree.utils import get_multidict_items, is_list_item

from ..services.errors import ValidationError
from .schemas.common import Error

log = logging.getLogger(__name__)

JSON = "application/json"


# pydantic's error types, in the words the API has always used (lazy: read in the request's
# language).
_MESSAGES = {
    "missing": _l("Required."),
    "extra_forbidden": _l("Unknown field."),
    "string_type": _l("Must be text."),
    "string_too_short": _l("Required."),
    "int_type": _l("Must be a whole number."),
    "int_parsing": _l("Must be a whole number."),
    "int_from_float": _l("Must be a whole number."),
    "float_type": _l("Must be a number."),
    "float_parsing": _l("Must be a number."),
    "finite_number": _l("Must be a number."),
    "bool_type": _l("Must be true or false."),
    "bool_parsing": _l("Must be true or false."),
    "dict_type": _l("Must be an object."),
    "model_type": _l("Must be an object."),
    "model_attributes_type": _l("Must be an object."),
    "list_type": _l("Must be a list."),
    "date_from_datetime_parsing": _l("A date (YYYY-MM-DD)."),
    "date_parsing": _l("A date (YYYY-MM-DD)."),
    "date_type": _l("A date (YYYY-MM-DD)."),
    "datetime_parsing": _l("An ISO 8601 time with its offset."),
    "datetime_from_date_parsing": _l("An ISO 8601 time with its offset."),
    "datetime_type": _l("An ISO 8601 time with its offset."),
    "timezone_aware": _l("An ISO 8601 time with its offset."),
}


def _message(error: dict):
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "string_too_long":
        return _l("At most %(n)s characters.", n=ctx.get("max_length"))
    if kind == "too_long":
        return _l("At most %(n)s items.", n=ctx.get("max_length"))
    if kind == "too_short":
        return _l("At least %(n)s items.", n=ctx.get("min_length"))
    if kind in ("greater_than_equal", "greater_than"):
        return _l("Must be at least %(n)s.", n=ctx.get("ge", ctx.get("gt")))
    if kind in ("less_than_equal", "less_than"):
        return _l("Must be at most %(n)s.", n=ctx.get("le", ctx.get("lt")))
    if kind in ("literal_error", "enum"):
        return _l("Must be one of: %(choices)s.", choices=ctx.get("expected", ""))
    if kind == "string_pattern_mismatch":
        return _l("Not in the expected format.")
    if kind == "value_error":  # our own validators raise ValueError with a translated text
        return str(ctx.get("error") or error.get("msg"))
    return _MESSAGES.get(kind, _l("Invalid value."))


_UNION_MEMBER = re.compile(
    r"^(int|str|float|bool|none|list|dict|constrained-\w+|function-.*|[\w-]+\[.*\])$"
)


def fields_of(exc: PydanticError) -> dict:
    """``{"location.lat": "Must be a number."}``: the first problem of each field."""
    fields: dict = {}
    for error in exc.errors(include_url=False, include_input=False):
        # A union reports once per member ("int", "constrained-str", "function-after[...]"):
        # the field is what counts.
        loc = [str(p) for p in error["loc"] if not _UNION_MEMBER.match(str(p))]
        name = ".".join(loc)
        fields.setdefault(name, _message(error))
    return fields


def _json_object() -> dict:
    """The body as a JSON object, through the blueprint's one reader (400 on bad JSON)."""
    from . import json_body

    return json_body()


class _Plugin(FlaskPlugin):
    """spectree's Flask plugin, answering in the API's error shape and checking responses
    only where the configuration asks."""

    def request_validation(self, request, query, json, form, headers, cookies):
        parsed_query = parsed_json = None
        if query is not None:
            items = get_multidict_items(request.args, query)
            repeated = {
                name: _l("Give this parameter once.")
                for name in request.args
                if len(request.args.getlist(name)) > 1 and not is_list_item(name, query)
            }
            if repeated:
                raise ValidationError(_l("Invalid query parameters."), fields=repeated)
            try:
                parsed_query = query.model_validate(items)
            except PydanticError as exc:
                raise ValidationError(
                    _l("Invalid query parameters."), fields=fields_of(exc)
                ) from None
        if json is not None:
            optional = getattr(json, "__body_optional__", False)
            data = {} if optional and not request.get_data() else _json_object()
            try:
                parsed_json = json.model_validate(data)
            except PydanticError as exc:
                raise ValidationError(
                    _l("The request was not accepted."), fields=fields_of(exc)
                ) from None
        request.context = Context(parsed_query, parsed_json, None, None, None)

    def validate_response(self, resp, resp_model, skip_validation, force_resp_serialize):
        if not current_app.config.get("CALLCENTER_CHECK_RESPONSES") or resp_model is None:
            return flask.make_response(resp), None
        response = flask.make_response(resp)
        if response.is_streamed or response.mimetype != JSON:
            return response, None
        declared = {int(code[5:]) for code in resp_model.code_models} | {
            int(code[5:]) for code in resp_model.codes
        }
        if response.status_code < 400 and response.status_code not in declared:
            log.error(
                "undeclared status %s: %s %s", response.status_code, request.method, request.path
            )
            return flask.make_response({"undeclared_status": response.status_code}, 500), True
        return super().validate_response(response, resp_model, False, False)


def _after(req, resp, resp_validation_error, instance, model_adapter=None):
    if resp_validation_error is not None:
        log.error(
            "response of %s %s breaks its schema: %s",
            req.method,
            req.path,
            resp.get_data(as_text=True)[:2000],
        )


spec = SpecTree(
    "flask",
    backend=_Plugin,
    mode="strict",
    after=_after,
    validation_error_status=422,
    validation_error_model=Error,
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
    title="Call Center 110 API",
    version="1",
    description=(
        "The JSON API of Call Center 110: intake, dispatch, units, follow-ups, the WhatsApp "
        'Center and administration. Errors answer `{"error": {"code", "message", '
        '"fields"}}` in the request\'s language (`Accept-Language: id` or `en`).'
    ),
)


def operation(
    *,
    tag: str,
    query: type[BaseModel] | None = None,
    json: type[BaseModel] | None = None,
    ok: type[BaseModel] | None = None,
    status: int = 200,
    also: dict[int, type[BaseModel] | None] | None = None,
    errors: Iterable[int] = (),
    idempotent: bool = False,
    content: str | None = None,
    headers: dict[str, str] | None = None,
    described_body: type[BaseModel] | None = None,
    revokes_credential: bool = False,
):
    """Declare an API operation: ``query``/``json`` parse the request; ``ok`` is the body of
    ``status`` (``None``: no body); ``also`` more successful answers; ``errors`` the error
    statuses it may answer besides 401/403/422/429 (always documented); ``idempotent`` that it
    honours ``Idempotency-Key``; ``content`` a media type other than JSON (a stream, a file);
    ``headers`` request headers it reads (name: description); ``described_body`` a body that
    is documented but read leniently by the view (a button that must never be refused);
    ``revokes_credential`` that a success makes the caller's own credential invalid."""
    codes: dict = {f"HTTP_{status}": None if content else ok}
    for code, model in (also or {}).items():
        codes[f"HTTP_{code}"] = model

    def decorate(view):
        wrapped = spec.validate(
            query=query, json=json, resp=Response(**codes), tags=[tag], operation_id=view.__name__
        )(view)
        wrapped.contract = {
            "errors": tuple(errors),
            "idempotent": idempotent,
            "content": content,
            "status": status,
            "headers": dict(headers or {}),
            "described_body": described_body,
            "revokes_credential": revokes_credential,
        }
        return wrapped

    return decorate


def reference_error(status: int) -> dict:
    return {
        "description": _ERROR_TEXT.get(status, "Error"),
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_ERROR_TEXT = {
    400: "The body is not JSON, or a query parameter is malformed.",
    401: "No valid bearer token or session.",
    403: "The caller's role may not do this.",
    404: "No such resource.",
    409: "The resource's state does not allow this now.",
    413: "The body is too large.",
    422: "The request was not accepted: `fields` names each problem.",
    429: "Too many requests: try again after `Retry-After` seconds.",
    503: "A part the system needs is not answering: try again after `Retry-After` seconds.",
}


def check_error_body(response):
    """In the test suite, every API error answer must be the declared error shape."""
    if (
        response.status_code >= 400
        and response.mimetype == JSON
        and current_app.config.get("CALLCENTER_CHECK_RESPONSES")
    ):
        try:
            Error.model_validate_json(response.get_data())
        except PydanticError:
            log.error("error answer breaks its schema: %s", response.get_data(as_text=True))
            return flask.make_response({"error_shape_broken": True}, 500)
    return response


__all__ = ["check_error_body", "operation", "spec"]
