"""Times the columnar cache (`mpq query --cache`) in one run: each benchmark query without the
cache; cold (the query process, the cache filled by the background process it starts, waited
for before the next run); cold with `--cache-fill wait` (the query and the whole fill in one
process); and warm (read from the cache), against DuckDB over the Parquet twin of the same
records (the query alone, in process), with the floor of an mpq process that reads nothing; warm
again in process (the Python package's `Context` kept open, as DuckDB's connection is: the same
comparison as DuckDB's, query alone), when the package is installed; and the cache's size on disk
against the source. Checks that every answer agrees. Usage (after
run.sh has built target/release/mpq and the data):

    python benches/peers/cache.py [RECORDS] [--wide]
"""
import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time

import duckdb

try:
    import mpq
except ImportError:  # the package is optional here: without it, no in-process column
    mpq = None

from run import DIR, MPQ, QUERIES, best, duck_best, norm, prepare, shape


def timed(cmd, env):
    start = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    secs = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"{cmd} failed: {p.stderr}")
    return secs, p.stdout, p.stderr


def main():
    records, wide = shape(sys.argv[1:])
    mp, _, pq = prepare(records, wide)
    con = duckdb.connect()
    cache = tempfile.mkdtemp(prefix="mpq-cache-bench-", dir=DIR)
    env = dict(os.environ, MPQ_CACHE_DIR=cache)
    print(f"shape: {'wide' if wide else 'mpq generate'}  records: {records:,}  "
          f"msgpack: {os.path.getsize(mp) / 2**20:.0f} MiB  cores: {os.cpu_count()}")
    floor = best(lambda: timed([MPQ, "query", "SELECT 1", "--format", "csv"], env))[0]
    print(f"an mpq process that reads nothing (`mpq query \"SELECT 1\"`): {floor:.3f} s\n")
    print(f"{'query':28} {'off':>7} {'cold':>7} {'cold/off':>8} {'wait':>7} {'warm':>7} {'duck pq':>8} "
          f"{'warm/pq':>8} {'in proc':>8} {'proc/pq':>8}  agree")
    ctx = None
    if mpq is not None:
        ctx = mpq.Context(threads=2, cache=cache)
        ctx.register("t", mp)
    log = os.path.join(cache, "v1", "fill.log")

    def background_done():
        deadline = time.time() + 300
        while not (os.path.exists(log) and open(log).read().strip()) and time.time() < deadline:
            time.sleep(0.01)

    try:
        for name, sql in QUERIES:
            args = ["query", sql, mp, "--format", "csv", "--threads", "2"]
            off = best(lambda: timed([MPQ, *args], env))
            colds = []
            for _ in range(3):
                shutil.rmtree(cache, ignore_errors=True)
                colds.append(timed([MPQ, *args, "--cache"], env))
                background_done()
            cold = min(colds, key=lambda r: r[0])
            shutil.rmtree(cache, ignore_errors=True)
            wait = timed([MPQ, *args, "--cache", "--cache-fill", "wait"], env)
            warm = best(lambda: timed([MPQ, *args, "--cache"], env))
            if "read from the cache" not in warm[2]:
                sys.exit(f"{name}: the warm run did not read the cache: {warm[2]}")

            d = duck_best(con, sql, f"read_parquet('{pq}')")
            rows = [norm(list(csv.reader(io.StringIO(r[1])))[1:]) for r in (off, cold, wait, warm)]
            agree = all(r == rows[0] for r in rows) and rows[0] == norm(d[1])
            inproc = "", ""
            if ctx is not None:
                def in_process():
                    before = ctx.report()["cached_files"]
                    t0 = time.perf_counter()
                    table = ctx.sql(sql).to_arrow()
                    secs = time.perf_counter() - t0
                    if ctx.report()["cached_files"] == before:
                        sys.exit(f"{name}: the in-process query did not read the cache: {ctx.report()}")
                    return secs, table.to_pylist()

                p = best(in_process, 5)
                agree = agree and norm([["" if v is None else v for v in r.values()] for r in p[1]]) == rows[0]
                inproc = f"{p[0]:8.4f}", f"{p[0] / d[0]:8.2f}"
            print(f"{name:28} {off[0]:7.3f} {cold[0]:7.3f} {cold[0] / off[0]:8.2f} {wait[0]:7.3f} {warm[0]:7.3f} "
                  f"{d[0]:8.3f} {warm[0] / d[0]:8.2f} {inproc[0]:>8} {inproc[1]:>8}  {agree}")
        size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(cache) for f in fs)
        print(f"\ncache on disk: {size / 2**20:.0f} MiB = {size / os.path.getsize(mp):.2f} of the source "
              f"({os.path.getsize(pq) / 2**20:.0f} MiB DuckDB zstd Parquet)")
    finally:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
