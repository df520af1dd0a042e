"""URL converters: an id in a path is a whole number a 64-bit key can hold.

Werkzeug's ``int`` takes any length of digits, and a 23-digit id then fails deep in the
database driver (SQLite raises ``OverflowError``). Bounded here, such a path matches no
route: a plain 404, like any id that names nothing.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

from .services.validation import MAX_ID


class IdConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app) -> None:
    """Before any route is added: every ``<int:…>`` in a path is bounded."""
    app.url_map.converters["int"] = IdConverter
