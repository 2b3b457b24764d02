"""Differential test: the same generated messy records as MessagePack (read by mpq) and as
NDJSON (read by DuckDB); the answers to the same questions must agree."""
import math

import duckdb
import pytest

from conftest import mpq, mpq_json

# (name, mpq SQL over table t, DuckDB SQL over table j)
QUERIES = [
    ("count", "SELECT count(*) AS n FROM t", "SELECT count(*) FROM j"),
    ("filter_count", "SELECT count(*) FROM t WHERE level = 'error'", "SELECT count(*) FROM j WHERE level = 'error'"),
    (
        "group_avg",
        "SELECT service, count(*), avg(latency_ms) FROM t GROUP BY service ORDER BY service",
        "SELECT service, count(*), avg(latency_ms) FROM j GROUP BY service ORDER BY service",
    ),
    (
        "topk_nested",
        'SELECT "user".geo.country AS c, count(*) AS n FROM t WHERE "user".geo.country IS NOT NULL GROUP BY 1 ORDER BY n DESC, c LIMIT 5',
        'SELECT "user".geo.country AS c, count(*) AS n FROM j WHERE "user".geo.country IS NOT NULL GROUP BY 1 ORDER BY n DESC, c LIMIT 5',
    ),
    (
        "optional_nested_filter",
        "SELECT count(*) FROM t WHERE \"user\".geo.country = 'DE'",
        "SELECT count(*) FROM j WHERE \"user\".geo.country = 'DE'",
    ),
    ("sum_filter", "SELECT sum(status) FROM t WHERE status >= 500", "SELECT sum(status) FROM j WHERE status >= 500"),
    ("min_max", "SELECT min(latency_ms), max(latency_ms) FROM t", "SELECT min(latency_ms), max(latency_ms) FROM j"),
    ("list_len", "SELECT sum(cardinality(tags)), count(tags) FROM t", "SELECT sum(len(tags)), count(tags) FROM j"),
    ("missing_or_nil", 'SELECT count(*) FROM t WHERE "user" IS NULL', 'SELECT count(*) FROM j WHERE "user" IS NULL'),
    ("distinct", "SELECT count(DISTINCT service), count(DISTINCT \"user\".name) FROM t", "SELECT count(DISTINCT service), count(DISTINCT \"user\".name) FROM j"),
    ("uint64", "SELECT count(*) FROM t WHERE big > 9223372036854775807", "SELECT count(*) FROM j WHERE big > 9223372036854775807"),
    ("negative", "SELECT count(*) FROM t WHERE delta < 0", "SELECT count(*) FROM j WHERE delta < 0"),
    ("float32", "SELECT avg(ratio), sum(ratio) FROM t", "SELECT avg(ratio), sum(ratio) FROM j"),
    (
        "timestamp",
        "SELECT count(*) FROM t WHERE ts >= TIMESTAMP '2023-11-14T22:50:00.5Z'",
        "SELECT count(*) FROM j WHERE CAST(ts AS TIMESTAMPTZ) >= TIMESTAMPTZ '2023-11-14 22:50:00.5+00'",
    ),
    (
        "event_time_field",
        "SELECT count(seen_at), min(date_part('second', seen_at)) FROM t",
        "SELECT count(seen_at), min(date_part('second', CAST(seen_at AS TIMESTAMPTZ))) FROM j",
    ),
    ("bool", "SELECT count(*) FROM t WHERE flag", "SELECT count(*) FROM j WHERE flag"),
    ("binary_present", "SELECT count(payload) FROM t", "SELECT count(payload) FROM j"),
    # The same questions through the MessagePack functions (mpq-udfs) over _record.
    (
        "udf_nested_str",
        "SELECT mp_get_str(_record, 'user', 'geo', 'country') AS c, count(*) AS n FROM t GROUP BY 1 ORDER BY n DESC, c",
        'SELECT "user".geo.country AS c, count(*) AS n FROM j GROUP BY 1 ORDER BY n DESC, c',
    ),
    ("udf_int_path", "SELECT sum(mp_get_int(_record, 'user.id')) FROM t", 'SELECT sum("user".id) FROM j'),
    (
        "udf_text_operator",
        "SELECT _record ->> 'code' AS c, count(*) AS n FROM t GROUP BY 1 ORDER BY n DESC, c LIMIT 10",
        "SELECT CAST(code AS VARCHAR) AS c, count(*) AS n FROM j GROUP BY 1 ORDER BY n DESC, c LIMIT 10",
    ),
    (
        "udf_cast_rewrite",
        "SELECT CAST(mp_get(_record, 'retry') AS BIGINT) AS r, count(*) FROM t GROUP BY 1 ORDER BY 1 NULLS FIRST",
        "SELECT TRY_CAST(retry AS BIGINT) AS r, count(*) FROM j GROUP BY 1 ORDER BY 1 NULLS FIRST",
    ),
    (
        "udf_variant_comparison",
        "SELECT count(*) FROM t WHERE _record -> 'latency_ms' > 250",
        "SELECT count(*) FROM j WHERE latency_ms > 250",
    ),
    ("udf_contains", "SELECT count(*) FROM t WHERE _record ? 'seen_at'", "SELECT count(seen_at) FROM j"),
    (
        "udf_unnest",
        "SELECT mp_get_str(x) AS tag, count(*) FROM (SELECT unnest(mp_get_array(_record, 'tags')) AS x FROM t) GROUP BY 1 ORDER BY 1",
        "SELECT tag, count(*) FROM (SELECT unnest(tags) AS tag FROM j) GROUP BY 1 ORDER BY 1",
    ),
    (
        "udf_ts",
        "SELECT count(*), min(mp_get_ts(_record, 'seen_at')) = min(seen_at) FROM t",
        "SELECT count(*), true FROM j",
    ),
    (
        "group_two_keys",
        "SELECT level, service, count(*) FROM t GROUP BY 1, 2 ORDER BY 1, 2",
        "SELECT level, service, count(*) FROM j GROUP BY 1, 2 ORDER BY 1, 2",
    ),
]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("diff")
    mp, nd = d / "m.msgpack", d / "m.ndjson"
    mpq("generate", "--records", "4000", "--out", str(mp), "--ndjson", str(nd), "--seed", "3")
    con = duckdb.connect()
    con.execute(f"CREATE TABLE j AS SELECT * FROM read_json('{nd}', format='newline_delimited', sample_size=-1)")
    return str(mp), con


def close(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return a == b


@pytest.mark.parametrize("where", [(), ("--local-cluster", "2")], ids=["local", "cluster"])
@pytest.mark.parametrize("name,ours,theirs", QUERIES, ids=[q[0] for q in QUERIES])
def test_agrees_with_duckdb(data, name, ours, theirs, where):
    """Locally, and on an in-process cluster of two executors (`--local-cluster 2`)."""
    mp, con = data
    got = [list(r.values()) for r in mpq_json(ours, mp, extra=where)]
    want = [list(r) for r in con.execute(theirs).fetchall()]
    assert len(got) == len(want), (got, want)
    for g, w in zip(got, want):
        assert len(g) == len(w)
        for a, b in zip(g, w):
            assert close(a, b if not hasattr(b, "__int__") or isinstance(b, (int, float)) else int(b)), (name, g, w)
