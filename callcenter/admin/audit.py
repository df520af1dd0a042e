"""The audit view: the full history of a ticket, a unit or a user, filtered and paged,
read-only, with its CSV export."""

from __future__ import annotations

from flask import render_template, request

from ..api import serialize_admin as serialize
from ..api.audit import csv_response
from ..auth.decorators import roles_required
from ..services import audit
from ..services.errors import ServiceError
from . import bp
from .common import READERS


@bp.get("/audit")
@roles_required(*READERS)
def audit_page():
    error = None
    try:
        filters = audit.parse(request.args)
    except ServiceError as exc:
        error = exc
        filters = audit.Filters()
        rows, next_cursor = [], None
    else:
        rows, next_cursor = audit.page(filters)
    names = audit.names(rows)
    return render_template(
        "admin/audit.html",
        events=[serialize.audit_event(e, names) for e in rows],
        next_cursor=next_cursor,
        filters=filters,
        subject=audit.subject(filters),
        error=error,
        args=request.args,
    ), (422 if error else 200)


@bp.get("/audit.csv")
@roles_required(*READERS)
def audit_csv():
    return csv_response(audit.parse(request.args))
