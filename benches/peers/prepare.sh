#!/usr/bin/env bash
# Shared by the peer benchmarks: the Python packages in .venv (DuckDB, pyarrow) and the release
# binary they time. Run from the repository root.
set -euo pipefail
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/py/requirements.txt
cargo build --release --bin mpq --example walk
