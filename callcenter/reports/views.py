"""Supervisor reports."""

from __future__ import annotations

from flask import render_template, request

from ..auth.decorators import roles_required
from ..services import reports
from . import bp


@bp.route("/")
@roles_required("supervisor", "admin")
def index():
    day = reports.parse_day(request.args.get("day"))
    return render_template("reports/index.html", report=reports.daily(day), day=day)
