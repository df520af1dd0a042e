"""A local stand-in for the Graph API (WhatsApp Cloud API), for the demo and the tests.

It answers what the app calls, the way the Cloud API does: ``POST /<phone id>/messages``
(bearer token checked, payload checked, ``{"messages": [{"id": "wamid..."}]}``),
``GET /<media id>`` and the media download, with Graph's error shape on failure. It records
every message the app sends, and, given the app's webhook URL and app secret, reports
``sent``/``delivered``/``read`` back to it with signed deliveries, as WhatsApp does.

Faults are scripted per endpoint: ``fail_next("messages", 500, "timeout", 503)`` makes the
next three calls answer 500, hang past the client's timeout, answer 503; ``("error", 131047,
400)`` answers a Graph error code. A version prefix (``/v23.0``) in paths is accepted.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable

import httpx
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from . import wa_payloads

log = logging.getLogger(__name__)
_VERSION = re.compile(r"^/v\d+(\.\d+)?(?=/)")


def graph_error(code: int, message: str, status: int = 400, details: str | None = None):
    body = {"error": {"message": message, "type": "OAuthException", "code": code}}
    if details:
        body["error"]["error_data"] = {"messaging_product": "whatsapp", "details": details}
    body["error"]["fbtrace_id"] = "SIM" + secrets.token_hex(6)
    return Response(json.dumps(body), status=status, mimetype="application/json")


class GraphStandIn:
    """The stand-in server; ``start()`` returns its base URL (``CALLCENTER_WA_GRAPH_URL``)."""

    def __init__(
        self,
        *,
        token: str,
        phone_number_id: str,
        app_secret: str | None = None,
        webhook_url: str | None = None,
        report_statuses: bool = True,
        hang_s: float = 3.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.token = token
        self.phone_number_id = phone_number_id
        self.app_secret = app_secret
        self.webhook_url = webhook_url
        self.report_statuses = report_statuses
        self.hang_s = hang_s
        self.host = host
        self.port = port
        self.sent: list[dict] = []  # each accepted message: {"wamid", "to", "payload", "at"}
        self.calls: list[tuple[str, str, int]] = []  # (method, path, status) of every request
        self.media: dict[str, dict] = {}
        self.on_message: Callable[[dict], None] | None = None
        self._faults: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        self._undeliverable: set[str] = set()
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    # --- control -------------------------------------------------------------------------

    def start(self) -> str:
        self._server = make_server(self.host, self.port, self.wsgi, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v23.0"

    def reset(self) -> None:
        with self._lock:
            self.sent.clear()
            self.calls.clear()
            self.media.clear()
            self._faults.clear()
            self._undeliverable.clear()

    def fail_next(self, endpoint: str, *answers) -> None:
        """Script the next answers of ``endpoint`` (``messages``, ``media``, ``download``):
        an HTTP status, ``"timeout"``, or ``("error", graph code, HTTP status)``."""
        with self._lock:
            self._faults[endpoint].extend(answers)

    def undeliverable(self, wa_id: str) -> None:
        """Messages to ``wa_id`` are accepted, then reported ``failed`` (131026)."""
        self._undeliverable.add(wa_id)

    def add_media(self, data: bytes, mime: str, *, declared_size: int | None = None) -> str:
        """Keep a file as WhatsApp would; its media id. ``declared_size`` lies about it."""
        media_id = str(900_000_000 + len(self.media) + 1) + secrets.token_hex(2)
        with self._lock:
            self.media[media_id] = {
                "data": data,
                "mime": mime,
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": declared_size if declared_size is not None else len(data),
            }
        return media_id

    def wait_for_sent(self, count: int, timeout: float = 20.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.sent) >= count:
                    return list(self.sent)
            time.sleep(0.05)
        raise AssertionError(f"the stand-in got {len(self.sent)} messages, expected {count}")

    def texts_to(self, wa_id: str) -> list[str]:
        """What was sent to ``wa_id``: text bodies, and a template's parameter."""
        out = []
        with self._lock:
            for item in self.sent:
                if item["to"] != wa_id:
                    continue
                payload = item["payload"]
                if payload.get("type") == "text":
                    out.append(payload["text"]["body"])
                else:
                    params = payload["template"]["components"][0]["parameters"]
                    out.append(params[0]["text"])
        return out

    # --- the server ----------------------------------------------------------------------

    def _fault(self, endpoint: str):
        with self._lock:
            queue = self._faults.get(endpoint)
            return queue.popleft() if queue else None

    def _answer_fault(self, fault) -> Response:
        if fault == "timeout":
            time.sleep(self.hang_s)
            return graph_error(131000, "Something went wrong (late)", 500)
        if isinstance(fault, tuple):
            _kind, code, status = fault
            return graph_error(code, f"Simulated error {code}", status)
        return graph_error(131000, "Something went wrong", int(fault))

    def wsgi(self, environ, start_response):
        request = Request(environ)
        path = _VERSION.sub("", request.path)
        response = self._route(request, path)
        with self._lock:
            self.calls.append((request.method, path, response.status_code))
        return response(environ, start_response)

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    def _route(self, request: Request, path: str) -> Response:
        if not self._authorised(request):
            return graph_error(190, "Invalid OAuth access token.", 401)
        parts = [p for p in path.split("/") if p]
        if request.method == "POST" and len(parts) == 2 and parts[1] == "messages":
            return self._messages(request, parts[0])
        if request.method == "GET" and len(parts) == 2 and parts[0] == "download":
            return self._download(parts[1])
        if request.method == "GET" and len(parts) == 1:
            return self._media_info(parts[0])
        return graph_error(100, "Unsupported request", 400)

    def _messages(self, request: Request, phone_id: str) -> Response:
        if phone_id != self.phone_number_id:
            return graph_error(100, f"Object with ID '{phone_id}' does not exist", 400)
        fault = self._fault("messages")
        if fault is not None:
            return self._answer_fault(fault)
        payload = request.get_json(silent=True)
        problem = _check_message(payload)
        if problem:
            return graph_error(100, "Invalid parameter", 400, problem)
        wamid = wa_payloads.new_wamid()
        item = {"wamid": wamid, "to": payload["to"], "payload": payload, "at": time.time()}
        with self._lock:
            self.sent.append(item)
        if self.report_statuses and self.webhook_url and self.app_secret:
            threading.Thread(target=self._report, args=(item,), daemon=True).start()
        if self.on_message is not None:
            threading.Thread(target=self.on_message, args=(item,), daemon=True).start()
        body = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": payload["to"], "wa_id": payload["to"]}],
            "messages": [{"id": wamid}],
        }
        return Response(json.dumps(body), mimetype="application/json")

    def _media_info(self, media_id: str) -> Response:
        fault = self._fault("media")
        if fault is not None:
            return self._answer_fault(fault)
        found = self.media.get(media_id)
        if found is None:
            return graph_error(100, f"Object with ID '{media_id}' does not exist", 400)
        body = {
            "messaging_product": "whatsapp",
            "url": f"http://{self.host}:{self.port}/download/{media_id}",
            "mime_type": found["mime"],
            "sha256": found["sha256"],
            "file_size": found["size"],
            "id": media_id,
        }
        return Response(json.dumps(body), mimetype="application/json")

    def _download(self, media_id: str) -> Response:
        fault = self._fault("download")
        if fault is not None:
            return self._answer_fault(fault)
        found = self.media.get(media_id)
        if found is None:
            return Response(status=404)
        return Response(found["data"], mimetype=found["mime"])

    def _report(self, item: dict) -> None:
        """Report the message's progress to the app as WhatsApp would, signed."""
        tracker = item["payload"].get("biz_opaque_callback_data")
        steps = ["sent", "delivered", "read"]
        error = None
        if item["to"] in self._undeliverable:
            steps = ["sent", "failed"]
            error = {
                "code": 131026,
                "title": "Message undeliverable",
                "message": "Message undeliverable",
                "error_data": {"details": "The recipient cannot receive this message."},
            }
        for step in steps:
            time.sleep(0.05)
            payload = wa_payloads.status(
                item["wamid"],
                step,
                item["to"],
                phone_number_id=self.phone_number_id,
                tracker=tracker,
                error=error if step == "failed" else None,
            )
            self.deliver(payload)

    def deliver(self, payload: dict) -> int:
        """POST a signed webhook delivery to the app; its HTTP status (0 if unreachable)."""
        body = wa_payloads.encode(payload)
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": wa_payloads.sign(body, self.app_secret or ""),
        }
        try:
            response = httpx.post(self.webhook_url, content=body, headers=headers, timeout=10)
            return response.status_code
        except httpx.HTTPError as exc:
            log.warning("stand-in could not reach the webhook: %s", exc)
            return 0


def _check_message(payload) -> str | None:
    """What is wrong with a send request, as the Cloud API would complain, or None."""
    if not isinstance(payload, dict) or payload.get("messaging_product") != "whatsapp":
        return "messaging_product must be whatsapp"
    to = payload.get("to")
    if not isinstance(to, str) or not to.isdigit():
        return "to must be a phone number"
    kind = payload.get("type")
    if kind == "text":
        body = (payload.get("text") or {}).get("body")
        if not isinstance(body, str) or not body or len(body) > 4096:
            return "text.body must be 1 to 4096 characters"
        return None
    if kind == "template":
        template = payload.get("template") or {}
        if not template.get("name") or not (template.get("language") or {}).get("code"):
            return "template.name and template.language.code are required"
        return None
    return f"type {kind!r} is not supported here"
