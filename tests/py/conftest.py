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
