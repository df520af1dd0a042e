#!/usr/bin/env bash
# Create the virtual environment, install the pinned dependencies and compile the
# translations. Safe to run again: it reinstalls only when pyproject.toml changed.
# Usage: scripts/install.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
extras=""
[ "${1:-}" = "--dev" ] && extras="[dev]"
stamp=".venv/.installed$extras"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)

if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".$extras"
    echo "$want" > "$stamp"
fi
.venv/bin/pybabel compile -d callcenter/translations > /dev/null 2>&1
