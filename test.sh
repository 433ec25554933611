#!/usr/bin/env bash
# Set up (first time) and run every check: ruff, mypy and the whole test suite, including the
# real-browser tests (Debian's chromium is installed here when missing and we are root).
# PostgreSQL tests run when COMPLIANCE_TEST_POSTGRES_URL is set (.ci/run sets it).
# `./test.sh --fuzz [pytest args]`: the same checks with the hypothesis "fuzz" profile (tests/conftest.py):
# many more random examples, with failures saved in .hypothesis/ and replayed first next time.
# Without --fuzz the suite is deterministic (derandomized hypothesis, no example database).
set -euo pipefail
cd "$(dirname "$0")"
if [ "${1:-}" = "--fuzz" ]; then
  shift
  export HYPOTHESIS_PROFILE=fuzz COMPLIANCE_FUZZ=1
fi
. scripts/venv.sh requirements-dev.txt
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser tests ..." >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is not installed: the browser tests will be skipped (apt-get install chromium)" >&2
  fi
fi
.venv/bin/ruff check .
.venv/bin/mypy compliance
.venv/bin/python -m pytest "$@"
