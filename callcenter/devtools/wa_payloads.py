"""WhatsApp Cloud API webhook deliveries, built and signed the way Meta sends them.

Used by ``simulate-whatsapp`` and the tests, so both speak exactly what the webhook expects:
``{"object": "whatsapp_business_account", "entry": [{"id", "changes": [{"field":
"messages", "value": {...}}]}]}`` with an ``X-Hub-Signature-256: sha256=<HMAC>`` header.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import struct
import time
import zlib

_seq = itertools.count(1)


def new_wamid() -> str:
    return f"wamid.SIM{secrets.token_hex(10)}{next(_seq)}"


def sign(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` header value for ``body``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def envelope(value: dict, phone_number_id: str, display_number: str = "62811482000") -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display_number, "phone_number_id": phone_number_id},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA-SIM", "changes": [{"field": "messages", "value": value}]}],
    }


def _message(wa_id: str, type_: str, content: dict | None, wamid: str | None, at) -> dict:
    message = {
        "from": wa_id,
        "id": wamid or new_wamid(),
        "timestamp": str(int(at if at is not None else time.time())),
        "type": type_,
    }
    if content is not None:
        message[type_] = content
    return message


def inbound(
    wa_id: str,
    name: str | None,
    type_: str,
    content: dict | None,
    *,
    phone_number_id: str,
    wamid: str | None = None,
    at: float | None = None,
) -> dict:
    """A delivery with one message of ``type_`` from ``wa_id`` (digits, no plus)."""
    contacts = [{"profile": {"name": name}, "wa_id": wa_id}] if name else [{"wa_id": wa_id}]
    return envelope(
        {"contacts": contacts, "messages": [_message(wa_id, type_, content, wamid, at)]},
        phone_number_id,
    )


def text(wa_id, name, body, **kw) -> dict:
    return inbound(wa_id, name, "text", {"body": body}, **kw)


def location(wa_id, name, lat, lon, place_name=None, address=None, **kw) -> dict:
    content = {"latitude": lat, "longitude": lon}
    if place_name:
        content["name"] = place_name
    if address:
        content["address"] = address
    return inbound(wa_id, name, "location", content, **kw)


def media(wa_id, name, kind, media_id, mime, *, caption=None, sha256=None, filename=None, **kw):
    content = {"id": media_id, "mime_type": mime}
    if sha256:
        content["sha256"] = sha256
    if caption:
        content["caption"] = caption
    if filename:
        content["filename"] = filename
    if kind == "audio":
        content["voice"] = True
    return inbound(wa_id, name, kind, content, **kw)


def status(
    wamid: str,
    status_: str,
    recipient: str,
    *,
    phone_number_id: str,
    tracker: str | None = None,
    error: dict | None = None,
    at: float | None = None,
) -> dict:
    """A delivery report (sent, delivered, read, failed) for one outgoing message."""
    report = {
        "id": wamid,
        "status": status_,
        "timestamp": str(int(at if at is not None else time.time())),
        "recipient_id": recipient,
    }
    if status_ in ("sent", "delivered", "read"):
        report["conversation"] = {"id": "CONV-SIM", "origin": {"type": "service"}}
        report["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "service"}
    if tracker:
        report["biz_opaque_callback_data"] = tracker
    if error:
        report["errors"] = [error]
    return envelope({"statuses": [report]}, phone_number_id)


def encode(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def png(width: int = 32, height: int = 24, rgb=(200, 40, 40)) -> bytes:
    """A small solid-colour PNG (a "photo of the scene" for the simulator)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
