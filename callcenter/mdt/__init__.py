"""The unit's screen (mobile data terminal): offers, the job, status and position sharing."""

from flask import Blueprint

bp = Blueprint("mdt", __name__)

from . import views  # noqa: E402,F401
