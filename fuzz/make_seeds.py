#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target into fuzz/seeds/<target>/ from the test data
(standard library only; deterministic). The decoding targets read an options byte first
(see mpq_hostile::options_of): 0x07 is auto-detected layout, NULL on record errors, truncate
on framing errors; 0x87 the same with small limits (depth 8, records of 256 bytes)."""

import glob
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "fuzz", "seeds")
MAX = 4096


def write(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def inputs():
    files = sorted(glob.glob(os.path.join(ROOT, "testdata", "*.msgpack")))
    files += sorted(glob.glob(os.path.join(ROOT, "testdata", "hostile", "*.msgpack")))
    files += sorted(p for p in glob.glob(os.path.join(ROOT, "testdata", "layouts", "*")) if os.path.isfile(p))
    files += sorted(glob.glob(os.path.join(ROOT, "testdata", "seqfile", "*.seq")))
    for p in files:
        if p.endswith(".json"):
            continue
        with open(p, "rb") as f:
            yield os.path.basename(p), f.read(MAX)


def main():
    for name, data in inputs():
        for target in ("decode", "inference"):
            write(target, name, b"\x07" + data)
            write(target, name + ".small-limits", b"\x87" + data)
        write("wire", name, data)
    # Paths and values for the reading functions: "path\n" then values split by 0xff.
    record = bytes.fromhex("83a475736572 82a2696407a367656f81a7636f756e747279a2667e".replace(" ", ""))
    record += bytes.fromhex("a474616773 92a161a162".replace(" ", ""))
    record += bytes.fromhex("a174 d6ff65000000".replace(" ", ""))
    for i, path in enumerate(["$", "user.id", "user.geo.country", "tags[1]", "t", "$.user[\"id\"]", "tags[-1]"]):
        write("read_functions", f"path{i}", path.encode() + b"\n" + record + b"\xff" + record[:9] + b"\xff\xc1")
    # JSON texts for mp_from_json, and values for mp_pack.
    texts = ['{"a": [1, 2.5, "x", null, true], "b": {"c": -7}}', "18446744073709551615", '"\\ud83d\\ude00"', "[[[]]]"]
    for i, t in enumerate(texts):
        write("build_functions", f"json{i}", t.encode())
    write("build_functions", "values", record + b"\xff" + b"\x92\x01" + b"\xff" + b"\xc0")


if __name__ == "__main__":
    main()
