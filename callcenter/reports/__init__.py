"""Reports for supervisors: the day's calls, dispositions and response times."""

from flask import Blueprint

bp = Blueprint("reports", __name__)

from . import views  # noqa: E402,F401
