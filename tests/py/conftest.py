"""Shared helpers: run the real mpq binary, and normalise msgpack-python's view of a value to
mpq's JSON rendering rules (README, "JSON rendering")."""
import base64
import json
import os
import subprocess

import msgpack
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MPQ = os.environ.get("MPQ_BIN", os.path.join(ROOT, "target", "debug", "mpq"))


def mpq(*args, check=True):
    """Runs mpq; returns (stdout, stderr)."""
    p = subprocess.run([MPQ, *args], capture_output=True, text=True, cwd=ROOT, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"mpq {args} failed ({p.returncode}): {p.stderr}")
    return p.stdout, p.stderr


CLUSTER_WAIT = 30  # seconds a cluster process may take to start


def _start(log, env, *args):
    """Starts `mpq *args` with stderr to `log`; returns the process."""
    return subprocess.Popen([MPQ, *args], stdout=subprocess.DEVNULL, stderr=open(log, "w"), cwd=ROOT, env=env)


def _bound(log, proc, pattern):
    """The first match of `pattern` in `log`, waiting at most CLUSTER_WAIT seconds."""
    import re
    import time

    deadline = time.time() + CLUSTER_WAIT
    while time.time() < deadline:
        m = re.search(pattern, open(log).read())
        if m:
            return m
        if proc.poll() is not None:
            raise AssertionError(f"exited {proc.returncode}: {open(log).read()}")
        time.sleep(0.1)
    raise AssertionError(f"no {pattern!r} within {CLUSTER_WAIT}s: {open(log).read()}")


def _stop(proc):
    """SIGTERM, then the exit code (killed after a bounded wait: None)."""
    import signal

    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


class Cluster:
    """`mpq cluster scheduler` and `executors` `mpq cluster executor`s on loopback (ports the
    system picks, one core each, logs in `workdir`), for a `with` block; `url` is for --cluster,
    `codes` the exit codes after the block (0 each: stopped cleanly by SIGTERM)."""

    def __init__(self, workdir, executors=2, env=None):
        self.dir, self.executors, self.env, self.procs, self.codes = workdir, executors, env, [], None

    def __enter__(self):
        try:
            log = os.path.join(self.dir, "scheduler.log")
            self.procs.append(_start(log, self.env, "cluster", "scheduler", "--bind", "127.0.0.1:0"))
            addr = _bound(log, self.procs[0], r"listening on (127\.0\.0\.1:\d+)").group(1)
            for i in range(self.executors):
                log = os.path.join(self.dir, f"executor{i}.log")
                work = os.path.join(self.dir, f"work{i}")
                os.makedirs(work, exist_ok=True)
                self.procs.append(_start(log, self.env, "cluster", "executor", "--scheduler", addr, "--bind",
                                         "127.0.0.1:0", "--grpc-bind", "127.0.0.1:0", "--work-dir", work,
                                         "--vcores", "1"))
                _bound(log, self.procs[-1], r"listening on 127\.0\.0\.1:\d+ \(flight\)")
        except BaseException:
            self.__exit__()
            raise
        self.url = f"df://{addr}"
        return self

    def log(self, name):
        return open(os.path.join(self.dir, f"{name}.log")).read()

    def __exit__(self, *exc):
        self.codes = [_stop(p) for p in self.procs]
        return False


def mpq_json(sql, *files, extra=()):
    out, _ = mpq("query", sql, *files, "--format", "json", *extra)
    return json.loads(out)


def rfc3339(secs, nanos):
    import datetime

    dt = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=secs)
    s = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        digits = f"{nanos:09d}"
        keep = 3 if nanos % 1_000_000 == 0 else 6 if nanos % 1000 == 0 else 9
        s += "." + digits[:keep]
    return s + "Z"


def b64(b):
    return base64.b64encode(b).decode()


def normalise(v):
    """msgpack-python value -> the JSON value mpq renders for it."""
    if isinstance(v, msgpack.Timestamp):
        return rfc3339(v.seconds, v.nanoseconds)
    if isinstance(v, msgpack.ExtType):
        if v.code == 0 and len(v.data) == 8:
            secs, nanos = int.from_bytes(v.data[:4], "big"), int.from_bytes(v.data[4:], "big")
            return rfc3339(secs, nanos)
        return {"ext": v.code, "data": b64(v.data)}
    if isinstance(v, bytes):
        return b64(v)
    if isinstance(v, str):
        try:
            v.encode("utf-8")
            return v
        except UnicodeEncodeError:  # invalid UTF-8 kept through surrogateescape
            return b64(v.encode("utf-8", "surrogateescape"))
    if isinstance(v, float):
        return v if v == v and abs(v) != float("inf") else None
    if isinstance(v, (list, tuple)):
        return [normalise(x) for x in v]
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            key = normalise(k)
            out[key if isinstance(key, str) else json.dumps(key, separators=(",", ":"))] = normalise(x)
        return out
    return v


def unpack_file(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        u = msgpack.Unpacker(f, raw=False, strict_map_key=False, timestamp=0, unicode_errors="surrogateescape")
        return [x for x in u]


@pytest.fixture(scope="session")
def root():
    return ROOT
