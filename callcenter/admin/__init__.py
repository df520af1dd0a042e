"""Administration pages: users, units and their crews, Polsek sectors, the catalog's local
defaults, and the audit view. Admins change everything; supervisors read, create
dispatcher and unit accounts and units, set crews on duty and unlock accounts."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__)

from . import audit, fleet, users  # noqa: E402,F401  (routes register on bp)
