"""The API's own description: the OpenAPI document and a page that reads it."""

from __future__ import annotations

from flask import jsonify, render_template

from . import bp
from .contract import operation
from .openapi import document
from .schemas.common import Anything


@bp.get("/openapi.json")
@operation(tag="reference", ok=Anything)
def openapi_document():
    """The OpenAPI 3.1 document of this API (public)."""
    response = jsonify(document())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/reference")
@operation(tag="reference", content="text/html")
def reference_page():
    """A readable reference built from the OpenAPI document (public, no outside files)."""
    return render_template("api/reference.html")
