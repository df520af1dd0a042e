"""How dispatch is doing, for the console's "dispatch degraded" banner."""

from __future__ import annotations

from flask import jsonify

from ..auth.decorators import roles_required
from ..services import fallback
from . import bp


@bp.get("/dispatch/status")
@roles_required("dispatcher", "supervisor", "admin")
def dispatch_status():
    """``{degraded, broker: {ok, since?, error?}, worker: {ok, age_s?, ...}, fallback}`` as
    this web process sees them."""
    return jsonify(fallback.get().status())
