"""Times two mpq binaries against each other on the peer benchmark's queries and data: for a
change that must not make queries slower (a refactor), the before/after figures of one run.
Each query runs on both binaries in turn, best of N each, 2 threads, as a whole process; the
answers must be identical (as sorted rows: a query without ORDER BY has no row order).

Usage: .venv/bin/python benches/peers/compare.py BEFORE_BINARY AFTER_BINARY [RECORDS] [N] [--wide]
(RECORDS default 2000000, N default 5; the data is run.py's, written to target/peers/; --wide:
the messier shape of `mpq generate --wide`)."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import run  # noqa: E402  (the queries and the data)


def timed(binary, sql, path):
    return run.run_mpq(cmd=[binary, "--threads", "2", "query", sql, path, "--format", "csv"])


def main():
    wide = "--wide" in sys.argv
    args = [a for a in sys.argv[1:] if a != "--wide"]
    before, after = args[0], args[1]
    records = int(args[2]) if len(args) > 2 else 2_000_000
    n = int(args[3]) if len(args) > 3 else 5
    mp, _, _ = run.prepare(records, wide)
    queries = run.QUERIES + [
        ("SELECT * ... selective, CSV out", "SELECT * FROM t WHERE status = 503 AND level = 'error'"),
        ("six columns, filter all pass",
         "SELECT count(*), max(\"user\".name), sum(array_length(tags)), round(max(ratio), 6), max(service), "
         "min(latency_ms) FROM t WHERE status >= 0"),
    ]
    print(f"{records} records, {os.path.getsize(mp) / 2**20:.0f} MiB; best of {n}, 2 threads, runs alternating\n")
    print(f"{'query':<34} {'before':>8} {'after':>8} {'after/before':>13}  same answer")
    for name, sql in queries:
        b_runs, a_runs = [], []
        for _ in range(n):
            b_runs.append(timed(before, sql, mp))
            a_runs.append(timed(after, sql, mp))
        b, a = min(b_runs)[0], min(a_runs)[0]
        # Without ORDER BY, rows from two partitions interleave in any order: compare sorted.
        same = sorted(b_runs[0][1].splitlines()) == sorted(a_runs[0][1].splitlines())
        print(f"{name:<34} {b:8.3f} {a:8.3f} {a / b:13.2f}  {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
