"""Security headers on every response.

The pages load scripts, styles, fonts and images from this origin only (their data travels
in ``<script type="application/json">`` blocks, which are not executed), and map tiles from
the tile server when one is set. No page may be framed.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request


def _origin(url: str) -> str | None:
    """The origin of a tile URL template such as ``https://{s}.tile.example/{z}/{x}/{y}.png``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.replace("{s}", "*")
    if "{" in host:
        return None
    return f"{parts.scheme}://{host}"


def content_security_policy(tile_url: str = "") -> str:
    images = ["'self'", "data:", "blob:"]
    tiles = _origin(tile_url) if tile_url else None
    if tiles:
        images.append(tiles)
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src {' '.join(images)}",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def _headers(response):
    cfg = current_app.config
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy", content_security_policy(cfg["CALLCENTER_TILE_URL"])
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure and cfg["CALLCENTER_HSTS_S"]:
        headers.setdefault("Strict-Transport-Security", f"max-age={int(cfg['CALLCENTER_HSTS_S'])}")
    return response


def init_app(app) -> None:
    app.after_request(_headers)
