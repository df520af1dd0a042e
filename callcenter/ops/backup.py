"""Backups of the database, and bringing one back.

- PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot while the center runs),
  restored with ``pg_restore --clean --if-exists --single-transaction``: the database is
  replaced as a whole, or not at all.
- SQLite (the embedded default): SQLite's online backup (``sqlite3.Connection.backup``),
  page by page, consistent while the app keeps writing; restored the same way in reverse.

Restoring replaces everything written since the backup: stop web, worker, beat and the
relay first (their caches and the Redis index are rebuilt when they start again).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    pass


def _backend(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in ("postgresql", "sqlite"):
        raise BackupError(f"no backup for {name} databases")
    return name


def _pg(url: str) -> tuple[list[str], dict]:
    """Connection arguments for pg_dump/pg_restore, the password in the environment (never
    on a command line another user could read)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    args = ["--dbname", parsed.database or ""]
    if parsed.host:
        args += ["--host", parsed.host]
    if parsed.port:
        args += ["--port", str(parsed.port)]
    if parsed.username:
        args += ["--username", parsed.username]
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is missing (Debian: apt-get install postgresql-client)")
    return path


def _run(argv: list[str], env: dict) -> None:
    # A fixed tool (found on PATH) and our own arguments; no shell.
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(done.stderr.strip() or f"{argv[0]} failed ({done.returncode})")


def _sqlite_path(url: str) -> str:
    path = make_url(url).database
    if not path or path == ":memory:":
        raise BackupError("no file to back up")
    return path


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    with target:
        source.backup(target, pages=1024)


def backup(url: str, path: str) -> str:
    """Write a backup of the database at ``url`` (the app's SQLALCHEMY_DATABASE_URI) to
    ``path``; returns the backend's name."""
    kind = _backend(url)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    if kind == "postgresql":
        args, env = _pg(url)
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", path, *args], env)
        return kind
    source = sqlite3.connect(_sqlite_path(url))
    target = sqlite3.connect(path)
    try:
        _copy(source, target)
    finally:
        target.close()
        source.close()
    return kind


def restore(url: str, path: str) -> str:
    """Replace the database at ``url`` with the backup in ``path``; returns the backend."""
    if not os.path.isfile(path):
        raise BackupError(f"no backup at {path}")
    kind = _backend(url)
    if kind == "postgresql":
        args, env = _pg(url)
        _run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                *args,
                path,
            ],
            env,
        )
        return kind
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"{path} is not a sound SQLite database")
        target = sqlite3.connect(_sqlite_path(url), timeout=30)
        try:
            _copy(source, target)
        finally:
            target.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: {exc}") from None
    finally:
        source.close()
    return kind
