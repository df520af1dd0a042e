"""Webhooks: deliveries from outside services, authenticated by their own signatures."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("webhooks", __name__)

from . import whatsapp  # noqa: E402,F401  (routes register on bp)
