"""Times the cluster path in one run: each benchmark query (and a conversion to Parquet) run
locally, on an in-process cluster of 1 and of 2 executors (`--local-cluster N`), and on a cluster
of real processes on loopback (`mpq cluster scheduler` and two `mpq cluster executor`s, one core
each); then the overhead per query over a small file (planning, shipping, result fetch). Every
answer must agree with the local one. Usage (after run.sh has built target/release/mpq and the
data):

    python benches/peers/cluster.py [RECORDS] [--wide]
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from run import DIR, MPQ, QUERIES, ROOT, best, norm, prepare, run_mpq, shape


def rows(out):
    return sorted(norm([line.split(",") for line in out.strip().splitlines()[1:]]))


def start(log, *args):
    return subprocess.Popen([MPQ, *args], stdout=subprocess.DEVNULL, stderr=open(log, "w"))


def wait_for(log, pattern):
    deadline = time.time() + 30
    while time.time() < deadline:
        m = re.search(pattern, open(log).read())
        if m:
            return m
        time.sleep(0.05)
    sys.exit(f"no {pattern!r} in {log}")


def processes(work):
    """A scheduler and two executors (one core each) on loopback; their URL and processes."""
    sched_log = os.path.join(work, "scheduler.log")
    procs = [start(sched_log, "cluster", "scheduler", "--bind", "127.0.0.1:0")]
    addr = wait_for(sched_log, r"listening on (127\.0\.0\.1:\d+)").group(1)
    for i in range(2):
        log = os.path.join(work, f"executor{i}.log")
        os.makedirs(os.path.join(work, f"w{i}"), exist_ok=True)
        procs.append(start(log, "cluster", "executor", "--scheduler", addr, "--bind", "127.0.0.1:0",
                           "--grpc-bind", "127.0.0.1:0", "--work-dir", os.path.join(work, f"w{i}"), "--vcores", "1"))
        wait_for(log, r"\(flight\)")
    time.sleep(1)  # registration
    return f"df://{addr}", procs


def main():
    records, wide = shape(sys.argv[1:])
    mp, _, _ = prepare(records, wide)
    work = tempfile.mkdtemp(prefix="mpq-cluster-bench-", dir=DIR)
    url, procs = processes(work)
    targets = [("local", []), ("1 exec", ["--local-cluster", "1"]), ("2 exec", ["--local-cluster", "2"]),
               ("2 procs", ["--cluster", url])]
    print(f"shape: {'wide' if wide else 'mpq generate'}  records: {records:,}  "
          f"msgpack: {os.path.getsize(mp) / 2**20:.0f} MiB  cores: {os.cpu_count()}  (best of 3, seconds)\n")
    print(f"{'work':28}" + "".join(f"{n:>9}" for n, _ in targets) + f"{'2 procs/local':>15}  agree")
    try:
        for name, sql in QUERIES:
            times, answers = [], []
            for _, extra in targets:
                secs, out = best(lambda: run_mpq(cmd=[MPQ, "query", sql, mp, "--format", "csv", *extra]))
                times.append(secs)
                answers.append(rows(out))
            agree = all(a == answers[0] for a in answers)
            print(f"{name:28}" + "".join(f"{t:9.3f}" for t in times) + f"{times[-1] / times[0]:15.2f}  {agree}")
        times = []
        for n, extra in targets:
            out = os.path.join(work, f"out-{n.replace(' ', '')}.parquet")
            times.append(best(lambda: run_mpq(cmd=[MPQ, "convert", mp, "-o", out, "--force", *extra]))[0])
        print(f"{'convert to zstd Parquet':28}" + "".join(f"{t:9.3f}" for t in times) + f"{times[-1] / times[0]:15.2f}")
        small = os.path.join(ROOT, "testdata", "logs.msgpack")
        times = [best(lambda: run_mpq(cmd=[MPQ, "query", "SELECT count(*) FROM t", small, *extra]), n=5)[0]
                 for _, extra in targets]
        print(f"{'count(*), 2,000 records':28}" + "".join(f"{t:9.3f}" for t in times)
              + f"{times[-1] / times[0]:15.2f}")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
