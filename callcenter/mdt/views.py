"""The unit's screen: one page, phone first; its data comes from the JSON API and stream."""

from __future__ import annotations

from flask import current_app, render_template

from ..auth.decorators import roles_required
from ..services import catalog
from . import bp


@bp.route("/")
@roles_required("unit")
def index():
    return render_template(
        "mdt/index.html",
        resolutions=catalog.RESOLUTIONS,
        decline_reasons=catalog.DECLINE_REASONS,
        settings={"positionMaxAgeS": current_app.config["CALLCENTER_POSITION_MAX_AGE_S"]},
    )
