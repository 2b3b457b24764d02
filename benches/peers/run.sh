#!/usr/bin/env bash
# Query benchmark, one command: mpq (the whole process) against DuckDB (its query alone) over
# the same generated records as NDJSON and as Parquet. Usage: benches/peers/run.sh [RECORDS]
# [--wide] (default 2000000, about 390 MiB of MessagePack; --wide: the messier shape of
# `mpq generate --wide`, about 460 bytes a record). Builds the release binary, installs the
# Python packages into .venv, writes the data to target/peers/, prints timings, ratios, the
# structural-walk baseline, 1-to-2-thread speedups, peak memory, and whether answers agree.
set -euo pipefail
cd "$(dirname "$0")/../.."
benches/peers/prepare.sh
exec .venv/bin/python benches/peers/run.py "$@"
