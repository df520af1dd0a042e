FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
# pg_dump and pg_restore for `flask --app wsgi backup` / `restore` (Debian 12: PostgreSQL 15).
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        postgresql-client && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY callcenter ./callcenter
RUN pip install -e . && pybabel compile -d callcenter/translations
COPY migrations ./migrations
COPY wsgi.py gunicorn.conf.py babel.cfg ./
RUN useradd --system --home /app callcenter && mkdir -p /app/instance \
    && chown callcenter /app/instance
USER callcenter
EXPOSE 8000
CMD ["gunicorn", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "wsgi:app"]
