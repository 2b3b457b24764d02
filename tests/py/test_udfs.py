"""mpq's MessagePack functions checked against msgpack-python (an independent encoder and
decoder) on random values: mp_to_json must give the JSON rendering of the value Python packed
(README, "JSON rendering"), mp_typeof its family, and mp_from_json must read it back."""
import json
import random

import msgpack
import pytest

from conftest import mpq, normalise

KEYS = ["a", "b", "user", "k.1", "", "ünï"]


def value(r, depth=0):
    kind = r.randrange(12 if depth < 3 else 9)
    if kind == 0:
        return None
    if kind == 1:
        return r.random() < 0.5
    if kind == 2:
        return r.choice([r.randrange(-40, 200), r.randrange(-(2**63), 2**63), r.randrange(2**63, 2**64)])
    if kind == 3:
        return r.choice([r.uniform(-1e6, 1e6), float(r.randrange(-100, 100)), 1e300, -2.5e-8, float("nan"), float("inf")])
    if kind == 4:
        return "".join(r.choice("abcü \"\\\n\t😀") for _ in range(r.randrange(0, 40)))
    if kind == 5:
        return bytes(r.randrange(256) for _ in range(r.randrange(0, 20)))
    if kind == 6:
        return msgpack.Timestamp(r.randrange(-(2**34), 2**34), r.choice([0, 500_000_000, r.randrange(10**9)]))
    if kind == 7:
        return msgpack.ExtType(r.randrange(1, 128), bytes(r.randrange(256) for _ in range(r.randrange(0, 9))))
    if kind == 8:
        return r.choice(["", "x" * 300, "y" * 70000])
    if kind in (9, 10):
        return [value(r, depth + 1) for _ in range(r.randrange(0, 5))]
    keys = [r.choice(KEYS + [1, -7, True, None]) for _ in range(r.randrange(0, 5))]
    return {k: value(r, depth + 1) for k in keys}


def family(v):
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "str"
    if isinstance(v, bytes):
        return "bin"
    if isinstance(v, msgpack.Timestamp):
        return "timestamp"
    if isinstance(v, msgpack.ExtType):
        return "ext"
    if isinstance(v, list):
        return "array"
    return "map"


def same(a, b):
    """Equal as JSON values, NaN-free (NaN renders as null)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@pytest.fixture(scope="module")
def values(tmp_path_factory):
    r = random.Random(20261121)
    vals = [value(r) for _ in range(1500)]
    path = tmp_path_factory.mktemp("udfs") / "values.msgpack"
    with open(path, "wb") as f:
        for i, v in enumerate(vals):
            f.write(msgpack.packb({"i": i, "v": v}, use_bin_type=True))
    return str(path), vals


def test_to_json_and_typeof_match_msgpack_python(values):
    path, vals = values
    sql = "SELECT i, mp_to_json(_record -> 'v') AS j, mp_typeof(_record, 'v') AS ty FROM t ORDER BY i"
    out, _ = mpq("query", sql, path, "--format", "ndjson")
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == len(vals)
    for row, v in zip(rows, vals):
        assert row["ty"] == family(v), (row, v)
        assert same(json.loads(row["j"]), normalise(v)), (row["j"], v)


def test_from_json_reads_back_what_to_json_wrote(values):
    path, vals = values
    # JSON text cannot say which strings were bin or timestamps, so compare JSON with JSON.
    sql = "SELECT i, mp_to_json(mp_from_json(mp_to_json(_record -> 'v'))) = mp_to_json(_record -> 'v') AS same FROM t ORDER BY i"
    out, _ = mpq("query", sql, path, "--format", "ndjson")
    assert all(json.loads(line)["same"] for line in out.splitlines())


def test_typed_getters_match_python(values):
    path, vals = values
    sql = "SELECT i, mp_get_int(_record, 'v') AS n, mp_get_str(_record, 'v') AS s, mp_len(_record, 'v') AS len FROM t ORDER BY i"
    out, _ = mpq("query", sql, path, "--format", "ndjson")
    for line, v in zip(out.splitlines(), vals):
        row = json.loads(line)
        if isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v < 2**63:
            assert row["n"] == v
        elif isinstance(v, float) and v == v and v.is_integer() and -(2**63) <= v < 2**63:
            assert row["n"] == int(v)
        elif isinstance(v, str):
            assert row["s"] == v
            assert row["len"] == len(v)
        if isinstance(v, (list, dict, bytes)):
            assert row["len"] == len(v)


def test_readme_queries_against_msgpack_python():
    """The three queries of the README's "SQL functions" section, answered by Python from its
    own decoding of the same files."""
    from collections import Counter

    from conftest import unpack_file

    logs = unpack_file("testdata/logs.msgpack")
    out, _ = mpq(
        "query",
        "SELECT mp_get_str(_record, 'user', 'geo', 'country') AS c, count(*) AS n FROM logs GROUP BY 1",
        "testdata/logs.msgpack",
        "--format",
        "ndjson",
    )
    got = {json.loads(l)["c"]: json.loads(l)["n"] for l in out.splitlines()}
    want = Counter(
        ((r.get("user") or {}).get("geo") or {}).get("country") if isinstance(r.get("user"), dict) else None for r in logs
    )
    assert got == dict(want)

    mixed = unpack_file("testdata/mixed.msgpack")
    out, _ = mpq(
        "query",
        "SELECT value ->> 'code' AS code, count(*) AS n FROM t WHERE mp_typeof(value) = 'map' GROUP BY 1",
        "testdata/mixed.msgpack",
        "--format",
        "ndjson",
    )
    got = {json.loads(l)["code"]: json.loads(l)["n"] for l in out.splitlines()}
    assert got == dict(Counter(str(v["code"]) for v in mixed if isinstance(v, dict)))

    out, err = mpq(
        "query",
        "SELECT CAST(mp_get(_extra, 'retry') AS BIGINT) AS r, count(*) AS n FROM t GROUP BY 1",
        "testdata/logs.msgpack",
        "--infer-probes",
        "0",
        "--format",
        "ndjson",
    )
    got = {json.loads(l)["r"]: json.loads(l)["n"] for l in out.splitlines()}
    assert got == dict(Counter(int(r["retry"]) if "retry" in r else None for r in logs))
    assert "_extra" in err
