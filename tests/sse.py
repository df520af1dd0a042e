"""Reading a server-sent event stream over real HTTP in tests."""

from __future__ import annotations

import json
import time
import urllib.request


class Stream:
    """A server-sent event stream read line by line (each read waits at most ``timeout``)."""

    def __init__(self, url: str, headers: dict, timeout: float = 20):
        self.timeout = timeout
        request = urllib.request.Request(url, headers={"Accept": "text/event-stream", **headers})
        self.response = urllib.request.urlopen(request, timeout=timeout)
        assert self.response.status == 200
        assert self.response.headers["Content-Type"].startswith("text/event-stream")

    def next(self) -> dict:
        """The next message with data: ``{"id", "event", "data"}``; comments are skipped.
        Fails when none comes within ``timeout`` (keepalive comments do not count)."""
        fields: dict = {}
        deadline = time.monotonic() + self.timeout
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError("no event arrived in time")
            raw = self.response.readline()
            if not raw:
                raise EOFError("the stream ended")
            line = raw.decode().rstrip("\r\n")
            if not line:
                if "data" in fields:
                    return {
                        "id": int(fields["id"]) if "id" in fields else None,
                        "event": fields.get("event"),
                        "data": json.loads(fields["data"]),
                    }
                fields = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value

    def take(self, n: int) -> list[dict]:
        return [self.next() for _ in range(n)]

    def close(self) -> None:
        self.response.close()
