#!/usr/bin/env bash
# Conversion benchmark, one command: mpq (whole process) against DuckDB (its COPY alone) on the
# same generated data. Usage: benches/peers/convert.sh [RECORDS] [--wide] (default 1000000;
# --wide: the messier shape of `mpq generate --wide`).
# Builds the release binary, installs the Python packages into .venv, writes the data to
# target/peers/, prints the timings, ratios, peak memory, and whether the outputs agree.
set -euo pipefail
cd "$(dirname "$0")/../.."
benches/peers/prepare.sh
exec .venv/bin/python benches/peers/convert.py "$@"
