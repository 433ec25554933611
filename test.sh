#!/usr/bin/env bash
# Set up (first time) and run every check: ruff, mypy and the test suite.
# PostgreSQL tests run when COMPLIANCE_TEST_POSTGRES_URL is set (.ci/run sets it).
set -euo pipefail
cd "$(dirname "$0")"
. scripts/venv.sh requirements-dev.txt
.venv/bin/ruff check .
.venv/bin/mypy compliance
.venv/bin/python -m pytest "$@"
