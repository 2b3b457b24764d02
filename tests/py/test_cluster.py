"""A Ballista cluster of real processes on loopback: `mpq cluster scheduler` and two
`mpq cluster executor`s (ports chosen by the system, bounded waits, stopped with SIGTERM at the
end); queries and a conversion through `mpq query/convert --cluster` must equal local runs."""
import json
import os
import subprocess
import time

import pyarrow.parquet as pq
import pytest

from conftest import MPQ, ROOT, Cluster, mpq, mpq_json


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    d = tmp_path_factory.mktemp("cluster")
    c = Cluster(str(d))
    with c:
        yield c.url, d, c.procs
    assert c.codes == [0, 0, 0], f"every process stops cleanly on SIGTERM: {c.codes}"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("clusterdata")
    mp = d / "m.msgpack"
    mpq("generate", "--records", "20000", "--out", str(mp), "--seed", "5")
    return str(mp)


QUERIES = [
    "SELECT count(*) AS n FROM t",
    "SELECT service, count(*) AS n, round(avg(latency_ms), 6) AS a FROM t GROUP BY 1 ORDER BY 1",
    "SELECT level, service, count(*) AS n FROM t WHERE latency_ms > 100 GROUP BY 1, 2 ORDER BY 1, 2",
    "SELECT mp_typeof(code) AS ty, count(*) AS n FROM t GROUP BY 1 ORDER BY 1",
]


@pytest.mark.parametrize("sql", QUERIES)
def test_query_on_processes_equals_local(cluster, data, sql):
    url, _, _ = cluster
    assert mpq_json(sql, data, extra=("--cluster", url)) == mpq_json(sql, data)


def test_convert_on_processes_equals_local(cluster, data):
    url, d, _ = cluster
    local, remote = d / "local.parquet", d / "remote.parquet"
    mpq("convert", data, "-o", str(local))
    mpq("convert", data, "-o", str(remote), "--cluster", url)
    want, got = pq.read_table(local), pq.read_table(remote)
    assert got.schema == want.schema
    rows = lambda t: sorted(json.dumps(r, sort_keys=True, default=str) for r in t.to_pylist())  # noqa: E731
    assert rows(got) == rows(want)


def test_an_unreachable_scheduler_fails_fast_with_a_clear_message():
    started = time.time()
    out = subprocess.run([MPQ, "query", "--cluster", "df://127.0.0.1:1", "SELECT 1"], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    assert out.returncode != 0 and "cannot reach the cluster's scheduler at http://127.0.0.1:1" in out.stderr
    assert time.time() - started < 20


def test_problems_are_reported_by_the_executors(cluster):
    url, d, _ = cluster
    bad = os.path.join(ROOT, "testdata", "hostile", "not_a_map.msgpack")
    out = subprocess.run([MPQ, "query", "--cluster", url, "SELECT count(*) AS n FROM t", bad, "--format", "json"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [{"n": 5}]
    assert "wrote each problem to their stderr (one JSON line each), not to --rejects" in out.stderr
    # The counts come back with the job (the executors' scan metrics): the summary is a local run's.
    local = subprocess.run([MPQ, "query", "SELECT count(*) AS n FROM t", bad], capture_output=True, text=True, cwd=ROOT)
    summary = [x for x in out.stderr.splitlines() if "records read" in x]
    assert summary == ["mpq: 5 records read; 1 record errors (values set to NULL)"]
    assert summary[0] in local.stderr
    logs = "".join(open(d / f"executor{i}.log").read() for i in range(2))
    lines = [json.loads(x) for x in logs.splitlines() if x.startswith("{")]
    assert [(x["file"], x["record"], x["offset"], x["kind"]) for x in lines] == [(bad, 2, 28, "not_a_map")]


def test_copy_and_partitioned_convert_on_processes_equal_local(cluster, data):
    url, d, _ = cluster
    for where, extra in (("local", ()), ("remote", ("--cluster", url))):
        mpq("query", f"COPY (SELECT * FROM t WHERE status >= 400) TO '{d}/{where}.ndjson'", data, *extra)
        mpq("convert", data, "-o", str(d / f"{where}-parts"), "--partition-by", "level", *extra)
    assert sorted(open(d / "remote.ndjson")) == sorted(open(d / "local.ndjson"))
    for level in sorted(os.listdir(d / "local-parts")):
        want = pq.read_table(d / "local-parts" / level).to_pylist()
        got = pq.read_table(d / "remote-parts" / level).to_pylist()
        key = lambda r: json.dumps(r, sort_keys=True, default=str)  # noqa: E731
        assert sorted(map(key, got)) == sorted(map(key, want)), level
    assert sorted(os.listdir(d / "remote-parts")) == sorted(os.listdir(d / "local-parts"))


@pytest.mark.parametrize("where", ["processes", "in-process"])
def test_python_context_on_a_cluster_equals_local(cluster, data, where, tmp_path):
    import mpq as mpqpy

    url, _, _ = cluster
    remote = mpqpy.Context(cluster=url if where == "processes" else 2)
    local = mpqpy.Context()
    for ctx in (remote, local):
        ctx.register("t", data)
    sql = "SELECT service, level, count(*) AS n FROM t GROUP BY 1, 2 ORDER BY 1, 2"
    assert remote.sql(sql).to_arrow().equals(local.sql(sql).to_arrow())
    # The executors' counts reach the context's report (gathered with the job, or shared).
    assert remote.report()["records"] == local.report()["records"] == 20000
    remote.sql(f"COPY (SELECT * FROM t WHERE level = 'error') TO '{tmp_path}/e.ndjson'")
    local.sql(f"COPY (SELECT * FROM t WHERE level = 'error') TO '{tmp_path}/l.ndjson'")
    assert sorted(open(tmp_path / "e.ndjson")) == sorted(open(tmp_path / "l.ndjson"))
    with pytest.raises(mpqpy.OptionError, match="cluster= takes"):
        mpqpy.Context(cluster=[1])


def test_shell_on_processes_equals_local(cluster, data):
    url, _, _ = cluster
    sql = "SELECT level, count(*) AS n FROM t GROUP BY 1 ORDER BY 1"
    remote, _ = mpq("shell", "--cluster", url, data, "-c", sql, "--mode", "csv")
    local, _ = mpq("shell", data, "-c", sql, "--mode", "csv")
    assert remote == local and remote.count("\n") == 5


def test_the_cache_and_standard_input_are_refused_on_a_cluster(data, tmp_path):
    import mpq as mpqpy

    p = subprocess.run([MPQ, "query", "--cache", "--cache-dir", str(tmp_path), "--local-cluster", "1",
                        "SELECT count(*) FROM t", data], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert p.returncode == 2 and "--cache is this machine's columnar cache" in p.stderr
    with pytest.raises(mpqpy.OptionError, match="cache= is this machine's columnar cache"):
        mpqpy.Context(cluster=1, cache=str(tmp_path))
    p = subprocess.run([MPQ, "query", "--local-cluster", "1", "SELECT count(*) FROM t", "-"], input=open(data, "rb").read(),
                       capture_output=True, cwd=ROOT, timeout=60)
    assert p.returncode == 2 and b"standard input (-) is read by this process only" in p.stderr
