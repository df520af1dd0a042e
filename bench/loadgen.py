"""A small asyncio HTTP/1.1 client for the benchmarks: keep-alive requests and SSE readers,
so hundreds of streams and hundreds of requests a second fit in one process."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlsplit


class HttpError(Exception):
    pass


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict]:
    status_line = await reader.readline()
    if not status_line:
        raise HttpError("connection closed")
    status = int(status_line.split()[1])
    headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


async def _read_body(reader: asyncio.StreamReader, headers: dict) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                return body
            body += await reader.readexactly(size)
            await reader.readline()
    length = int(headers.get("content-length", "0"))
    return await reader.readexactly(length) if length else b""


def _request_bytes(method: str, host: str, path: str, headers: dict, body: bytes | None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    for name, value in headers.items():
        lines.append(f"{name}: {value}")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


class Client:
    """One keep-alive connection; requests on it run one at a time."""

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.reader = self.writer = None
        self.lock = asyncio.Lock()

    async def request(
        self, method: str, path: str, *, token: str | None = None, body=None
    ) -> tuple[int, dict]:
        async with self.lock:
            for attempt in (1, 2):
                try:
                    if self.writer is None:
                        self.reader, self.writer = await asyncio.open_connection(
                            self.host, self.port
                        )
                    headers = {"Accept": "application/json"}
                    data = None
                    if token:
                        headers["Authorization"] = f"Bearer {token}"
                    if body is not None:
                        headers["Content-Type"] = "application/json"
                        data = json.dumps(body).encode()
                    self.writer.write(
                        _request_bytes(method, f"{self.host}:{self.port}", path, headers, data)
                    )
                    status, response_headers = await _read_head(self.reader)
                    raw = await _read_body(self.reader, response_headers)
                    if response_headers.get("connection", "").lower() == "close":
                        self.close()
                    return status, (json.loads(raw) if raw else {})
                except (HttpError, ConnectionError, asyncio.IncompleteReadError):
                    self.close()
                    if attempt == 2:
                        raise
        raise HttpError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class SSEReader:
    """A live stream: notes when each event id arrives; hands chosen events to a callback."""

    def __init__(self, base_url: str, token: str, *, on_event=None):
        self.base_url, self.token, self.on_event = base_url, token, on_event
        self.arrivals: dict[int, float] = {}
        self.positions = 0
        self.connected = asyncio.Event()
        self.status: int | None = None
        self.reconnects = 0

    async def run(self, stop: asyncio.Event) -> None:
        parts = urlsplit(self.base_url)
        last_id = None
        while not stop.is_set():
            try:
                reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
            except OSError:
                await asyncio.sleep(0.5)
                continue
            headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
            if last_id is not None:
                headers["Last-Event-ID"] = str(last_id)
            writer.write(
                _request_bytes(
                    "GET", f"{parts.hostname}:{parts.port}", "/api/v1/events/stream", headers, None
                )
            )
            try:
                self.status, response_headers = await _read_head(reader)
                if self.status != 200:
                    await _read_body(reader, response_headers)
                    writer.close()
                    await asyncio.sleep(1)
                    continue
                self.connected.set()
                chunked = response_headers.get("transfer-encoding", "").lower() == "chunked"
                last_id = await self._consume(reader, chunked, last_id, stop)
            except (HttpError, ConnectionError, asyncio.IncompleteReadError, ValueError):
                pass
            writer.close()
            self.reconnects += 1

    async def _consume(self, reader, chunked: bool, last_id, stop) -> int | None:
        buffer = b""
        event_id = None
        event_name = None
        while not stop.is_set():
            if chunked:
                size_line = await reader.readline()
                if not size_line:
                    return last_id
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    return last_id
                data = await reader.readexactly(size)
                await reader.readline()
            else:
                data = await reader.read(65536)
                if not data:
                    return last_id
            arrived = time.time()
            buffer += data
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if line.startswith(b"id: "):
                    event_id = int(line[4:])
                elif line.startswith(b"event: "):
                    event_name = line[7:]
                elif line.startswith(b"data: "):
                    if event_name == b"positions":
                        self.positions += 1
                    elif event_id is not None:
                        self.arrivals.setdefault(event_id, arrived)
                        last_id = event_id
                        if self.on_event is not None and b'"assignment.offered"' in line:
                            self.on_event(json.loads(line[6:]))
                elif not line:
                    event_id = event_name = None
        return last_id
