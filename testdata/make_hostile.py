#!/usr/bin/env python3
"""Writes the hostile corpus in testdata/hostile/ (see its README.md), byte by byte with the
standard library only, so each file is exactly the damage it is named for. Deterministic: run
it again and the files do not change."""

import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostile")


def s(text):
    """A fixstr/str8."""
    b = text.encode() if isinstance(text, str) else text
    if len(b) < 32:
        return bytes([0xA0 | len(b)]) + b
    return bytes([0xD9, len(b)]) + b


def rec(*pairs):
    """A fixmap of (key, encoded value) pairs."""
    out = bytes([0x80 | len(pairs)])
    for k, v in pairs:
        out += (s(k) if isinstance(k, str) else k) + v
    return out


def i(n):
    """A positive fixint or uint32."""
    return bytes([n]) if n < 128 else b"\xce" + struct.pack(">I", n)


def good(n, first=0):
    return b"".join(rec(("id", i(first + k)), ("msg", s(f"ok {first + k}"))) for k in range(n))


def event_time(secs, nanos):
    """Fluentd EventTime: ext 0 of 8 bytes."""
    return b"\xd7\x00" + struct.pack(">II", secs, nanos)


def ts96(secs, nanos):
    """MessagePack timestamp 96: ext -1 of 12 bytes."""
    return b"\xc7\x0c\xff" + struct.pack(">Iq", nanos, secs)


def event(t, body):
    return b"\x92" + t + body


FILES = {
    # A 15-byte input whose first header claims 2^29 pairs (gigabytes of data).
    "length_bomb_map.msgpack": b"\xdf\x20\x00\x00\x00" + rec(("a", i(1))) + s("bc") + i(2) + b"\x01\x02",
    # A str header claiming 4 GiB, and an array claiming 2^32-1 elements, each with a little
    # data after; the good record before each is kept.
    "length_bomb_str.msgpack": good(1) + b"\xdb\xff\xff\xff\xff" + b"abcdefghij",
    "length_bomb_array.msgpack": good(1) + b"\xdd\xff\xff\xff\xff" + b"\x01" * 10,
    # 100,000 nested arrays (and maps) around nil, after two good records.
    "deep_arrays.msgpack": good(2) + b"\x91" * 100_000 + b"\xc0",
    "deep_maps.msgpack": good(2) + (b"\x81\xa1k") * 100_000 + b"\xc0",
    # The reserved byte 0xc1 inside the third record.
    "reserved_c1.msgpack": good(2) + b"\x82\xa2id\x02\xa3msg\xc1" + good(2, 3),
    # Three good records, then the zero-filled tail a crashed, preallocated file leaves.
    "zero_tail.msgpack": good(3) + b"\x00" * 4096,
    # An input of zero bytes only.
    "all_zero.msgpack": b"\x00" * 1024,
    # Invalid UTF-8 in a str value of a text column, and in a key.
    "invalid_utf8.msgpack": good(2)
    + rec(("id", i(2)), ("msg", b"\xa4\xff\xfe\xfd\xfc"))
    + rec(("id", i(3)), (b"\xa2\xc3\x28", i(7)))
    + good(1, 4),
    # Event times whose nanoseconds are over 999,999,999 (EventTime and timestamp 96), and a
    # record field holding such a timestamp.
    "bad_nanos.msgpack": event(event_time(1_700_000_000, 5), rec(("n", i(0))))
    + event(event_time(1_700_000_001, 1_500_000_000), rec(("n", i(1))))
    + event(ts96(1_700_000_002, 2_000_000_000), rec(("n", i(2))))
    + event(event_time(1_700_000_003, 7), rec(("n", i(3)), ("at", ts96(1, 1_000_000_000)))),
    # Timestamps past Arrow's nanosecond range (year 2262): as event time and as a field.
    "time_out_of_range.msgpack": event(event_time(1_700_000_000, 0), rec(("n", i(0)), ("at", ts96(1, 0))))
    + event(ts96(10**12, 0), rec(("n", i(1)), ("at", ts96(2, 0))))
    + event(event_time(1_700_000_002, 0), rec(("n", i(2)), ("at", ts96(-(10**12), 0)))),
    # The same key twice in one map: the last one wins, and it is counted.
    "duplicate_keys.msgpack": rec(("a", i(1)), ("b", i(2)))
    + rec(("a", i(3)), ("a", i(4)), ("b", i(5))),
    # A map whose key is itself a map.
    "map_key_map.msgpack": rec(("a", i(1)))
    + rec((rec(("x", i(1))), s("v")), ("a", i(2))),
    # A record cut short by the end of the input.
    "truncated.msgpack": good(3) + good(1, 3)[:-3],
    # An int where a record (a map) belongs.
    "not_a_map.msgpack": good(2) + i(5) + good(2, 3),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in sorted(FILES.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    assert len(FILES["length_bomb_map.msgpack"]) == 15, len(FILES["length_bomb_map.msgpack"])


if __name__ == "__main__":
    main()
