"""Many small files, as Fluentd leaves them (one file per time slice or chunk): times mpq (the
whole CLI process, 2 threads, best of 3) against DuckDB (the query alone, in process, best of
3) over the same records split into FILES files of RECORDS each, MessagePack for mpq and an
NDJSON twin per file for DuckDB; checks the answers agree, and prints mpq's peak memory and
`mpq schema --sample-only` alone. Usage (after run.sh has built target/release/mpq):

    python benches/peers/small.py [FILES] [RECORDS] [--wide]     # default 5000 files of 20 records
"""
import csv
import io
import os
import shutil
import subprocess
import sys
import time

import duckdb
import msgpack

from run import DIR, MPQ, best, duck_best, norm, peak_mib, run_mpq

QUERIES = [
    ("count(*)", "SELECT count(*) FROM t"),
    ("sum", "SELECT sum(status) FROM t"),
    ("distinct", "SELECT count(DISTINCT service) FROM t"),
    ("group by", "SELECT level, count(*) AS n FROM t GROUP BY 1 ORDER BY 1"),
]


def split(files, records, wide):
    """The generated records cut into `files` files of `records` each, with NDJSON twins; made
    once per shape and size."""
    name = f"small-{'wide-' if wide else ''}{files}x{records}"
    base = os.path.join(DIR, name)
    mp_dir, nd_dir = os.path.join(base, "mp"), os.path.join(base, "nd")
    if os.path.isdir(nd_dir) and len(os.listdir(nd_dir)) == files:
        return mp_dir, nd_dir
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(mp_dir)
    os.makedirs(nd_dir)
    total = files * records
    whole_mp, whole_nd = os.path.join(base, "all.msgpack"), os.path.join(base, "all.ndjson")
    extra = ["--wide"] if wide else []
    subprocess.run([MPQ, "generate", "--records", str(total), "--out", whole_mp, "--ndjson", whole_nd, *extra],
                   check=True, capture_output=True)
    with open(whole_mp, "rb") as f_mp, open(whole_nd, "rb") as f_nd:
        data = f_mp.read()
        # Records are cut at their boundaries as msgpack-python frames them (bytes unchanged).
        unpacker = msgpack.Unpacker(raw=True, strict_map_key=False, max_buffer_size=len(data) + 1)
        unpacker.feed(data)
        start = 0
        for i in range(files):
            for _ in range(records):
                unpacker.skip()
            end = unpacker.tell()
            with open(os.path.join(mp_dir, f"part-{i:06}.msgpack"), "wb") as out:
                out.write(data[start:end])
            start = end
            with open(os.path.join(nd_dir, f"part-{i:06}.ndjson"), "wb") as out:
                for _ in range(records):
                    out.write(f_nd.readline())
    os.remove(whole_mp)
    os.remove(whole_nd)
    # Under --mmap auto, files changed in the last 10 s are read rather than mapped.
    time.sleep(11)
    return mp_dir, nd_dir


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    wide = "--wide" in sys.argv[1:]
    files = int(args[0]) if args else 5000
    records = int(args[1]) if len(args) > 1 else 20
    mp_dir, nd_dir = split(files, records, wide)
    con = duckdb.connect()
    nd_glob = os.path.join(nd_dir, "*.ndjson")
    print(f"shape: {'wide' if wide else 'mpq generate'}  files: {files:,} of {records} records "
          f"({files * records:,} rows)  cores: {os.cpu_count()}  (best of 3 runs each)")
    floor = best(lambda: run_mpq("query", "SELECT 1", "--format", "csv"))[0]
    schema = best(lambda: run_mpq("schema", "--sample-only", mp_dir, threads=2))[0]
    print(f"an mpq process that reads nothing: {floor:.3f} s;  `mpq schema --sample-only DIR`: {schema:.3f} s\n")
    print(f"{'query':12} {'mpq':>7} {'duck nd':>8} {'mpq/nd':>7} {'MiB':>5}  agree")
    all_agree = True
    for name, sql in QUERIES:
        ours = best(lambda: run_mpq("query", sql, mp_dir, "--format", "csv", threads=2))
        mib = peak_mib("query", sql, mp_dir, threads=2)

        d = duck_best(con, sql, f"read_json_auto('{nd_glob}')")
        agree = norm(list(csv.reader(io.StringIO(ours[1])))[1:]) == norm(d[1])
        all_agree &= agree
        print(f"{name:12} {ours[0]:7.3f} {d[0]:8.3f} {ours[0] / d[0]:7.2f} {mib:5.0f}  {agree}")
    if not all_agree:
        sys.exit("answers differ")


if __name__ == "__main__":
    main()
