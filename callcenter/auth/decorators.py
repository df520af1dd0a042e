"""Role checks, on the server, for pages and the API."""

from __future__ import annotations

from functools import wraps

from flask import abort, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..services.errors import Forbidden, Unauthorized


def roles_required(*roles: str):
    """Only signed-in users with one of ``roles`` get through.

    API endpoints answer 401/403 in the JSON error shape; pages send a stranger to sign in
    and answer 403 to a signed-in user of the wrong role.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if request.blueprint == "api":
                    raise Unauthorized(_l("Sign in first: send a valid bearer token."))
                from ..extensions import login_manager

                return login_manager.unauthorized()
            if roles and current_user.role not in roles:
                if request.blueprint == "api":
                    raise Forbidden(_l("Your role may not do this."))
                abort(403)
            return view(*args, **kwargs)

        wrapped.roles = roles
        return wrapped

    return decorator
