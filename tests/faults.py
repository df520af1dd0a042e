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
                # shutdown() wakes a thread blocked on it and sends the FIN; close() alone
                # would leave both ends waiting.
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
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


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (``initdb`` in a temporary folder, a free
    port), so it can be restarted without disturbing anyone else's tests."""

    BIN = "/usr/lib/postgresql/15/bin"

    def __init__(self):
        import os
        import subprocess
        import tempfile

        from tests.processes import free_port

        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="cc-pg-")
        self.data = os.path.join(self.dir, "data")
        self._as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        if self._as_postgres:
            import shutil

            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-N", "-E", "UTF8")
        self.options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._subprocess = subprocess

    def _run(self, tool: str, *args: str) -> None:
        import subprocess

        command = [f"{self.BIN}/{tool}", *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True)

    def _ctl(self, action: str, *extra: str) -> None:
        self._run(
            "pg_ctl",
            "-D",
            self.data,
            "-l",
            f"{self.dir}/log",
            "-o",
            self.options,
            "-w",
            action,
            *extra,
        )

    def start(self) -> PrivatePostgres:
        self._ctl("start")
        return self

    def restart(self) -> None:
        """Stop (fast: every connection is cut) and start again."""
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        import contextlib
        import shutil

        with contextlib.suppress(Exception):
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """A redis-server of the test's own on a free port, so it can be stopped and started
    without touching anyone else's."""

    def __init__(self, folder):
        from tests.processes import free_port

        self.port = free_port()
        self.dir = folder
        self.proc = None

    def start(self) -> PrivateRedis:
        import shutil
        import subprocess

        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        from tests.system.sim import wait_for

        client = redis.Redis(port=self.port)
        wait_for(lambda: self._ping(client), timeout=10, interval=0.05)
        client.close()
        return self

    @staticmethod
    def _ping(client) -> bool:
        import redis

        try:
            return client.ping()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"
