"""The targets report: the page (charts and the same figures in tables, printable for the
Kapolres) and the CSV of the tickets behind any figure."""

from __future__ import annotations

from flask import Response, render_template, request, stream_with_context

from ..auth.decorators import roles_required
from ..models.ticket import CHANNELS
from ..services import catalog, reports, units
from ..services.errors import ValidationError
from ..services.reports import export
from . import bp

ROLES = ("supervisor", "admin")


def _choices() -> dict:
    return {
        "sectors": units.list_sectors(),
        "categories": catalog.CATEGORIES,
        "channels": CHANNELS,
        "priorities": (1, 2, 3, 4),
    }


@bp.route("/")
@roles_required(*ROLES)
def index():
    try:
        filters = reports.parse_filters(request.args)
    except ValidationError as exc:
        return (
            render_template(
                "reports/index.html",
                error=exc,
                args=request.args,
                figures=None,
                filters=None,
                **_choices(),
            ),
            422,
        )
    return render_template(
        "reports/index.html",
        error=None,
        args=request.args,
        figures=reports.kpis(filters),
        filters=filters,
        **_choices(),
    )


@bp.route("/tickets.csv")
@roles_required(*ROLES)
def tickets_csv():
    try:
        filters = reports.parse_filters(request.args)
        figure = export.check_figure(request.args.get("figure"))
    except ValidationError as exc:
        fields = "; ".join(f"{k}: {v}" for k, v in (exc.fields or {}).items())
        return Response(f"{exc.message} {fields}\n", status=422, mimetype="text/plain")
    name = f"110-{filters.start_day.isoformat()}-{filters.end_day.isoformat()}-{figure}"
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in name) + ".csv"
    return Response(
        stream_with_context(export.csv_lines(filters, figure)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
