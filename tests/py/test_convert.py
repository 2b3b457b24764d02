"""`mpq convert` output read back by independent readers (pyarrow and DuckDB): the same rows and
values as `mpq query --format ndjson` prints for the source, the documented types, the Parquet
JSON logical type, Hive partitions, the DuckDB DDL of `mpq schema --ddl`, and memory that does
not grow with the input."""
import base64
import datetime
import json
import os

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from conftest import MPQ, ROOT, mpq
from procmem import peak_rss_kib

SRC = "testdata/logs.msgpack"


@pytest.fixture(scope="module")
def expected():
    """The source as mpq's query prints it, one dict per record, in file order."""
    out, _ = mpq("query", "SELECT * FROM t", SRC, "--format", "ndjson")
    return [json.loads(line) for line in out.splitlines()]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("convert")
    paths = {}
    for name in ["logs.parquet", "logs.arrow", "logs.ndjson", "logs.csv"]:
        p = str(d / name)
        mpq("convert", SRC, "-o", p)
        paths[name] = p
    paths["raw.parquet"] = str(d / "raw.parquet")
    mpq("convert", SRC, "-o", paths["raw.parquet"], "--variant", "msgpack")
    return paths


def ns_text(ns):
    """Nanoseconds since the epoch as mpq renders timestamps (RFC 3339, shortest of ms/us/ns)."""
    secs, nanos = divmod(ns, 1_000_000_000)
    s = (datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=secs)).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        keep = 3 if nanos % 1_000_000 == 0 else 6 if nanos % 1000 == 0 else 9
        s += "." + f"{nanos:09d}"[:keep]
    return s + "Z"


def normalise(value, field_type, json_text=False):
    """A pyarrow Python value of `field_type` in mpq's JSON rendering."""
    if value is None:
        return None
    if json_text:
        return json.loads(value)
    if pa.types.is_timestamp(field_type):
        return value  # handled column-wise (nanoseconds)
    if pa.types.is_binary(field_type):
        return base64.b64encode(value).decode()
    if pa.types.is_decimal(field_type):
        return int(value)
    if pa.types.is_map(field_type):
        return {k: normalise(v, field_type.item_type) for k, v in value}
    if pa.types.is_list(field_type):
        return [normalise(v, field_type.value_type) for v in value]
    if pa.types.is_struct(field_type):
        return {f.name: normalise(value[f.name], storage(f.type), is_json(f)) for f in field_type}
    return value


def storage(t):
    return t.storage_type if isinstance(t, pa.BaseExtensionType) else t


def is_json(field):
    """pyarrow reads the Parquet JSON logical type as its `arrow.json` extension type."""
    return getattr(field.type, "extension_name", None) == "arrow.json"


def rows_of(table):
    cols = {}
    for field in table.schema:
        col = table.column(field.name)
        typ = storage(field.type)
        if pa.types.is_timestamp(typ):
            cols[field.name] = [None if v is None else ns_text(v) for v in col.cast(pa.int64()).to_pylist()]
        else:
            j = is_json(field)
            cols[field.name] = [normalise(v, typ, j) for v in col.to_pylist()]
    return [{k: cols[k][i] for k in cols} for i in range(table.num_rows)]


def test_parquet_read_by_pyarrow(outputs, expected):
    table = pq.read_table(outputs["logs.parquet"])
    assert rows_of(table) == expected
    # The variant columns carry the Parquet JSON logical type.
    schema = pq.ParquetFile(outputs["logs.parquet"]).schema
    logical = {schema.column(i).path: str(schema.column(i).logical_type) for i in range(len(schema))}
    assert logical["code"] == "JSON"
    assert logical["_extra"] == "JSON"
    types = {f.name: str(f.type) for f in table.schema}
    assert types["ts"] == "timestamp[ns, tz=UTC]"
    assert types["big"] == "uint64"
    assert types["delta"] == "decimal128(20, 0)"
    assert types["attrs"].startswith("map<string, int64")


def test_arrow_ipc_read_by_pyarrow(outputs, expected):
    with ipc.open_file(outputs["logs.arrow"]) as f:
        table = f.read_all()
    assert rows_of(table) == expected


def test_ndjson_is_what_the_query_prints(outputs, expected):
    with open(outputs["logs.ndjson"]) as f:
        rows = [json.loads(line) for line in f]
    assert rows == expected


