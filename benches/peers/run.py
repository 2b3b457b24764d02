"""Times mpq queries (the whole CLI process, with 2 threads and with 1) against DuckDB (the
query alone, over the NDJSON twin and over a Parquet twin of the same records), checks the
answers agree, and prints the ratios, the structural-walk baseline (the `walk` example: frame every
record, decode nothing) and mpq's peak memory. Run through run.sh."""
import csv
import io
import os
import subprocess
import sys
import time

import duckdb

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "py"))
from procmem import peak_rss_kib  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MPQ = os.path.join(ROOT, "target", "release", "mpq")
WALK = os.path.join(ROOT, "target", "release", "examples", "walk")
DIR = os.path.join(ROOT, "target", "peers")

# (name, SQL over table t; the same text runs in both engines)
QUERIES = [
    ("count(*)", "SELECT count(*) FROM t"),
    ("filter + count", "SELECT count(*) FROM t WHERE status >= 500 AND level = 'error'"),
    ("group by + avg", "SELECT service, round(avg(latency_ms), 6) FROM t GROUP BY 1 ORDER BY 1"),
    (
        "top-k by nested field",
        'SELECT "user".geo.country AS c, count(*) AS n FROM t WHERE "user".geo.country IS NOT NULL '
        "GROUP BY 1 ORDER BY n DESC, c LIMIT 5",
    ),
    ("filter on optional nested", "SELECT count(*) FROM t WHERE \"user\".geo.city = 'city7'"),
    # Six columns read, two filtered on (1% of the records pass): the scan decodes the other
    # four only for the records that pass.
    (
        "selective filter, wide",
        "SELECT count(*), max(\"user\".name), sum(array_length(tags)), round(max(ratio), 6), max(service), "
        "min(latency_ms) FROM t WHERE status = 503 AND level = 'error'",
    ),
]


def command(args, threads):
    return [MPQ] + (["--threads", str(threads)] if threads else []) + list(args)


def run_mpq(*args, threads=None, cmd=None):
    """Runs mpq (or `cmd`); returns (seconds, stdout). Timed without watching its memory."""
    cmd = cmd or command(args, threads)
    start = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    secs = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"{cmd} failed: {p.stderr}")
    return secs, p.stdout


def peak_mib(*args, threads=None):
    """mpq's peak resident memory in MiB over one more run (mapped pages it touched included)."""
    code, err, peak = peak_rss_kib(command(args, threads))
    if code != 0:
        sys.exit(f"mpq {args} failed: {err}")
    return peak / 1024


def best(f, n=3):
    """The fastest of n runs (the machine is shared and noisy)."""
    runs = [f() for _ in range(n)]
    return min(runs, key=lambda r: r[0])


def duck_best(con, sql, src, n=3):
    """DuckDB's fastest of n runs of `sql` with its table `t` read from `src` (the query alone,
    connection open): (seconds, rows)."""
    def go():
        q = sql.replace(" FROM t", f" FROM {src}")
        t0 = time.perf_counter()
        rows = con.execute(q).fetchall()
        return time.perf_counter() - t0, rows
    return best(go, n)


def norm(rows):
    """Rows as tuples of strings, floats rounded, for comparing engines."""
    out = []
    for r in rows:
        cells = []
        for v in r:
            try:
                f = float(v)
                cells.append(f"{f:.4f}")
            except (TypeError, ValueError):
                cells.append(str(v))
        out.append(tuple(cells))
    return out


def shape(argv):
    """(records, wide) from the command line: a record count, and `--wide` for the messier
    shape (`mpq generate --wide`: a sparse 30-key struct, a variant, high-cardinality strings)."""
    numbers = [a for a in argv if a.isdigit()]
    return (int(numbers[0]) if numbers else 2_000_000), "--wide" in argv


def prepare(records, wide=False):
    os.makedirs(DIR, exist_ok=True)
    name = f"{'wide' if wide else 'logs'}-{records}"
    mp, nd, pq = (os.path.join(DIR, f"{name}.{e}") for e in ("msgpack", "ndjson", "parquet"))
    if not (os.path.exists(mp) and os.path.exists(nd)):
        extra = ["--wide"] if wide else []
        subprocess.run([MPQ, "generate", "--records", str(records), "--out", mp, "--ndjson", nd, *extra], check=True)
    if not os.path.exists(pq):
        # DuckDB writes the Parquet twin (sample_size=-1: keys that appear late are kept).
        duckdb.connect().execute(
            f"COPY (SELECT * FROM read_json_auto('{nd}', sample_size = -1)) TO '{pq}' (FORMAT parquet, COMPRESSION zstd)"
        )
    # Under --mmap auto, files changed in the last 10 s are read rather than mapped.
    age = time.time() - os.path.getmtime(mp)
    if age < 11:
        time.sleep(11 - age)
    for f in (mp, nd, pq):
        with open(f, "rb") as fh:
            while fh.read(1 << 24):
                pass
    return mp, nd, pq


