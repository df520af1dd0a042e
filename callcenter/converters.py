"""URL converters: an id in a path is a whole number a 64-bit key can hold.

Werkzeug's ``int`` takes any length of digits, and a 23-digit id then fails deep in the
database driver (SQLite raises ``OverflowError``). Bounded here, such a path matches no
route: a plain 404, like any id that names nothing.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

from .services.validation import MAX_ID

# At most 18 digits: a longer number matches no route at all (a 404 whatever the method).
# Bounding by value instead would let werkzeug answer 405 for a method the path's other
# routes take, once the converter refuses the value.
PATH_ID_MAX = 10**18 - 1


class IdConverter(IntegerConverter):
    regex = r"\d{1,18}"

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", min(MAX_ID, PATH_ID_MAX))
        super().__init__(map, *args, **kwargs)


def init_app(app) -> None:
    """Before any route is added: every ``<int:…>`` in a path is bounded."""
    app.url_map.converters["int"] = IdConverter