def test_csv_read_by_pyarrow_and_duckdb(outputs, expected):
    table = pacsv.read_csv(outputs["logs.csv"], convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    assert table.num_rows == len(expected)
    got = table.column("service").to_pylist()
    assert got == [r["service"] for r in expected]
    codes = [None if v is None else json.loads(v) for v in table.column("code").cast(pa.string()).to_pylist()]
    assert codes == [r["code"] for r in expected]
    users = [None if v is None else json.loads(v) for v in table.column("user").to_pylist()]
    assert users == [r["user"] for r in expected]
    n = duckdb.connect().execute(f"SELECT count(*), sum(status) FROM read_csv('{outputs['logs.csv']}')").fetchone()
    assert n == (len(expected), sum(r["status"] for r in expected if r["status"] is not None))


def test_duckdb_reads_parquet_and_json_type(outputs, expected):
    con = duckdb.connect()
    p = outputs["logs.parquet"]
    assert con.execute(f"SELECT count(*) FROM '{p}'").fetchone()[0] == len(expected)
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM '{p}'").fetchall()}
    assert types["code"] == "JSON"
    got = con.execute(f"SELECT CAST(code AS VARCHAR) FROM '{p}'").fetchall()
    assert [None if g[0] is None else json.loads(g[0]) for g in got] == [r["code"] for r in expected]
    # The raw variant keeps the MessagePack bytes.
    raw = con.execute(f"SELECT code FROM '{outputs['raw.parquet']}'").fetchall()
    import msgpack

    assert [None if r[0] is None else msgpack.unpackb(r[0]) for r in raw] == [r["code"] for r in expected]


def test_hive_partitions_read_by_duckdb(tmp_path, expected):
    out = str(tmp_path / "warehouse" / "logs")
    mpq("convert", SRC, "-o", out, "--partition-by", "dt,level", "--query", "SELECT *, CAST(ts AS DATE) AS dt FROM t")
    con = duckdb.connect()
    got = con.execute(
        f"SELECT CAST(dt AS VARCHAR), level, count(*) FROM read_parquet('{out}/**/*.parquet', hive_partitioning = true)"
        " GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    want, _ = mpq(
        "query",
        "SELECT CAST(CAST(ts AS DATE) AS VARCHAR) AS dt, level, count(*) AS n FROM t GROUP BY 1, 2 ORDER BY 1, 2",
        SRC,
        "--format",
        "json",
    )
    assert [tuple(r) for r in got] == [(r["dt"], r["level"], r["n"]) for r in json.loads(want)]


def test_duckdb_ddl_matches_the_files(tmp_path):
    out = str(tmp_path / "logs")
    query = "SELECT *, CAST(ts AS DATE) AS dt FROM t"
    mpq("convert", SRC, "-o", out, "--partition-by", "dt", "--query", query)
    ddl, _ = mpq("schema", SRC, "--ddl", "duckdb", "--location", out, "--partition-by", "dt", "--query", query)
    con = duckdb.connect()
    con.execute(ddl)
    assert con.execute("SELECT count(*) FROM logs").fetchone()[0] == 2000
    declared = [(r[0], r[1]) for r in con.execute("DESCRIBE logs").fetchall()]
    read = [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{out}/**/*.parquet', hive_partitioning = true)").fetchall()]
    assert sorted(declared) == sorted(read)


def test_memory_does_not_grow_with_the_input(tmp_path):
    """Ten times the records, the same peak: memory is bounded by the batches and row groups in
    flight (small row groups, so that the smaller input already reaches that steady state). One
    thread: a file above 10 MiB is otherwise split into one range per core, and the steady state
    of several ranges feeding one writer takes more than the small input to reach."""
    small, large = str(tmp_path / "small.msgpack"), str(tmp_path / "large.msgpack")
    mpq("generate", "--records", "50000", "--out", small)
    mpq("generate", "--records", "500000", "--out", large)
    rss = []
    for src in (small, large):
        out = src.replace(".msgpack", ".parquet")
        cmd = [MPQ, "--threads", "1", "convert", src, "-o", out, "--row-group-size", "5000", "--mmap", "always"]
        code, err, peak = peak_rss_kib(cmd, cwd=ROOT)
        assert code == 0, err
        rss.append(peak)
    assert os.path.getsize(large) > 9 * os.path.getsize(small)
    assert rss[1] <= 1.2 * rss[0], f"peak RSS {rss[0]} KiB for 1x, {rss[1]} KiB for 10x"


def test_null_partitions_stay_null(tmp_path):
    """DataFusion's writer would file NULL under `false`; mpq writes Hive's default partition."""
    out = str(tmp_path / "by_flag")
    mpq("convert", SRC, "-o", out, "--partition-by", "flag")
    assert sorted(os.listdir(out)) == ["flag=__HIVE_DEFAULT_PARTITION__", "flag=false", "flag=true"]
    got = duckdb.connect().execute(
        f"SELECT flag, count(*) FROM read_parquet('{out}/**/*.parquet', hive_partitioning = true) GROUP BY 1 ORDER BY 1"
    ).fetchall()
    want, _ = mpq("query", "SELECT CAST(flag AS VARCHAR) AS f, count(*) AS n FROM t GROUP BY 1 ORDER BY 1", SRC, "--format", "json")
    assert got == [(r["f"], r["n"]) for r in json.loads(want)]


def test_timestamp_unit_for_readers_without_nanoseconds(tmp_path, expected):
    out = str(tmp_path / "us.parquet")
    mpq("convert", SRC, "-o", out, "--timestamp-unit", "us", "--query", "SELECT ts, seen_at FROM t")
    table = pq.read_table(out)
    assert str(table.schema.field("ts").type) == "timestamp[us, tz=UTC]"
    got = [None if v is None else ns_text(v * 1000) for v in table.column("ts").cast(pa.int64()).to_pylist()]
    # The generated times have at most microsecond digits, so nothing is cut here.
    assert got == [r["ts"] for r in expected]


def test_two_converts_racing_for_one_new_output_never_both_succeed(tmp_path):
    """Both start while the output does not exist; the commit never replaces what the other
    committed meanwhile: one wins, the other reports the existing output and leaves nothing
    behind. Repeated, files and partitioned directories alike."""
    import subprocess

    for i in range(20):
        partitioned = i % 2 == 1
        out = tmp_path / (f"parts{i}" if partitioned else f"out{i}.parquet")
        extra = ["--partition-by", "level"] if partitioned else []
        procs = [subprocess.Popen([MPQ, "convert", SRC, "-o", str(out), "--no-progress", *extra], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [(p.wait(timeout=60), p.stderr.read()) for p in procs]
        # Never both: the second commit would have replaced the first's output.
        assert sorted(code for code, _ in results) == [0, 2], results
        loser = next(err for code, err in results if code == 2)
        assert "already exists; --force replaces it" in loser, loser
        leftovers = [n for n in os.listdir(tmp_path) if ".mpq-tmp-" in n or n.endswith(".old")]
        assert leftovers == [], leftovers
        assert pq.read_table(out).num_rows == 2000
