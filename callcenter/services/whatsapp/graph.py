"""The Graph API (WhatsApp Cloud API) over HTTP: send a message, look up and download media.

Every call has a timeout. A failure is either ``Transient`` (timeouts, network errors, 5xx,
throttling: worth another attempt later) or ``Permanent`` (the request itself is wrong, or
WhatsApp refuses it for good). The Graph API's error codes are read with ``pywa.errors``,
which names each of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from flask import current_app
from pywa import errors as wa_errors

# Graph API error codes that are worth retrying besides pywa's ThrottlingError family:
# 1 "API unknown" and 2 "API service" (temporary), 131000 "something went wrong",
# 131016 "service unavailable".
_TRANSIENT_CODES = {1, 2, 131000, 131016}


class GraphError(Exception):
    """A failed Graph API call: ``code`` (Graph's error code or ``timeout``, ``http_503``,
    ...) and a message safe to show to staff (never the request's content)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message[:500]


class Transient(GraphError):
    pass


class Permanent(GraphError):
    pass


def configured() -> bool:
    cfg = current_app.config
    return bool(cfg["CALLCENTER_WA_ACCESS_TOKEN"] and cfg["CALLCENTER_WA_PHONE_NUMBER_ID"])


@contextmanager
def _client() -> Iterator[httpx.Client]:
    cfg = current_app.config
    if not configured():
        raise Permanent(
            "not_configured",
            "CALLCENTER_WA_ACCESS_TOKEN and CALLCENTER_WA_PHONE_NUMBER_ID are not set",
        )
    timeout = float(cfg["CALLCENTER_WA_HTTP_TIMEOUT_S"])
    with httpx.Client(
        base_url=cfg["CALLCENTER_WA_GRAPH_URL"].rstrip("/"),
        timeout=httpx.Timeout(timeout),
        headers={"Authorization": f"Bearer {cfg['CALLCENTER_WA_ACCESS_TOKEN']}"},
    ) as client:
        try:
            yield client
        except httpx.TimeoutException:
            raise Transient("timeout", f"no answer within {timeout:g} s") from None
        except httpx.TransportError as exc:
            raise Transient("network", type(exc).__name__) from None


def _error_for(response: httpx.Response) -> GraphError:
    """The Graph API's error answer as Transient or Permanent."""
    status = response.status_code
    try:
        body = response.json()["error"]
        error = wa_errors.WhatsAppError.from_dict(error=body, response=response)
    except (ValueError, KeyError, TypeError):
        error = None
    if error is None:
        text = f"HTTP {status}"
        return (Transient if status >= 500 or status == 429 else Permanent)(f"http_{status}", text)
    message = error.message
    if error.details:
        message = f"{message}: {error.details}"
    code = str(error.code)
    transient = (
        status >= 500
        or status == 429
        or isinstance(error, wa_errors.ThrottlingError)
        or error.code in _TRANSIENT_CODES
        or bool(error.is_transient)
    )
    return (Transient if transient else Permanent)(code, f"{type(error).__name__}: {message}")


def send_message(payload: dict) -> str:
    """POST ``/<phone number id>/messages``; WhatsApp's id of the accepted message."""
    with _client() as client:
        phone_id = current_app.config["CALLCENTER_WA_PHONE_NUMBER_ID"]
        response = client.post(f"/{phone_id}/messages", json=payload)
    if response.status_code >= 400:
        raise _error_for(response)
    try:
        return str(response.json()["messages"][0]["id"])
    except (ValueError, KeyError, IndexError, TypeError):
        raise Permanent("bad_response", "the Graph API answered without a message id") from None


def media_info(media_id: str) -> dict:
    """``GET /<media id>``: ``{url, mime_type, sha256, file_size}``."""
    with _client() as client:
        response = client.get(f"/{media_id}")
    if response.status_code >= 400:
        raise _error_for(response)
    try:
        info = response.json()
        if not isinstance(info.get("url"), str):
            raise KeyError("url")
    except (ValueError, KeyError, AttributeError):
        raise Permanent("bad_response", "the Graph API answered without a media URL") from None
    return info


class TooLarge(Exception):
    pass


def download(url: str, path: str, max_bytes: int) -> tuple[int, str]:
    """Stream the media at ``url`` into ``path``; ``(size, sha256 hex)``.

    Raises ``TooLarge`` as soon as more than ``max_bytes`` arrived (the file is left for the
    caller to remove), ``Transient``/``Permanent`` for failed requests.
    """
    digest = hashlib.sha256()
    size = 0
    with _client() as client, client.stream("GET", url, follow_redirects=True) as response:
        if response.status_code >= 400:
            response.read()
            raise _error_for(response)
        with open(path, "wb") as out:
            for chunk in response.iter_bytes(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(size)
                digest.update(chunk)
                out.write(chunk)
    return size, digest.hexdigest()
