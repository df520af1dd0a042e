"""Entry points: ``app`` for gunicorn and ``flask --app wsgi``; ``celery_app`` for
``celery -A wsgi.celery_app worker`` and ``beat``."""

from callcenter import create_app

app = create_app()
celery_app = app.extensions["celery"]
