"""The targets report as JSON, for dashboards that other systems run."""

from __future__ import annotations

from flask import jsonify, request

from ..auth.decorators import roles_required
from ..services import reports
from . import bp, serialize_reports


@bp.get("/reports/kpis")
@roles_required("supervisor", "admin")
def report_kpis():
    filters = reports.parse_filters(request.args)
    return jsonify(serialize_reports.kpis(reports.kpis(filters)))
