#!/usr/bin/env bash
# Set up (first time) and run the dashboard on the embedded SQLite store.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/venv.sh requirements.txt
.venv/bin/python -m compliance init
exec .venv/bin/streamlit run app.py --browser.gatherUsageStats=false "$@"
