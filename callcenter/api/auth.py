"""Bearer tokens: sign in with a password, revoke."""

from __future__ import annotations

from flask import current_app, g, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth.decorators import roles_required
from ..extensions import limiter
from ..services import sessions
from ..services.errors import ValidationError
from . import bp, serialize_admin
from .contract import operation
from .schemas.auth import Token, TokenRequest, User


@bp.post("/auth/tokens")
@limiter.limit(lambda: current_app.config["CALLCENTER_LOGIN_RATE"])
@operation(tag="auth", json=TokenRequest, ok=Token, status=201, errors=(401,))
def create_token(json: TokenRequest):
    """Sign in with a username and password for a bearer token (public, rate-limited)."""
    user = sessions.authenticate(
        json.username, json.password, remote_addr=request.remote_addr, via="api"
    )
    raw, token = sessions.issue_token(user)
    body = {"token": raw, "expires_at": token.expires_at, "user": serialize_admin.account(user)}
    return jsonify(body), 201


@bp.delete("/auth/tokens/current")
@roles_required()
@operation(tag="auth", status=204, revokes_credential=True)
def revoke_token():
    """Revoke the bearer token this request carries."""
    token = getattr(g, "api_token", None)
    if token is None:
        raise ValidationError(_l("Only a bearer token can be revoked here."))
    sessions.revoke_token(token)
    return "", 204


@bp.get("/auth/me")
@roles_required()
@operation(tag="auth", ok=User)
def me():
    """The signed-in user."""
    return jsonify(serialize_admin.account(current_user))
