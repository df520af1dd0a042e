"""Nothing slow runs under the write lock: a password is checked outside any write
transaction, and reads (GET requests, stream replays) never take SQLite's write lock."""

import sqlite3
import threading

import psycopg
import pytest

from callcenter.extensions import db
from callcenter.services import sessions
from tests.helpers import PASSWORD


def _raw(app):
    """A connection of its own to the same database, that never waits for a lock."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        return sqlite3.connect(url.database, timeout=0, isolation_level=None)
    return psycopg.connect(
        url.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True
    )


def _can_lock_throttle(conn, username) -> bool:
    """Could another writer take the lock a sign-in would hold, right now?"""
    try:
        if isinstance(conn, sqlite3.Connection):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        else:
            with conn.transaction():
                conn.execute(
                    "SELECT 1 FROM sign_in_throttle WHERE username = %s FOR UPDATE NOWAIT",
                    (username,),
                )
        return True
    except (sqlite3.OperationalError, psycopg.errors.LockNotAvailable):
        return False


def test_the_password_is_checked_outside_any_write_transaction(app, factory, client, monkeypatch):
    factory.user("dispatcher", username="sari")
    # One failure first, so the throttle row exists and could be locked.
    response = client.post("/api/v1/auth/tokens", json={"username": "sari", "password": "x" * 9})
    assert response.status_code == 401
    seen = []
    verify = sessions.verify

    def watching(stored_hash, password):
        with app.app_context():
            conn = _raw(app)
            try:
                seen.append(_can_lock_throttle(conn, "sari"))
            finally:
                conn.close()
        return verify(stored_hash, password)

    monkeypatch.setattr(sessions, "verify", watching)
    wrong = client.post("/api/v1/auth/tokens", json={"username": "sari", "password": "y" * 9})
    right = client.post("/api/v1/auth/tokens", json={"username": "sari", "password": PASSWORD})
    assert (wrong.status_code, right.status_code) == (401, 201)
    assert seen == [True, True]
    # The outcomes were still counted and audited.
    assert [e.data["reason"] for e in factory.events("auth.sign_in_failed")] == [
        "credentials",
        "credentials",
    ]
    assert len(factory.events("auth.signed_in")) == 1


def test_reads_answer_while_another_process_holds_the_write_lock(app, factory, client):
    if app.config["REDIS_URL"]:
        pytest.skip("PostgreSQL readers never wait for writers")
    headers = factory.headers("dispatcher")
    factory.unit(callsign="READ-1")
    with app.app_context():
        path = db.engine.url.database
    writer = sqlite3.connect(path, timeout=0, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    answers = {}

    def read():
        with app.test_client() as c:
            answers["tickets"] = c.get("/api/v1/tickets", headers=headers).status_code
            answers["units"] = c.get("/api/v1/units", headers=headers).status_code
            answers["events"] = c.get("/api/v1/events?after=0", headers=headers).status_code

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(10)
    done_while_locked = not reader.is_alive()
    writer.execute("ROLLBACK")
    writer.close()
    reader.join(60)
    assert done_while_locked, "a read waited for the write lock"
    assert answers == {"tickets": 200, "units": 200, "events": 200}


def test_a_write_while_reading_is_refused_under_test(app, factory):
    from callcenter.extensions import reading
    from callcenter.models import Unit

    if app.config["REDIS_URL"]:
        pytest.skip("the guard is SQLite's (PostgreSQL has no write lock to avoid)")
    unit_id = factory.unit(callsign="RO-1")
    with app.app_context():
        with reading():
            db.session.get(Unit, unit_id).name = "changed"
            try:
                db.session.commit()
                raised = False
            except RuntimeError:
                raised = True
            db.session.rollback()
        db.session.remove()
    assert raised
