"""Times `mpq convert` (the whole process, with its peak memory) against DuckDB converting the
NDJSON twin of the same records (zstd Parquet, its COPY statement alone), in one run, and
checks that both outputs hold the same rows. Also converts ten times the input to show that
mpq's memory does not grow with it. Run through convert.sh."""
import os
import subprocess
import sys
import time

import duckdb

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "py"))
from procmem import peak_rss_kib  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MPQ = os.path.join(ROOT, "target", "release", "mpq")
DIR = os.path.join(ROOT, "target", "peers")


def run_mpq(*args):
    """Runs mpq; returns (seconds, peak RSS in MiB)."""
    start = time.perf_counter()
    code, err, peak = peak_rss_kib([MPQ, *args])
    secs = time.perf_counter() - start
    if code != 0:
        sys.exit(f"mpq {args} failed: {err}")
    return secs, peak / 1024


def generate(records, name, wide=False):
    mp, nd = os.path.join(DIR, name + ".msgpack"), os.path.join(DIR, name + ".ndjson")
    if not (os.path.exists(mp) and os.path.exists(nd)):
        extra = ["--wide"] if wide else []
        subprocess.run([MPQ, "generate", "--records", str(records), "--out", mp, "--ndjson", nd, *extra], check=True)
    return mp, nd


def main():
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    records = int(numbers[0]) if numbers else 1_000_000
    wide = "--wide" in sys.argv[1:]
    os.makedirs(DIR, exist_ok=True)
    mp, nd = generate(records, f"{'wide' if wide else 'logs'}-{records}", wide)
    # Ten times the input as one file (record streams concatenate), for the memory check.
    x10 = os.path.join(DIR, f"{'wide' if wide else 'logs'}-{records}-x10.msgpack")
    if not os.path.exists(x10):
        with open(x10, "wb") as out:
            for _ in range(10):
                with open(mp, "rb") as src:
                    while chunk := src.read(1 << 24):
                        out.write(chunk)
    out_mpq, out_duck = os.path.join(DIR, "mpq.parquet"), os.path.join(DIR, "duckdb.parquet")
    for f in (out_mpq, out_duck):
        if os.path.exists(f):
            os.remove(f)
    # Under --mmap auto, files changed in the last 10 s are read whole instead of mapped (they
    # may still be being written): let a freshly generated file settle first.
    age = time.time() - max(os.path.getmtime(mp), os.path.getmtime(x10))
    if age < 11:
        time.sleep(11 - age)
    # Warm the page cache for both inputs.
    for f in (mp, nd):
        with open(f, "rb") as fh:
            while fh.read(1 << 24):
                pass

    mpq_secs, mpq_rss = run_mpq("convert", mp, "-o", out_mpq, "--force")

    con = duckdb.connect()
    start = time.perf_counter()
    # sample_size=-1: the generated logs have keys that appear late; DuckDB's default sample
    # rejects them ("unknown key").
    con.execute(
        f"COPY (SELECT * FROM read_json_auto('{nd}', sample_size = -1)) TO '{out_duck}' "
        "(FORMAT parquet, COMPRESSION zstd)"
    )
    duck_secs = time.perf_counter() - start

    check = "SELECT count(*), sum(status), count(DISTINCT service), sum(\"user\".id) FROM read_parquet('{}')"
    ours, theirs = con.execute(check.format(out_mpq)).fetchone(), con.execute(check.format(out_duck)).fetchone()
    agree = ours == theirs

    size = os.path.getsize(mp) / 2**20
    print(f"records: {records:,}  msgpack: {size:.0f} MiB  ndjson: {os.path.getsize(nd) / 2**20:.0f} MiB  cores: {os.cpu_count()}")
    print(f"{'':28} {'seconds':>8} {'peak MiB':>9} {'out MiB':>8}")
    print(f"{'mpq convert (process)':28} {mpq_secs:8.2f} {mpq_rss:9.0f} {os.path.getsize(out_mpq) / 2**20:8.1f}")
    print(f"{'duckdb COPY from NDJSON':28} {duck_secs:8.2f} {'':>9} {os.path.getsize(out_duck) / 2**20:8.1f}")
    print(f"mpq / duckdb time: {mpq_secs / duck_secs:.2f}  ({duck_secs / mpq_secs:.1f}x faster)")
    print(f"outputs agree (count, sum(status), distinct service, sum(user.id)): {agree} {ours} {theirs if not agree else ''}")

    # Memory for ten times the input, default options: bounded by the row groups in flight.
    out10 = os.path.join(DIR, "mpq10.parquet")
    secs10, rss10 = run_mpq("convert", x10, "-o", out10, "--force")
    print(f"10x the input ({os.path.getsize(x10) / 2**20:.0f} MiB): {secs10:.2f} s, peak {rss10:.0f} MiB"
          f" = {rss10 / mpq_rss:.2f}x the peak for 1x")
    os.remove(out10)
    if not agree:
        sys.exit(1)


if __name__ == "__main__":
    main()
