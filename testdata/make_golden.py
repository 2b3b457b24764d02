#!/usr/bin/env python3
"""Writes the Python-encoded golden files in testdata/golden/ with msgpack-python (an
encoder independent of mpq). Run: .venv/bin/python testdata/make_golden.py"""
import datetime
import os
import struct

import msgpack

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")


def pack(v, **kw):
    return msgpack.packb(v, use_bin_type=True, **kw)


def raw_map(pairs):
    """A map from (key, already-packed value bytes) pairs, so one record can mix encodings."""
    n = len(pairs)
    head = bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)
    return head + b"".join(pack(k) + v for k, v in pairs)


def formats():
    """One record per MessagePack format family, each forced to that exact encoding."""
    return raw_map([
        ("pos_fixint", b"\x05"),
        ("neg_fixint", b"\xfb"),
        ("u8", b"\xcc\xc8"),
        ("u16", b"\xcd\x01\x2c"),
        ("u32", b"\xce\x00\x01\x86\xa0"),
        ("u64", b"\xcf" + struct.pack(">Q", 2**64 - 1)),
        ("i8", b"\xd0\x80"),
        ("i16", b"\xd1\x80\x00"),
        ("i32", b"\xd2\x80\x00\x00\x00"),
        ("i64", b"\xd3" + struct.pack(">q", -2**63)),
        ("f32", pack(1.5, use_single_float=True)),
        ("f64", pack(0.1)),
        ("fixstr", pack("héllo")),
        ("str8", pack("x" * 40)),
        ("str16", pack("y" * 300)),
        ("str32", b"\xdb" + struct.pack(">I", 3) + b"abc"),
        ("bin8", pack(b"\x00\x01\x02")),
        ("bin16", pack(b"\xff" * 300)),
        ("bin32", b"\xc6" + struct.pack(">I", 2) + b"\xde\xad"),
        ("fixarray", pack([1, 2, 3])),
        ("array16", pack(list(range(20)))),
        ("array32", b"\xdd" + struct.pack(">I", 2) + b"\x07\x08"),
        ("fixmap", pack({"a": 1})),
        ("map16", pack({f"k{i}": i for i in range(17)})),
        ("map32", b"\xdf" + struct.pack(">I", 1) + pack("z") + b"\xc3"),
        ("fixext1", b"\xd4\x05\x01"),
        ("fixext2", b"\xd5\x05\x01\x02"),
        ("fixext4", b"\xd6\x05" + b"\x01" * 4),
        ("fixext8", b"\xd7\x05" + b"\x01" * 8),
        ("fixext16", b"\xd8\x05" + b"\x01" * 16),
        ("ext8", b"\xc7\x03\x05abc"),
        ("ext16", b"\xc8\x00\x03\x05abc"),
        ("ext32", b"\xc9\x00\x00\x00\x03\x05abc"),
        ("ts32", pack(msgpack.Timestamp(1_700_000_000, 0))),
        ("ts64", pack(msgpack.Timestamp(1_700_000_000, 500_000_000))),
        ("ts96", pack(msgpack.Timestamp(-1, 999_999_999))),
        ("event_time", b"\xd7\x00" + struct.pack(">II", 1_700_000_000, 123)),
        ("nil", b"\xc0"),
        ("t", b"\xc3"),
        ("f", b"\xc2"),
    ])


def write_formats():
    with open(os.path.join(HERE, "py_formats.msgpack"), "wb") as f:
        f.write(formats())


def write_events():
    """A Fluentd event stream: [time, record] with EventTime, integer and float times."""
    events = [
        (msgpack.ExtType(0, struct.pack(">II", 1_700_000_000, 1)), {"msg": "start", "pid": 42}),
        (1_700_000_001, {"msg": "int time", "pid": 42}),
        (1_700_000_002.25, {"msg": "float time", "pid": 42, "extra": [1, "two"]}),
        (msgpack.ExtType(0, struct.pack(">II", 1_700_000_003, 999_999_999)), {"msg": "nanos", "pid": None}),
        (msgpack.ExtType(0, struct.pack(">II", 1_700_000_004, 0)), {"msg": "ünïcode", "pid": 43}),
        (msgpack.ExtType(0, struct.pack(">II", 1_700_000_005, 0)), {"msg": "last", "pid": 43, "time": "shadowed"}),
    ]
    with open(os.path.join(os.path.dirname(HERE), "events.msgpack"), "wb") as f:
        for t, r in events:
            f.write(pack([t, r]))


def write_values():
    """A stream of values that are not maps: one column `value`."""
    with open(os.path.join(HERE, "py_values.msgpack"), "wb") as f:
        for v in [1, 2, 3, -4, 2**40, None, 7]:
            f.write(pack(v))


def write_conflicts():
    """Type conflicts and late keys a 3-record sample cannot foresee."""
    recs = [{"id": i, "v": i * 10, "s": f"s{i}"} for i in range(3)]
    recs += [{"id": 3, "v": "ten", "s": "s3", "late": True}, {"id": 4, "v": 40, "s": None, "late": {"deep": [1]}}]
    recs += [{"id": 5, "v": 50, "s": b"\xff\xfe", "dup": 1}]
    with open(os.path.join(HERE, "py_conflicts.msgpack"), "wb") as f:
        for r in recs:
            f.write(pack(r))
        # A map with a duplicate key ("id" twice: the last one wins) and a non-string key.
        f.write(b"\x83" + pack("id") + pack(6) + pack("id") + pack(7) + pack(1) + pack("int key"))


if __name__ == "__main__":
    os.makedirs(HERE, exist_ok=True)
    write_formats()
    write_events()
    write_values()
    write_conflicts()
