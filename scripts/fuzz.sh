#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ for SECONDS each (default 60), all of them or the ones
# named, and prints per target: executions, corpus size and crash inputs found.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). It builds on stable Rust with
# RUSTC_BOOTSTRAP=1 (cargo-fuzz passes nightly-only flags) and without a sanitizer (-s none):
# mpq denies unsafe code outside src/sys.rs, so what the fuzzers look for is panics, invariant
# failures (mpq-hostile's checks), memory (-malloc_limit_mb) and hangs (-timeout).
# The corpus grows in fuzz/corpus/TARGET (not committed) from fuzz/seeds/TARGET (committed,
# made by fuzz/make_seeds.py). Crash inputs land in fuzz/artifacts/TARGET; minimise each with
# `cargo fuzz tmin`, fix it, and copy it to fuzz/regressions/TARGET, which
# hostile/tests/replay.rs replays in the normal test suite.
set -euo pipefail
secs=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(decode inference read_functions build_functions wire)
fi
cd "$(dirname "$0")/../fuzz"
export RUSTC_BOOTSTRAP=1
cargo fuzz build -s none
mkdir -p logs
total=0
printf '%-16s %12s %8s %8s\n' target executions corpus 'new crashes'
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    before=$(find "artifacts/$t" -type f | wc -l)
    cargo fuzz run -s none "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
        -print_final_stats=1 >"logs/$t.log" 2>&1 || true
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$' | tail -1)
    execs=${execs:-0}
    total=$((total + execs))
    crashes=$(( $(find "artifacts/$t" -type f | wc -l) - before ))
    printf '%-16s %12s %8s %8s\n' "$t" "$execs" "$(find "corpus/$t" -type f | wc -l)" "$crashes"
done
echo "total executions: $total"
