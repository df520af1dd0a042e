#!/usr/bin/env bash
# Run the whole test suite: lint, then pytest against SQLite and against real PostgreSQL
# and Redis, with real Celery workers and headless Chromium.
# PostgreSQL and Redis must answer (scripts/services.sh starts or installs them).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install.sh --dev
scripts/services.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# Two processes: the tests that start processes or a browser in one, one after another
# (tests/conftest.py), the in-process tests in the other. TEST_PROCESSES=0: one process.
.venv/bin/pytest -n "${TEST_PROCESSES:-2}" --dist loadgroup "$@"
