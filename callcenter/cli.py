"""Command-line tasks: ``create-user``, ``seed-demo``, ``simulate-units``,
``simulate-whatsapp``, ``rebuild-index``, ``stream-relay``, ``pushpin-config``, ``backup``,
``restore``."""

from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from .extensions import db
from .services import accounts, demo
from .services.errors import ServiceError


@click.command("create-user")
@click.argument("username")
@click.option(
    "--role", required=True, type=click.Choice(["dispatcher", "supervisor", "unit", "admin"])
)
@click.option("--unit", "unit", default=None, help="Callsign of the unit (role unit).")
@click.option("--full-name", default=None)
def create_user(username, role, unit, full_name):
    """Create a user. The password is prompted, or read from standard input when that is not
    a terminal."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        user = accounts.create_user(
            {
                "username": username,
                "password": password,
                "role": role,
                "unit": unit,
                "full_name": full_name,
            }
        )
    except ServiceError as exc:
        details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        raise click.ClickException(f"{exc.message} {details}".strip()) from None
    click.echo(f"created {user.role} {user.username} (id {user.id})")


@click.command("seed-demo")
def seed_demo():
    """Create Polres Malang: its Polsek sectors, patrol units, one user per role."""
    try:
        created = demo.seed()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    if not any(created.values()):
        click.echo("demo data already present")
    else:
        click.echo(
            f"created {created['sectors']} sectors, {created['units']} units, "
            f"{created['users']} users (password: {demo.DEMO_PASSWORD})"
        )


@click.command("simulate-units")
@click.option("--interval", default=10.0, help="Seconds between ticks.")
@click.option("--no-answer", is_flag=True, help="Only report positions; answer nothing.")
@click.option("--leave-alone", default="KPJ-1", help="Comma-separated callsigns a person drives.")
def simulate_units(interval, no_answer, leave_alone):
    """Keep the demo's patrol units alive: positions, and answers to their offers."""
    import random
    import time

    rng = random.Random()
    skip = tuple(c.strip().upper() for c in leave_alone.split(",") if c.strip())
    click.echo(f"simulating demo units every {interval:g} s (leaving {', '.join(skip)} alone)")
    while True:
        try:
            demo.simulate_step(rng, answer=not no_answer, leave_alone=skip)
        finally:
            db.session.remove()
        time.sleep(interval)


@click.command("simulate-whatsapp")
@click.option("--app-url", default="http://127.0.0.1:5000", help="Where the app listens.")
@click.option("--graph-port", default=5055, help="Port of the Graph API stand-in.")
@click.option("--interval", default=45.0, help="Seconds between new reporters.")
@click.option("--count", default=0, help="Reporters to play; 0: until stopped.")
def simulate_whatsapp(app_url, graph_port, interval, count):
    """Play WhatsApp reporters (signed webhook deliveries to the running app) and run a
    stand-in for the Graph API at http://127.0.0.1:PORT/v23.0; the web server and the
    worker need CALLCENTER_WA_GRAPH_URL set to that and the same CALLCENTER_WA_* values."""
    from .devtools import wa_simulator

    cfg = current_app.config
    missing = [
        name
        for name in (
            "CALLCENTER_WA_APP_SECRET",
            "CALLCENTER_WA_ACCESS_TOKEN",
            "CALLCENTER_WA_PHONE_NUMBER_ID",
        )
        if not cfg[name]
    ]
    if missing:
        raise click.ClickException(f"set {', '.join(missing)} (the same values as the app's)")
    wa_simulator.run(
        app_url=app_url,
        secret=cfg["CALLCENTER_WA_APP_SECRET"],
        token=cfg["CALLCENTER_WA_ACCESS_TOKEN"],
        phone_id=cfg["CALLCENTER_WA_PHONE_NUMBER_ID"],
        port=graph_port,
        interval=interval,
        count=count,
    )


@click.command("rebuild-index")
def rebuild_index():
    """Rebuild the Redis GEO index of available units from the database."""
    from .services import locator

    if not current_app.config["REDIS_URL"]:
        raise click.ClickException("REDIS_URL is not set: the SQL locator needs no index")
    click.echo(f"indexed {locator.rebuild()} available units")
    db.session.remove()


@click.command("stream-relay")
def stream_relay():
    """Publish each new event once to the push engine (CALLCENTER_STREAMS=pushpin)."""
    from .ops import logs
    from .streams import relay

    if not current_app.config["REDIS_URL"]:
        raise click.ClickException("the relay needs REDIS_URL (wake-ups and its lock)")
    logs.configure()
    relay.run_forever()


@click.command("pushpin-config")
@click.option("--dir", "folder", required=True, help="Folder for the configuration and logs.")
@click.option("--port", required=True, type=int, help="Port the clients connect to.")
@click.option("--origin", required=True, help="host:port of the web part.")
@click.option("--publish-port", default=5561, type=int, help="Port the relay publishes to.")
@click.option("--host", default="127.0.0.1", help="Address the clients connect to.")
def pushpin_config(folder, port, origin, publish_port, host):
    """Write a Pushpin configuration (pushpin.conf, routes) into --dir; prints its path."""
    from .streams import pushpin_conf
    from .streams.grip import grip_key

    click.echo(
        pushpin_conf.write(
            folder,
            http_host=host,
            http_port=port,
            origin=origin,
            publish_port=publish_port,
            sig_key=grip_key(current_app),
        )
    )


@click.command("backup")
@click.argument("path")
@with_appcontext
def backup(path):
    """Back up the database to PATH (PostgreSQL: pg_dump's custom format; SQLite: its
    online backup). Safe while the center runs."""
    from .ops import backup as backups

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    db.engine.dispose()
    try:
        kind = backups.backup(url, path)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{kind} backup written to {path} ({os.path.getsize(path)} bytes)")


@click.command("restore")
@click.argument("path")
@click.option("--yes", is_flag=True, help="Replace the database without asking.")
@with_appcontext
def restore(path, yes):
    """Replace the database with the backup in PATH. Stop web, worker, beat and the relay
    first; everything written since the backup is gone."""
    from .ops import backup as backups

    if not yes:
        click.confirm("Replace the whole database with this backup?", abort=True)
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    db.engine.dispose()
    try:
        kind = backups.restore(url, path)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{kind} database restored from {path}")


def init_app(app) -> None:
    for command in (
        create_user,
        seed_demo,
        simulate_units,
        simulate_whatsapp,
        rebuild_index,
        stream_relay,
        pushpin_config,
        backup,
        restore,
    ):
        app.cli.add_command(command)
