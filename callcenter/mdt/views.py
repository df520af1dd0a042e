"""The unit's screen: one page, phone first; its data comes from the JSON API and stream."""

from __future__ import annotations

from flask import abort, current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from ..auth.decorators import roles_required
from ..models.ticket import MAX_UNITS
from ..services import catalog, catalog_settings, units
from ..services.errors import NotFound
from . import bp, strings


@bp.route("/")
@roles_required("unit")
def index():
    try:
        unit = units.unit_of(current_user)
    except NotFound:
        abort(404)
    locale = str(get_locale() or "id")
    cfg = current_app.config
    settings = {
        "positionMaxAgeS": cfg["CALLCENTER_POSITION_MAX_AGE_S"],
        "offerTimeoutS": cfg["CALLCENTER_OFFER_TIMEOUT_S"],
        "maxUnits": MAX_UNITS,
    }
    script = {
        "locale": locale,
        "api": request.script_root + "/api/v1",
        "loginUrl": url_for("auth.login", next=url_for("mdt.index")),
        "unit": {"id": unit.id, "callsign": unit.callsign, "name": unit.name},
        "settings": settings,
        "resolutions": [
            {"code": code, "label": label.get(locale, label["id"])}
            for code, label in catalog.RESOLUTIONS.items()
        ],
        "declineReasons": [
            {"code": code, "label": label.get(locale, label["id"])}
            for code, label in catalog.DECLINE_REASONS.items()
        ],
        "strings": strings.for_script(),
    }
    return render_template(
        "mdt/index.html",
        unit=unit,
        # What a unit may log when it finds an incident: categories that send units.
        onview_categories=[
            c
            for c in catalog_settings.categories()
            if c.dispatch and c.intake and not c.handoff_only
        ],
        max_units=MAX_UNITS,
        resolutions=catalog.RESOLUTIONS,
        decline_reasons=catalog.DECLINE_REASONS,
        settings=settings,
        script=script,
    )
