"""Liveness and readiness for load balancers, orchestrators and operators.

`/healthz` says only that this process answers requests: it touches no database, broker
or cache, so a slow dependency never gets a healthy web process restarted.

`/readyz` checks what dispatch depends on: the database, Redis (when configured), the
broker, and the workers' heartbeat (younger than ``CALLCENTER_HEARTBEAT_MAX_AGE_S``; each
sweep a worker runs writes it). It answers each check's detail as JSON, 200 when all
pass and 503 when any fails. Each check gives up after ``CALLCENTER_PROBE_TIMEOUT_S``.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from .services import fallback, probes

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    checks = {"database": probes.database()}
    redis_check = probes.redis_server()
    if redis_check is not None:
        checks["redis"] = redis_check
    checks["broker"] = probes.broker()
    checks["worker"] = probes.worker()
    ready = all(check["ok"] for check in checks.values())
    guard = fallback.get()
    body = {
        "status": "ready" if ready else "not_ready",
        "checks": checks,
        "dispatch": "normal" if ready and guard.broker_ok() else "degraded",
    }
    response = jsonify(body)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response
