"""Liveness for load balancers and orchestrators.

`/healthz` says only that this process answers requests: it touches no database, broker
or cache, so a slow dependency never gets a healthy web process restarted. Readiness,
which checks the dependencies, lives beside it.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")
