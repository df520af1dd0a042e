"""Real processes for tests and benchmarks: Celery workers and gunicorn, each in its own
process group, configured through the environment exactly as in production."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import typing

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def process_env(app_config: dict, **extra) -> dict:
    """The environment for a subprocess that must see the same configuration."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith("CALLCENTER_") or k in ("DATABASE_URL", "REDIS_URL"))
    }
    for key, value in {**app_config, **extra}.items():
        env[key] = str(value)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class ProcessGroup:
    """A subprocess in a process group of its own (``self.proc``), writing to ``self.log``.

    ``stop()`` asks the whole group to end (SIGTERM) and kills it if it is still there after
    15 s. To stop several at once, ``terminate()`` each and then ``stop()`` each: their
    graceful shutdowns then overlap instead of adding up."""

    proc: subprocess.Popen
    log: typing.IO[bytes]

    def terminate(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)

    def stop(self) -> None:
        self.terminate()
        self._wait_or_kill(15)

    def _wait_or_kill(self, timeout: float) -> None:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        self.log.close()


def stop_all(*groups: ProcessGroup) -> None:
    """Stop several processes at once (their shutdowns overlap)."""
    for group in groups:
        group.terminate()
    for group in groups:
        group.stop()


class Worker(ProcessGroup):
    """A Celery worker (optionally with beat) in its own process group."""

    def __init__(
        self,
        env: dict,
        log_path: str,
        *,
        concurrency: int = 2,
        beat: bool = True,
        name: str = "w1",
        schedule: str | None = None,
        cwd: str = ROOT,
        extra_args: tuple = (),
    ):
        """``schedule``: beat's schedule file (default: beside the log; "" for the app's
        own); ``cwd``: the working directory (the project is put on PYTHONPATH)."""
        self.log_path = log_path
        args = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "wsgi.celery_app",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            str(concurrency),
            "--pool",
            "prefork",
            "--hostname",
            f"{name}-{os.getpid()}@%h",
            "--without-mingle",
            "--without-gossip",
        ]
        if beat:
            args += ["--beat"]
            if schedule != "":
                args += ["--schedule", schedule or log_path + ".beat"]
        args += list(extra_args)
        if cwd != ROOT:
            env = {**env, "PYTHONPATH": ROOT}
        self.log = open(log_path, "ab")  # noqa: SIM115  (closed in stop)
        self.proc = subprocess.Popen(
            args,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> Worker:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                if b" ready." in f.read():
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited:\n{self.tail()}")
            time.sleep(0.1)
        raise TimeoutError(f"worker not ready:\n{self.tail()}")

    def tail(self, n: int = 60) -> str:
        with open(self.log_path, "rb") as f:
            return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")

    def children(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True, check=False
        ).stdout
        return [int(p) for p in out.split()]

    def terminate(self, sig=None) -> None:
        """Warm shutdown (SIGTERM to the main process), or ``sig`` to the whole group."""
        if self.proc.poll() is None:
            if sig is None:
                self.proc.send_signal(signal.SIGTERM)
            else:
                os.killpg(self.proc.pid, sig)

    def stop(self, sig=None) -> None:
        """``terminate(sig)``; the group is killed if it is still there after 10 s."""
        self.terminate(sig)
        self._wait_or_kill(10)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


class WebServer(ProcessGroup):
    """The web part under gunicorn (gthread), as in production, in its own process group."""

    def __init__(
        self,
        env: dict,
        log_path: str,
        port: int,
        *,
        workers: str | None = "2",
        threads: str | None = "16",
    ):
        """``workers``/``threads`` None: as gunicorn.conf.py sets them."""
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(log_path, "ab")  # noqa: SIM115  (closed in stop)
        env = dict(env)
        if workers is not None:
            env["GUNICORN_WORKERS"] = workers
        if threads is not None:
            env["GUNICORN_THREADS"] = threads
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--access-logfile",
                "/dev/null",
                "wsgi:app",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> WebServer:
        import time
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/login", timeout=1).read()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("web server exited") from None
                time.sleep(0.1)
        raise TimeoutError("web server not ready")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Pushpin(ProcessGroup):
    """Pushpin (the push engine) with a configuration of its own in ``folder``: clients
    connect to ``url``, the relay publishes to ``publish_url``, requests go to ``origin``."""

    def __init__(self, folder: str, origin: str, sig_key: str, log_level: int = 1):
        import shutil

        from callcenter.streams import pushpin_conf

        if shutil.which("pushpin") is None:
            raise RuntimeError("Pushpin is missing: run scripts/services.sh")
        self.port, self.publish_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.publish_url = f"http://127.0.0.1:{self.publish_port}"
        self.folder = folder
        config = pushpin_conf.write(
            folder,
            http_host="127.0.0.1",
            http_port=self.port,
            origin=origin,
            publish_port=self.publish_port,
            sig_key=sig_key,
            log_level=log_level,
        )
        self.log = open(os.path.join(folder, "pushpin.out"), "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            ["pushpin", "--config", config],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=folder,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> Pushpin:
        import socket
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = 0
            for port in (self.port, self.publish_port):
                with socket.socket() as s:
                    s.settimeout(0.5)
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        ready += 1
            if ready == 2:
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("pushpin exited")
            time.sleep(0.1)
        raise TimeoutError("pushpin not ready")


class StreamRelay(ProcessGroup):
    """The stream relay (``flask --app wsgi stream-relay``) in its own process group."""

    def __init__(self, env: dict, log_path: str):
        self.log_path = log_path
        self.log = open(log_path, "ab")  # noqa: SIM115  (closed in stop)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "stream-relay"],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> StreamRelay:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                if b" publishes" in f.read():
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError("relay exited")
            time.sleep(0.1)
        raise TimeoutError("relay not publishing")
