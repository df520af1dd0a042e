"""The audit view in the API: events filtered and paged, and their CSV export."""

from __future__ import annotations

import csv
import io
from itertools import islice

from flask import Response, current_app, jsonify

from ..auth.decorators import roles_required
from ..extensions import db
from ..services import audit, clock
from . import bp
from . import serialize_admin as serialize
from .contract import operation
from .schemas.audit import AuditPage, AuditQuery

READERS = ("admin", "supervisor")


@bp.get("/audit")
@roles_required(*READERS)
@operation(tag="audit", query=AuditQuery, ok=AuditPage)
def audit_page(query: AuditQuery):
    """A page of the audit trail, newest first; `next` is the `before` of the next (older)
    page."""
    filters = audit.parse(query.data())
    rows, next_cursor = audit.page(filters)
    names = audit.names(rows)
    return jsonify({"events": [serialize.audit_event(e, names) for e in rows], "next": next_cursor})


def csv_response(filters: audit.Filters) -> Response:
    """Every matching event as CSV (UTF-8 with a BOM, so spreadsheets read the names),
    streamed in batches. The generator runs after the view returned, in an app context of
    its own (it needs no request)."""
    app = current_app._get_current_object()

    def generate():
        with app.app_context():
            out = io.StringIO()
            writer = csv.writer(out)
            out.write("\ufeff")
            writer.writerow(serialize.AUDIT_CSV_COLUMNS)
            rows = audit.iterate(filters)
            try:
                while batch := list(islice(rows, 1000)):
                    names = audit.names(batch)
                    for event in batch:
                        writer.writerow(serialize.audit_csv_row(event, names))
                    yield out.getvalue()
                    out.seek(0)
                    out.truncate()
                if out.getvalue():
                    yield out.getvalue()
            finally:
                db.session.remove()

    stamp = clock.to_wib(clock.now()).strftime("%Y%m%d-%H%M")
    return Response(
        generate(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )


@bp.get("/audit.csv")
@roles_required(*READERS)
@operation(tag="audit", query=AuditQuery, content="text/csv")
def audit_csv(query: AuditQuery):
    """Every matching event as CSV (UTF-8 with a byte order mark, times in WIB), newest
    first; `limit` does not apply."""
    return csv_response(audit.parse(query.data()))
