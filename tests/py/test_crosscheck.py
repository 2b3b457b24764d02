"""Cross-checks mpq against msgpack-python (an independent decoder) on every golden file:
the whole record as mpq sees it (`_record`) must equal Python's, and every key and value must
be reachable through its column or `_extra` (nothing lost)."""
import json

import pytest

from conftest import mpq, mpq_json, normalise, unpack_file

RECORD_FILES = [
    "testdata/golden/py_formats.msgpack",
    "testdata/golden/py_conflicts.msgpack",
    "testdata/golden/rb_records.msgpack",
    "testdata/logs.msgpack",
]


def strip_nulls(v):
    """nil and a missing key are both NULL in columns: drop null-valued map entries."""
    if isinstance(v, dict):
        return {k: strip_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [strip_nulls(x) for x in v]
    return v


def same(a, b):
    """Equal, allowing a Binary column's base64 for a valid string and int/float equality."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, str) and isinstance(b, str) and a != b:
        import base64

        return base64.b64encode(a.encode()).decode() == b or base64.b64encode(b.encode()).decode() == a
    return a == b


def python_records(path):
    recs = unpack_file(path)
    # Duplicate keys: Python keeps the last, as mpq does.
    return [normalise(r) for r in recs]


@pytest.mark.parametrize("path", RECORD_FILES)
@pytest.mark.parametrize("infer", ["1000", "2"])
def test_whole_record_matches_python(path, infer):
    rows = mpq_json("SELECT mp_to_json(_record) AS r FROM t", path, extra=("--with-record", "--infer-rows", infer))
    ours = [json.loads(r["r"]) for r in rows]
    assert ours == python_records(path)


@pytest.mark.parametrize("path", RECORD_FILES)
@pytest.mark.parametrize("infer", ["1000", "2"])
def test_every_key_reachable_through_columns_or_extra(path, infer):
    rows = mpq_json("SELECT * FROM t", path, extra=("--infer-rows", infer))
    expected = python_records(path)
    assert len(rows) == len(expected)
    for i, (row, exp) in enumerate(zip(rows, expected)):
        extra = row.pop("_extra") or {}
        merged = dict(row)
        for k, v in extra.items():
            merged[k] = v  # a pair in _extra replaces its (NULL or partial) column value
        if not isinstance(exp, dict):
            continue  # a non-map record in a map stream is a record error, checked elsewhere
        assert same(strip_nulls(merged), strip_nulls(exp)), f"record {i}: {merged} != {exp}"


def test_events_match_python():
    rows = mpq_json("SELECT time, mp_to_json(_record) AS r FROM t", "testdata/events.msgpack", extra=("--with-record",))
    expected = unpack_file("testdata/events.msgpack")
    assert len(rows) == len(expected)
    for row, (t, rec) in zip(rows, expected):
        assert json.loads(row["r"]) == normalise(rec)
        if isinstance(t, int):
            assert row["time"] == normalise(msgpack_ts(t, 0))
        elif isinstance(t, float):
            secs = int(t // 1)
            assert row["time"] == normalise(msgpack_ts(secs, round((t - secs) * 1e9)))
        else:
            assert row["time"] == normalise(t)


def msgpack_ts(s, n):
    import msgpack

    return msgpack.Timestamp(s, n)


def test_values_layout_matches_python():
    rows = mpq_json("SELECT value FROM t", "testdata/golden/py_values.msgpack")
    assert [r["value"] for r in rows] == [normalise(v) for v in unpack_file("testdata/golden/py_values.msgpack")]


def test_generated_data_loses_nothing_with_tiny_sample(tmp_path):
    mp = tmp_path / "m.msgpack"
    mpq("generate", "--records", "3000", "--out", str(mp), "--seed", "9")
    rows = mpq_json("SELECT * FROM t", str(mp), extra=("--infer-rows", "5", "--infer-probes", "0"))
    expected = python_records(str(mp))
    assert any(r["_extra"] for r in rows), "a 5-record sample must leave pairs to _extra"
    for i, (row, exp) in enumerate(zip(rows, expected)):
        extra = row.pop("_extra") or {}
        merged = {**row, **extra}
        assert same(strip_nulls(merged), strip_nulls(exp)), f"record {i}"
