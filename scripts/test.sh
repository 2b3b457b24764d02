#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs (Python packages into a
# local venv), builds, runs the Rust tests (unit, integration, doc, bench smoke) and the
# Python cross-checks (msgpack-python) and differential tests (DuckDB), and builds and tests the
# Python package against pyarrow, polars, DuckDB and pandas.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/py/requirements.txt

# Module dependencies point one way (no cycles among the crate's top-level modules).
python3 scripts/module_deps.py
# One `cargo test` builds everything (the binary too). `[dependencies]` resolve the same
# features as the dev-dependencies, so a later `cargo build`/`cargo run` compiles only the
# project's own crates.
cargo test --workspace --exclude mpq-python --all-targets
cargo test --workspace --exclude mpq-python --doc
# The Python package (`python/`), built into .venv by maturin from the same compiled crates
# (same profile and features as above: only pyo3 and the extension itself compile here).
VIRTUAL_ENV="$PWD/.venv" .venv/bin/maturin develop --manifest-path python/Cargo.toml --quiet
MPQ_BIN="$PWD/target/debug/mpq" .venv/bin/python -m pytest -q tests/py
