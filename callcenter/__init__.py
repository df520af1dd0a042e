"""Call Center 110: the application factory. It only wires; it starts nothing."""

from __future__ import annotations

import os
from datetime import date, datetime

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class JSONProvider(DefaultJSONProvider):
    """ISO 8601 timestamps with their offset (UTC), instead of Flask's HTTP dates."""

    sort_keys = False

    @staticmethod
    def default(o):
        if isinstance(o, datetime | date):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


def create_app(config: dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, CLI. No I/O happens here."""
    from . import (
        admin,
        auth,
        cli,
        console,
        converters,
        health,
        i18n,
        mdt,
        reports,
        security,
        templating,
        webhooks,
    )
    from .api import bp as api_bp
    from .extensions import (
        babel,
        celery_init_app,
        csrf,
        db,
        init_reads,
        limiter,
        login_manager,
        migrate,
    )
    from .ops import logs as ops_logs
    from .ops import scrape
    from .services import events, fallback, repair, routing

    app = Flask(__name__, instance_relative_config=True)
    config_module.load(app, config)
    app.json = JSONProvider(app)
    converters.init_app(app)

    db.init_app(app)
    init_reads(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(PROJECT_ROOT, "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    i18n.init_app(app)
    limiter.init_app(app)
    celery_init_app(app)
    events.init_app(app)
    ops_logs.init_app(app)
    # What a web process does by itself while dispatch is degraded: the workers' own work.
    fallback.init_app(
        app,
        route_ticket=routing.route_ticket,
        route_queued=routing.route_queued,
        sweep=repair.sweep,
    )
    auth.init_app(app)
    security.init_app(app)

    app.register_blueprint(health.bp)
    app.register_blueprint(scrape.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(console.bp)
    app.register_blueprint(mdt.bp, url_prefix="/mdt")
    app.register_blueprint(reports.bp, url_prefix="/reports")
    app.register_blueprint(admin.bp, url_prefix="/admin")
    app.register_blueprint(webhooks.bp, url_prefix="/webhooks")
    cli.init_app(app)
    templating.init_app(app)

    if app.config["CALLCENTER_PROXY_HOPS"]:
        hops = app.config["CALLCENTER_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app
