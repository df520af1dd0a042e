#!/usr/bin/env bash
# Run the whole system on the embedded default (SQLite, no servers): install, migrate,
# seed the demo data, start the Celery worker (with beat) and the web server.
# Environment: PORT (default 5000), HOST (default 127.0.0.1), DEMO_UNITS=0 to keep the
# simulated patrol units still, DEMO_WHATSAPP=0 for no simulated WhatsApp reporters (they
# run only while no CALLCENTER_WA_APP_SECRET is set); any CALLCENTER_* setting.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install.sh
mkdir -p instance
if [ -z "${SECRET_KEY:-}" ]; then
    [ -f instance/secret_key ] || .venv/bin/python -c 'import secrets; print(secrets.token_hex(32))' > instance/secret_key
    SECRET_KEY=$(cat instance/secret_key)
    export SECRET_KEY
fi
host=${HOST:-127.0.0.1}
port=${PORT:-5000}

demo_whatsapp=0
if [ "${DEMO_WHATSAPP:-1}" = 1 ] && [ -z "${CALLCENTER_WA_APP_SECRET:-}" ]; then
    # No WhatsApp Business number: simulated reporters and a stand-in for the Graph API.
    demo_whatsapp=1
    export CALLCENTER_WA_APP_SECRET=demo-whatsapp-secret
    export CALLCENTER_WA_ACCESS_TOKEN=demo-whatsapp-token
    export CALLCENTER_WA_PHONE_NUMBER_ID=110110110
    export CALLCENTER_WA_VERIFY_TOKEN=demo-verify
    export CALLCENTER_WA_GRAPH_URL="http://127.0.0.1:${WA_GRAPH_PORT:-5055}/v23.0"
fi

.venv/bin/flask --app wsgi db upgrade
.venv/bin/flask --app wsgi seed-demo

.venv/bin/celery -A wsgi.celery_app worker --beat --concurrency 2 --loglevel INFO \
    --schedule instance/celerybeat-schedule > instance/worker.log 2>&1 &
worker=$!
pids="$worker"
if [ "${DEMO_UNITS:-1}" = 1 ]; then
    # The demo's patrol units report positions and answer offers, except KPJ-1 (user "unit").
    .venv/bin/flask --app wsgi simulate-units > instance/simulator.log 2>&1 &
    pids="$pids $!"
fi
if [ "$demo_whatsapp" = 1 ]; then
    .venv/bin/flask --app wsgi simulate-whatsapp --app-url "http://$host:$port" \
        --graph-port "${WA_GRAPH_PORT:-5055}" > instance/whatsapp.log 2>&1 &
    pids="$pids $!"
fi
trap 'kill $pids 2>/dev/null; wait $pids 2>/dev/null' EXIT INT TERM

cat <<INFO

  Call Center 110 is starting at  http://$host:$port/
  Sign in (password for every demo account: demo-110-malang):
    dispatcher   the dispatcher console
    supervisor   console, escalations and reports
    admin        administration
    unit         the patrol unit screen (MDT) of KPJ-1; every unit has one, e.g. sgs-1
  The other demo units are simulated: they move, accept or decline, drive and clear.
  Simulated WhatsApp reporters write in (unless a real number is configured).
  Logs: instance/worker.log, instance/simulator.log, instance/whatsapp.log. Stop with Ctrl-C.

INFO
.venv/bin/gunicorn --config gunicorn.conf.py --bind "$host:$port" wsgi:app
