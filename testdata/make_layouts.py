"""Writes testdata/layouts/: one file per layout, compression and input kind, made with
msgpack-python, Python's gzip and the zstandard package (encoders independent of mpq).

Run: .venv/bin/python testdata/make_layouts.py   (the outputs are committed; this script
says exactly how they were made). Every file holds the same six records, so the tests can
check each against the same expectation; `expected.json` is that expectation.
"""

import gzip as _gzip
import json
import os
import shutil
import struct

import msgpack
import zstandard

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "layouts")

# (seconds, nanoseconds, record); the records vary in shape on purpose.
EVENTS = [
    (1763683200, 0, {"service": "api", "status": 200, "ms": 12.5}),
    (1763683201, 250000000, {"service": "api", "status": 500, "ms": 340.0, "error": "timeout"}),
    (1763683202, 999999999, {"service": "db", "status": 200, "ms": 3.25}),
    (1763683203, 1, {"service": "web", "status": 404, "ms": 1.0, "path": "/x"}),
    (1763683204, 500000000, {"service": "db", "status": 200, "ms": 7.75, "tags": ["a", "b"]}),
    (1763683205, 0, {"service": "web", "status": 302, "ms": 0.5, "user": {"id": 7}}),
]
TAG = "app.web"


def event_time(sec, nsec):
    """Fluentd's EventTime: ext type 0, big-endian u32 seconds and u32 nanoseconds."""
    return msgpack.ExtType(0, struct.pack(">II", sec, nsec))


class gzip:
    """gzip members with a fixed header time, so the files are the same on every run."""

    @staticmethod
    def compress(data):
        return _gzip.compress(data, mtime=0)


def pack(v):
    return msgpack.packb(v, use_bin_type=True)


def event_stream(events=EVENTS):
    return b"".join(pack([event_time(s, n), r]) for s, n, r in events)


def write(name, data):
    path = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def meta_sidecar(tag, records):
    """A Fluentd file-buffer `.meta`: C1 00, big-endian u32 length, then the map."""
    body = pack({"timekey": None, "tag": tag, "variables": None, "seq": 0,
                 "id": b"\x5e" * 16, "s": records, "c": 1763683200, "m": 1763683205})
    return b"\xc1\x00" + struct.pack(">I", len(body)) + body


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    half = len(EVENTS) // 2

    # Fluent Bit: [[time, metadata], record]; metadata is a map, empty or not.
    write("fluentbit.msgpack", b"".join(
        pack([[event_time(s, n), {"source": "tail"} if i % 2 else {}], r])
        for i, (s, n, r) in enumerate(EVENTS)))

    # Forward protocol, one mode per file, then all modes mixed in one capture.
    message = b"".join(pack([TAG, event_time(s, n), r]) for s, n, r in EVENTS)
    write("forward_message.msgpack", message)
    write("forward_message_int_time.msgpack",
          b"".join(pack([TAG, s, r, {"size": 1}]) for s, _n, r in EVENTS))
    forward = pack([TAG, [[event_time(s, n), r] for s, n, r in EVENTS[:half]]]) + \
        pack([TAG, [[event_time(s, n), r] for s, n, r in EVENTS[half:]], {"size": half}])
    write("forward_forward.msgpack", forward)
    packed = pack([TAG, event_stream(EVENTS[:half])]) + \
        pack([TAG, event_stream(EVENTS[half:]), {"size": len(EVENTS) - half}])
    write("forward_packed.msgpack", packed)
    compressed = pack([TAG, gzip.compress(event_stream(EVENTS[:half])) + gzip.compress(b""),
                       {"size": half, "compressed": "gzip"}]) + \
        pack([TAG, gzip.compress(event_stream(EVENTS[half:])), {"compressed": "gzip"}])
    write("forward_compressed.msgpack", compressed)
    zc = zstandard.ZstdCompressor()
    write("forward_compressed_zstd.msgpack",
          pack([TAG, zc.compress(event_stream(EVENTS[:half])) + zc.compress(event_stream(EVENTS[half:])),
                {"compressed": "zstd"}]))
    write("forward_mixed.msgpack",
          pack([TAG, event_time(*EVENTS[0][:2]), EVENTS[0][2]])
          + pack([TAG, [[event_time(s, n), r] for s, n, r in EVENTS[1:3]]])
          + pack([TAG, event_stream(EVENTS[3:5])])
          + pack([TAG, gzip.compress(event_stream(EVENTS[5:])), {"compressed": "gzip"}]))

    # Compressed files: gzip with two members, zstd with two frames, no telling extension
    # for the second gzip (found by magic bytes).
    stream = event_stream()
    cut = len(pack([event_time(*EVENTS[0][:2]), EVENTS[0][2]])) * 2
    write("events.msgpack.gz", gzip.compress(stream[:cut]) + gzip.compress(stream[cut:]))
    write("events_gz_no_extension", gzip.compress(stream))
    write("events.msgpack.zst", zc.compress(stream[:cut]) + zc.compress(stream[cut:]))

    # Fluentd file-buffer chunks: a staged chunk (b) and a queued, gzip-compressed chunk (q)
    # whose sidecar miscounts its records (Fluentd writes the sidecar after the chunk).
    bid = "5e2f0c1a9d3b4c7e8f90a1b2c3d4e5f6"
    qid = "5e2f0c1a9d3b4c7e8f90a1b2c3d4e5f7"
    write(f"buffer/buffer.b{bid}.log", event_stream(EVENTS[:half]))
    write(f"buffer/buffer.b{bid}.log.meta", meta_sidecar("app.staged", half))
    write(f"buffer/buffer.q{qid}.log",
          gzip.compress(event_stream(EVENTS[half:half + 1])) + gzip.compress(event_stream(EVENTS[half + 1:])))
    write(f"buffer/buffer.q{qid}.log.meta", meta_sidecar("app.queued", len(EVENTS) - half + 1))

    # Hive-partitioned plain records.
    parts = {}
    for i, (s, _n, r) in enumerate(EVENTS):
        hour = "01" if i < half else "02"
        path = f"hive/dt=2026-11-21/hour={hour}/part-{i % 2}.msgpack"
        parts[path] = parts.get(path, b"") + pack(dict(r, ts=s))
    for path, data in parts.items():
        write(path, data)

    # A nested directory for `**` globs and extension filters.
    write("nested/a/one.msgpack", b"".join(pack(r) for _s, _n, r in EVENTS[:2]))
    write("nested/a/b/two.msgpack", b"".join(pack(r) for _s, _n, r in EVENTS[2:]))
    write("nested/a/b/notes.txt", b"not msgpack\n")

    expected = [{"time_ns": s * 10**9 + n, "record": r} for s, n, r in EVENTS]
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"tag": TAG, "events": expected}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