def main():
    records, wide = shape(sys.argv[1:])
    mp, nd, pq = prepare(records, wide)
    con = duckdb.connect()
    size = os.path.getsize(mp) / 2**20
    print(f"shape: {'wide (mpq generate --wide)' if wide else 'mpq generate'}")
    print(f"records: {records:,}  msgpack: {size:.0f} MiB  ndjson: {os.path.getsize(nd) / 2**20:.0f} MiB  "
          f"parquet: {os.path.getsize(pq) / 2**20:.0f} MiB  cores: {os.cpu_count()}  (best of 3 runs each)")
    walk = best(lambda: run_mpq(cmd=[WALK, "--threads", "2", mp]))
    walk_secs = float(walk[1].split()[-1])
    walk_process = walk[0]
    print(f"structural walk (the walk example, 2 threads): {walk_process:.3f} s as a process, {walk_secs:.3f} s walking\n")
    head = f"{'query':28} {'mpq 2t':>7} {'mpq 1t':>7} {'1t/2t':>6} {'duck nd':>8} {'duck pq':>8} " \
           f"{'mpq/nd':>7} {'mpq/pq':>7} {'/walk':>6} {'MiB':>5}  agree"
    print(head)
    all_agree = True
    for name, sql in QUERIES:
        two = best(lambda: run_mpq("query", sql, mp, "--format", "csv", threads=2))
        one = best(lambda: run_mpq("query", sql, mp, "--format", "csv", threads=1))
        ours = norm(list(csv.reader(io.StringIO(two[1])))[1:])
        mib = peak_mib("query", sql, mp, threads=2)

        nd_secs, nd_rows = duck_best(con, sql, f"read_json_auto('{nd}')")
        pq_secs, pq_rows = duck_best(con, sql, f"read_parquet('{pq}')")
        agree = ours == norm(nd_rows) == norm(pq_rows)
        all_agree &= agree
        print(f"{name:28} {two[0]:7.3f} {one[0]:7.3f} {one[0] / two[0]:6.2f} {nd_secs:8.3f} {pq_secs:8.3f} "
              f"{two[0] / nd_secs:7.2f} {two[0] / pq_secs:7.2f} {two[0] / walk_process:6.2f} {mib:5.0f}  {agree}")
        if not agree:
            print(f"  mpq: {ours}\n  duckdb ndjson: {norm(nd_rows)}\n  duckdb parquet: {norm(pq_rows)}")

    # Conversion to zstd Parquet: mpq convert (process) against DuckDB's COPY from each twin.
    out_mpq, out_duck = os.path.join(DIR, "run-mpq.parquet"), os.path.join(DIR, "run-duck.parquet")
    conv = best(lambda: run_mpq("convert", mp, "-o", out_mpq, "--force", "--no-progress", threads=2), n=1)
    conv1 = best(lambda: run_mpq("convert", mp, "-o", out_mpq, "--force", "--no-progress", threads=1), n=1)
    conv_mib = peak_mib("convert", mp, "-o", out_mpq, "--force", "--no-progress", threads=2)

    def copy(src):
        if os.path.exists(out_duck):
            os.remove(out_duck)
        t0 = time.perf_counter()
        con.execute(f"COPY (SELECT * FROM {src}) TO '{out_duck}' (FORMAT parquet, COMPRESSION zstd)")
        return time.perf_counter() - t0

    c_nd = copy(f"read_json_auto('{nd}', sample_size = -1)")
    c_pq = copy(f"read_parquet('{pq}')")
    check = "SELECT count(*), sum(status), count(DISTINCT service) FROM read_parquet('{}')"
    agree = con.execute(check.format(out_mpq)).fetchone() == con.execute(check.format(out_duck)).fetchone()
    all_agree &= agree
    print(f"{'convert to zstd Parquet':28} {conv[0]:7.3f} {conv1[0]:7.3f} {conv1[0] / conv[0]:6.2f} {c_nd:8.3f} "
          f"{c_pq:8.3f} {conv[0] / c_nd:7.2f} {conv[0] / c_pq:7.2f} {conv[0] / walk_process:6.2f} {conv_mib:5.0f}  {agree}")
    for f in (out_mpq, out_duck):
        if os.path.exists(f):
            os.remove(f)
    print("\nmpq 2t/1t: mpq with 2 and 1 threads (whole process); duck nd/pq: DuckDB's query alone over NDJSON / "
          "Parquet;\nmpq/nd, mpq/pq: time ratios (below 1: mpq is faster); /walk: mpq 2t over the walk process; "
          "MiB: mpq's peak RSS (mapped pages included)")
    if not all_agree:
        sys.exit(1)


if __name__ == "__main__":
    main()
