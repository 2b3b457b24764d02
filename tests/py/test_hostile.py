"""The hostile corpus (testdata/hostile/) against msgpack-python, an independent decoder:
reading each damaged file value by value until it fails, the maps it reads before the damage
are exactly the rows mpq keeps (with --on-error drop, so a non-map value is left out), and
the offset where it stopped is the record offset mpq reports in --rejects."""
import json
import os

import msgpack
import pytest

from conftest import ROOT, mpq

HOSTILE = os.path.join(ROOT, "testdata", "hostile")

# Plain-record files: everything but the event streams and the ones that are not damaged.
FILES = [
    "all_zero.msgpack",
    "deep_arrays.msgpack",
    "deep_maps.msgpack",
    "length_bomb_array.msgpack",
    "length_bomb_map.msgpack",
    "length_bomb_str.msgpack",
    "not_a_map.msgpack",
    "reserved_c1.msgpack",
    "truncated.msgpack",
    "zero_tail.msgpack",
]


def python_view(data):
    """The values msgpack-python reads before it fails, with where each starts, and the offset
    where it failed (None if it read to the end)."""
    unpacker = msgpack.Unpacker(raw=False, max_buffer_size=len(data) + 1)
    unpacker.feed(data)
    values = []
    while True:
        start = unpacker.tell()
        try:
            values.append((start, unpacker.unpack()))
        except msgpack.OutOfData:
            return values, (start if start < len(data) else None)
        except (msgpack.ExtraData, msgpack.FormatError, msgpack.StackError, ValueError):
            return values, start


@pytest.mark.parametrize("name", FILES)
def test_mpq_keeps_what_an_independent_decoder_reads_before_the_damage(name, tmp_path):
    path = os.path.join(HOSTILE, name)
    with open(path, "rb") as f:
        data = f.read()
    values, failed_at = python_view(data)
    # A zero-filled tail decodes as zeros for msgpack-python; mpq calls it what it is.
    zeros = next((s for s, v in values if v == 0 and not any(data[s:])), None)
    maps = [v for s, v in values if isinstance(v, dict) and (zeros is None or s < zeros)]
    rejects = tmp_path / "rejects.ndjson"
    out, _ = mpq("query", "SELECT * FROM t", path, "--format", "ndjson", "--on-error", "drop", "--rejects", str(rejects))
    rows = [json.loads(line) for line in out.splitlines()]
    assert [{k: v for k, v in r.items() if k != "_extra"} for r in rows] == maps
    problems = [json.loads(line) for line in rejects.read_text().splitlines()]
    framing = [p for p in problems if p["action"] == "truncated"]
    cut = zeros if zeros is not None else failed_at
    if cut is None:
        assert framing == []
    else:
        assert [p["record_offset"] for p in framing] == [cut]
        assert framing[0]["dropped_bytes"] == [cut, len(data)]
    # Each value that is not a map is a record error at its own offset.
    not_maps = [s for s, v in values if not isinstance(v, dict) and (zeros is None or s < zeros)]
    assert [p["record_offset"] for p in problems if p["kind"] == "not_a_map"] == not_maps
