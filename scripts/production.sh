#!/usr/bin/env bash
# Run the production processes in the foreground: the web part (gunicorn), Pushpin (the
# push engine: it serves HOST:PORT, holds every live stream and passes the rest to the web),
# the stream relay, a Celery worker and Celery beat, against DATABASE_URL and REDIS_URL.
# Ctrl-C or SIGTERM stops them all; so does any one of them exiting.
# Environment: DATABASE_URL, REDIS_URL and SECRET_KEY (required); HOST (default 127.0.0.1),
# PORT (8000); WEB_PORT (the web part on 127.0.0.1, default PORT+1); PUBLISH_PORT (Pushpin's
# publish endpoint on 127.0.0.1, default 5561); WORKER_CONCURRENCY (2); GUNICORN_WORKERS,
# GUNICORN_THREADS; PROMETHEUS_MULTIPROC_DIR (default instance/metrics, emptied at start);
# any CALLCENTER_* setting (.env.example lists them). Pushpin comes from Debian
# (scripts/services.sh). docker-compose.yml runs the same commands; tests/test_compose.py
# keeps them in step.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?set DATABASE_URL (postgresql://user@host:5432/db)}"
: "${REDIS_URL:?set REDIS_URL (redis://host:6379/0)}"
: "${SECRET_KEY:?set SECRET_KEY}"
command -v pushpin > /dev/null || { echo "Pushpin is missing: run scripts/services.sh as root" >&2; exit 1; }

host=${HOST:-127.0.0.1}
port=${PORT:-8000}
web_port=${WEB_PORT:-$((port + 1))}
publish_port=${PUBLISH_PORT:-5561}
export CALLCENTER_ENV=production
export CALLCENTER_STREAMS=pushpin
export CALLCENTER_PUSHPIN_PUBLISH_URL="http://127.0.0.1:$publish_port"
export CALLCENTER_PROXY_HOPS=${CALLCENTER_PROXY_HOPS:-1}  # Pushpin is in front of the web
export DATABASE_URL REDIS_URL SECRET_KEY
# Every process writes its metrics here; the web's /metrics adds them up.
export PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-$PWD/instance/metrics}

scripts/install.sh
mkdir -p instance
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
.venv/bin/flask --app wsgi db upgrade
config=$(.venv/bin/flask --app wsgi pushpin-config --dir instance/pushpin --host "$host" \
    --port "$port" --origin "127.0.0.1:$web_port" --publish-port "$publish_port")

pids=()
run() { "$@" & pids+=("$!"); }
stop() {
    trap - INT TERM
    kill -TERM "${pids[@]}" 2> /dev/null || true
    # Give them 20 s to finish what they hold (a task, a request), then end them.
    for _ in $(seq 200); do
        alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2> /dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    kill -KILL "${pids[@]}" 2> /dev/null || true
    wait "${pids[@]}" 2> /dev/null || true
}
trap 'stop; exit 0' INT TERM

run .venv/bin/gunicorn --config gunicorn.conf.py --bind "127.0.0.1:$web_port" wsgi:app
run pushpin --config "$config"
run .venv/bin/flask --app wsgi stream-relay
run .venv/bin/celery -A wsgi.celery_app worker --loglevel INFO \
    --concurrency "${WORKER_CONCURRENCY:-2}"
run .venv/bin/celery -A wsgi.celery_app beat --loglevel INFO \
    --schedule instance/celerybeat-schedule
echo "Call Center 110 (production) at http://$host:$port/  (web on 127.0.0.1:$web_port)"

# When one process ends, stop the others.
wait -n || true
stop
exit 1
