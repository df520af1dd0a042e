"""How dispatch is doing, for the console's "dispatch degraded" banner."""

from __future__ import annotations

from flask import jsonify

from ..auth.decorators import roles_required
from ..services import fallback
from . import bp
from .contract import operation
from .schemas.system import DispatchStatus


@bp.get("/dispatch/status")
@roles_required("dispatcher", "supervisor", "admin")
@operation(tag="system", ok=DispatchStatus)
def dispatch_status():
    """Whether dispatch is degraded: the broker and the workers as this web process sees
    them, and whether it routes itself when they are down."""
    return jsonify(fallback.get().status())
