FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
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
