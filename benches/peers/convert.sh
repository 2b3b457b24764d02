#!/usr/bin/env bash
# Conversion benchmark, one command: mpq (whole process) against DuckDB (its COPY alone) on the
# same generated data. Usage: benches/peers/convert.sh [RECORDS] (default 1000000).
# Builds the release binary, installs the Python packages into .venv, writes the data to
# target/peers/, prints the timings, ratios, peak memory, and whether the outputs agree.
set -euo pipefail
cd "$(dirname "$0")/../.."
records="${1:-1000000}"
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/py/requirements.txt
cargo build --release --bin mpq
exec .venv/bin/python benches/peers/convert.py "$records"
