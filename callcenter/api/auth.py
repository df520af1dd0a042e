"""Bearer tokens: sign in with a password, revoke."""

from __future__ import annotations

from flask import current_app, g, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth.decorators import roles_required
from ..extensions import limiter
from ..services import accounts
from ..services.errors import ValidationError
from ..services.validation import Errors, unknown_fields
from . import bp, json_body


@bp.post("/auth/tokens")
@limiter.limit(lambda: current_app.config["CALLCENTER_LOGIN_RATE"])
def create_token():
    data = json_body()
    errors = Errors()
    unknown_fields(data, {"username", "password"}, errors)
    for name in ("username", "password"):
        if not isinstance(data.get(name), str) or not data[name]:
            errors.add(name, _l("Required."))
    if errors:
        raise ValidationError(_l("Send a username and a password."), fields=errors)
    user = accounts.authenticate(
        data["username"], data["password"], remote_addr=request.remote_addr, via="api"
    )
    raw, token = accounts.issue_token(user)
    return jsonify({"token": raw, "expires_at": token.expires_at, "user": user.to_json()}), 201


@bp.delete("/auth/tokens/current")
@roles_required()
def revoke_token():
    token = getattr(g, "api_token", None)
    if token is None:
        raise ValidationError(_l("Only a bearer token can be revoked here."))
    accounts.revoke_token(token)
    return "", 204


@bp.get("/auth/me")
@roles_required()
def me():
    return jsonify(current_user.to_json())
