"""The dispatcher console: intake, the live board, the map and ticket detail."""

from flask import Blueprint

bp = Blueprint("console", __name__)

from . import views  # noqa: E402,F401
