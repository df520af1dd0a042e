"""Console pages. The page is one screen; its data comes from the JSON API and the stream."""

from __future__ import annotations

from flask import current_app, render_template

from ..auth.decorators import roles_required
from ..services import catalog
from . import bp


@bp.route("/")
@roles_required("dispatcher", "supervisor", "admin")
def index():
    cfg = current_app.config
    return render_template(
        "console/index.html",
        categories=catalog.CATEGORIES,
        resolutions=catalog.RESOLUTIONS,
        settings={
            "offerTimeoutS": cfg["CALLCENTER_OFFER_TIMEOUT_S"],
            "positionMaxAgeS": cfg["CALLCENTER_POSITION_MAX_AGE_S"],
            "onSceneTargetS": cfg["CALLCENTER_ONSCENE_TARGET_S"],
            "tileUrl": cfg["CALLCENTER_TILE_URL"],
            "tileAttribution": cfg["CALLCENTER_TILE_ATTRIBUTION"],
        },
    )
