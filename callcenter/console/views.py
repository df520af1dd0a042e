"""Console pages. The page is one screen; its data comes from the JSON API and the stream."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, url_for
from flask_babel import get_locale
from flask_login import current_user

from ..auth.decorators import roles_required
from ..models.ticket import CHANNELS, MAX_UNITS
from ..services import catalog, catalog_settings, events
from ..services.whatsapp import outbox, settings, texts
from . import bp

INTAKE_ROLES = ("dispatcher", "supervisor")
# Admins see the console until administration has pages of its own.
CONSOLE_ROLES = ("dispatcher", "supervisor", "admin")


@bp.route("/")
@roles_required()
def index():
    """The console; ``/`` is also everyone's home, so a unit user is sent to its screen."""
    if current_user.role == "unit":
        return redirect(url_for("mdt.index"))
    if current_user.role not in CONSOLE_ROLES:
        abort(403)
    cfg = current_app.config
    locale = str(get_locale() or "id")
    page = {
        "locale": locale,
        "user": {
            "id": current_user.id,
            "username": current_user.username,
            "name": current_user.full_name or current_user.username,
            "role": current_user.role,
        },
        "canAct": current_user.role in INTAKE_ROLES,
        # How often the page asks whether dispatch is degraded (broker, workers).
        "dispatchPollS": max(1.0, min(5.0, float(cfg["CALLCENTER_SWEEP_INTERVAL_S"]) * 2)),
        "supervisor": current_user.role in ("supervisor", "admin"),
        # The stream starts here, so nothing between this page and its first load is missed.
        "lastEventId": events.last_id(),
        "categories": [
            c.to_json() | {"keywords": list(c.keywords), "label_local": c.label(locale)}
            for c in catalog_settings.categories()
            if c.intake
        ],
        # Every category's name, also those never chosen at intake (the officer in danger).
        "categoryLabels": {c.code: c.label(locale) for c in catalog.CATEGORIES},
        "resolutions": {code: label[locale] for code, label in catalog.RESOLUTIONS.items()},
        # A dispatcher logs calls; "on_view" is a unit's own (found on patrol).
        "channels": [c for c in CHANNELS if c != "on_view"],
        "wa": {
            "quickReplies": [
                {"code": code, "text": text, "label": str(label)}
                for code, (text, label) in texts.QUICK_REPLIES.items()
            ],
            "template": outbox.template_configured(),
            "auto": settings.auto(),
        },
        "settings": {
            "offerTimeoutS": cfg["CALLCENTER_OFFER_TIMEOUT_S"],
            "positionMaxAgeS": cfg["CALLCENTER_POSITION_MAX_AGE_S"],
            "onSceneTargetS": cfg["CALLCENTER_ONSCENE_TARGET_S"],
            "maxUnits": MAX_UNITS,
            "callbackMaxNoAnswer": cfg["CALLCENTER_CALLBACK_MAX_NO_ANSWER"],
            "tileUrl": cfg["CALLCENTER_TILE_URL"],
            "tileAttribution": cfg["CALLCENTER_TILE_ATTRIBUTION"],
        },
    }
    return render_template("console/index.html", page=page)
