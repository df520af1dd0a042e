"""The targets report as JSON, for dashboards that other systems run."""

from __future__ import annotations

from flask import jsonify

from ..auth.decorators import roles_required
from ..services import reports
from . import bp, serialize_reports
from .contract import operation
from .schemas.reports import Kpis, KpisQuery


@bp.get("/reports/kpis")
@roles_required("supervisor", "admin")
@operation(tag="reports", query=KpisQuery, ok=Kpis)
def report_kpis(query: KpisQuery):
    """The targets report for a range of WIB days, optionally for one sector, category,
    priority and channel."""
    filters = reports.parse_filters(query.data())
    return jsonify(serialize_reports.kpis(reports.kpis(filters)))
