"""Faults on demand for tests and benchmarks: a TCP server that accepts connections and
never answers (a hung host, a black-holed route), which can also pass traffic through to
a real server, so one address can hang and recover."""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class HangingProxy:
    """Listens on 127.0.0.1:``port``. While ``hung`` it accepts and never answers (nor
    reads); otherwise it forwards each new connection to ``target`` (host, port).
    ``hang()`` also freezes the connections already open, as a stalled server would."""

    def __init__(self, target: tuple[str, int] | None = None, *, hung: bool = True):
        self.target = target
        self.hung = hung
        self.server = socket.create_server(("127.0.0.1", 0), backlog=512)
        self.port = self.server.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.held: list[socket.socket] = []
        self.frozen = threading.Event()
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def hang(self) -> None:
        self.hung = True
        self.frozen.set()

    def recover(self) -> None:
        """Pass traffic again; connections frozen while hung are dropped (as after a
        network failure), new ones go through."""
        self.hung = False
        self.frozen.clear()
        with self.lock:
            for conn in self.held:
                with contextlib.suppress(OSError):
                    conn.close()
            self.held.clear()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with self.lock:
                self.held.append(conn)
            if not self.hung and self.target is not None:
                threading.Thread(target=self._forward, args=(conn,), daemon=True).start()

    def _forward(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        with self.lock:
            self.held.append(upstream)
        upstream.settimeout(None)

        def pump(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    while self.frozen.is_set():  # hung: bytes stop flowing
                        time.sleep(0.05)
                        if self.closed:
                            return
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    with contextlib.suppress(OSError):
                        s.close()

        threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
        pump(upstream, client)

    def close(self) -> None:
        self.closed = True
        self.frozen.clear()
        with contextlib.suppress(OSError):
            self.server.close()
        self.recover()
