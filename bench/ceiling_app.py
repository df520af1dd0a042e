"""The ceiling for the night's drill: bare Flask answering one UPDATE on PostgreSQL, served
by gunicorn with gunicorn.conf.py (``gunicorn --config gunicorn.conf.py
bench.ceiling_app:app``). No sign-in, no validation, no events: what this machine can do at
best per request, beside which the real position report is read."""

from __future__ import annotations

import os

from flask import Flask, jsonify
from sqlalchemy import create_engine, text

from callcenter.config import normalise_database_url

app = Flask(__name__)
engine = create_engine(
    normalise_database_url(os.environ["DATABASE_URL"]),
    pool_size=int(os.environ.get("GUNICORN_THREADS", "16")),
)


@app.post("/update/<int:unit_id>")
def update(unit_id: int):
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE units SET position_updated_at = now() WHERE id = :id"), {"id": unit_id}
        )
    return jsonify(ok=True)
