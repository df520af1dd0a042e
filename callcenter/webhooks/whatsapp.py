"""``GET|POST /webhooks/whatsapp``: the WhatsApp Cloud API's verification and deliveries.

A delivery is answered only after its signature was checked; nothing is stored for an
unsigned, wrongly signed, oversized or malformed one, and its content is never logged.
"""

from __future__ import annotations

import logging

from flask import Response, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from ..extensions import db
from ..services.whatsapp import webhook
from . import bp

log = logging.getLogger(__name__)


def _error(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


@bp.get("/whatsapp")
def verify():
    """Meta's subscription check: echo ``hub.challenge`` for the right verify token."""
    challenge = webhook.verify_challenge(
        request.args.get("hub.mode"),
        request.args.get("hub.verify_token"),
        request.args.get("hub.challenge"),
    )
    if challenge is None:
        log.warning("WhatsApp webhook verification refused (wrong or unset verify token)")
        return _error(403, "verification_failed", "Wrong verify token.")
    return Response(challenge, mimetype="text/plain")


@bp.post("/whatsapp")
def deliver():
    request.max_content_length = int(current_app.config["CALLCENTER_WA_MAX_BODY"])
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        log.warning(
            "WhatsApp delivery refused: body over %s bytes",
            current_app.config["CALLCENTER_WA_MAX_BODY"],
        )
        return _error(413, "payload_too_large", "The delivery is too large.")
    header = request.headers.get(webhook.SIGNATURE_HEADER)
    if not current_app.config["CALLCENTER_WA_APP_SECRET"]:
        log.error("WhatsApp delivery refused: CALLCENTER_WA_APP_SECRET is not set")
        return _error(403, "not_configured", "The WhatsApp app secret is not configured.")
    if not header:
        log.warning("WhatsApp delivery refused: no signature (%s bytes)", len(body))
        return _error(401, "signature_missing", "The X-Hub-Signature-256 header is missing.")
    if not webhook.signature_valid(body, header):
        log.warning("WhatsApp delivery refused: wrong signature (%s bytes)", len(body))
        return _error(403, "signature_invalid", "The signature does not match the body.")
    try:
        inbound, reports = webhook.parse(body)
    except webhook.Malformed as exc:
        log.warning("WhatsApp delivery refused as malformed: %s (%s bytes)", exc, len(body))
        return _error(400, "malformed", f"Not a WhatsApp Cloud API delivery: {exc}.")
    try:
        stats = webhook.ingest(inbound, reports)
    except Exception:
        db.session.rollback()
        raise
    return jsonify(stats)
