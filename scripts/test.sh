#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs (Python packages into a
# local venv), builds, runs the Rust tests (unit, integration, doc, bench smoke) and the
# Python cross-checks (msgpack-python) and differential tests (DuckDB).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/py/requirements.txt

# One `cargo test` builds everything (the binary too): a separate `cargo build` would resolve
# features without the dev-dependencies and compile the DataFusion stack a second time.
cargo test --workspace --all-targets
cargo test --workspace --doc
MPQ_BIN="$PWD/target/debug/mpq" .venv/bin/python -m pytest -q tests/py
