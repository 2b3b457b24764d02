"""Time to a pyarrow Table from the peer benchmark's MessagePack file, three ways, in one run:
`mpq.read(path).to_arrow()` (the Python package, release build), `mpq convert` writing Arrow
IPC (the CLI, whole process), and the pure-Python route (msgpack-python's Unpacker, then
`pyarrow.Table.from_pylist`). Best of N each, 2 threads for mpq.

Usage: PYTHON=/path/to/venv/bin/python benches/peers/python.py [MPQ_BINARY] [RECORDS] [N]
The venv needs the package built in release mode (`maturin build --release -m python/Cargo.toml`
and `pip install` the wheel), pyarrow and msgpack. RECORDS default 2000000, N default 3."""
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

PACKAGE = """
import sys, time, mpq
t0 = time.perf_counter()
table = mpq.read(sys.argv[1], threads=2).to_arrow()
print(time.perf_counter() - t0, table.num_rows)
"""

PURE = """
import sys, time, msgpack, pyarrow as pa
t0 = time.perf_counter()
with open(sys.argv[1], "rb") as f:
    rows = list(msgpack.Unpacker(f, raw=False, strict_map_key=False, timestamp=3))
try:
    table = pa.Table.from_pylist(rows)
    n = table.num_rows
except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError) as e:
    n = "failed: " + type(e).__name__ + ": " + str(e).splitlines()[0][:80]
print(time.perf_counter() - t0, n)
"""


def timed_script(python, script, path):
    out = subprocess.run([python, "-c", script, path], capture_output=True, text=True, check=True).stdout.split(None, 1)
    return float(out[0]), out[1].strip()


def main():
    python = os.environ.get("PYTHON", sys.executable)
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "mpq")
    records = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    path = os.path.join(ROOT, "target", "peers", f"logs-{records}.msgpack")
    if not os.path.exists(path):
        sys.exit(f"{path} is missing: run benches/peers/run.py {records} first")
    print(f"{records} records, {os.path.getsize(path) / 2**20:.0f} MiB; best of {n}")
    package = min(timed_script(python, PACKAGE, path) for _ in range(n))
    cli = []
    with tempfile.TemporaryDirectory() as d:
        for i in range(n):
            out = os.path.join(d, f"out{i}.arrow")
            t0 = time.perf_counter()
            subprocess.run([binary, "--threads", "2", "convert", path, "-o", out, "--no-progress"],
                           check=True, capture_output=True)
            cli.append(time.perf_counter() - t0)
    pure = timed_script(python, PURE, path)  # once: it is slow
    print(f"mpq.read(...).to_arrow()          {package[0]:8.2f} s  rows {package[1]}")
    print(f"mpq convert -o x.arrow (process)  {min(cli):8.2f} s")
    print(f"msgpack-python + from_pylist      {pure[0]:8.2f} s  rows {pure[1]}")
    print(f"ratios: package / CLI {package[0] / min(cli):.2f}, package / pure Python {package[0] / pure[0]:.3f}")


if __name__ == "__main__":
    main()
