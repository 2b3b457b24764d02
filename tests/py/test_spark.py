"""Spark and Hive as real readers (pyspark from PyPI, local mode, loopback only, Java 17), one
Spark session for the module:

- mpq's conversions of the test corpora (`--for spark`, plain and Hive-partitioned), registered
  with the statements `mpq schema --ddl spark` and `--ddl hive` print (Spark with Hive support
  and a throwaway Derby metastore), read back by Spark with every row equal to
  `mpq query --format ndjson` (timestamps in microseconds, as `--for spark` writes them).
- SequenceFiles written by Spark itself (BytesWritable and Text keys, block compression with
  each codec Spark can write here, record compression), read by mpq and checked against
  msgpack-python's decoding of the same values.
"""
import base64
import datetime
import decimal
import glob
import json
import os
import shutil

import msgpack
import pyarrow as pa
import pytest

import mpq
from conftest import ROOT, mpq as run_cli


EPOCH = datetime.datetime(1970, 1, 1)


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    # Loopback only: the driver, its block manager and the local executor.
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    tmp = tmp_path_factory.mktemp("spark")
    java = f"-Dderby.system.home={tmp} -Dderby.stream.error.file={tmp}/derby.log"
    session = (
        SparkSession.builder.master("local[2]")
        .appName("mpq-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(tmp / "warehouse"))
        .config("spark.local.dir", str(tmp / "local"))
        .config("spark.driver.extraJavaOptions", java)
        .config("spark.hadoop.javax.jdo.option.ConnectionURL", f"jdbc:derby:;databaseName={tmp}/metastore;create=true")
        .enableHiveSupport()
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def micros(text):
    """An RFC 3339 timestamp as mpq renders it, in whole microseconds (finer digits cut)."""
    date, _, frac = text.rstrip("Z").partition(".")
    t = datetime.datetime.strptime(date, "%Y-%m-%dT%H:%M:%S")
    return (t - EPOCH) // datetime.timedelta(microseconds=1) + int((frac + "000000")[:6])


def kinds(t):
    """What each column of an Arrow type is, for comparing: a tree of 'ts', 'variant',
    'binary', structs as dicts, lists and maps as one-element lists."""
    if pa.types.is_timestamp(t):
        return "ts"
    if pa.types.is_struct(t):
        return {t.field(i).name: field_kind(t.field(i)) for i in range(t.num_fields)}
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return [field_kind(t.value_field)]
    if pa.types.is_map(t):
        return [field_kind(t.item_field)]
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "binary"
    return None


def field_kind(f):
    if (f.metadata or {}).get(b"ARROW:extension:name") == b"mpq.msgpack":
        return "variant"
    return kinds(f.type)


def from_mpq(v, kind):
    """mpq's NDJSON value, in the form compared."""
    if v is None:
        return None
    if kind == "ts":
        return micros(v)
    if isinstance(kind, dict):
        return {k: from_mpq(v.get(k), kind.get(k)) for k in v}
    if isinstance(kind, list):
        if isinstance(v, dict):
            return {k: from_mpq(x, kind[0]) for k, x in v.items()}
        return [from_mpq(x, kind[0]) for x in v]
    return v


def from_spark(v, kind):
    """Spark's value of the same column, in the form compared."""
    if v is None:
        return None
    if kind == "variant":
        return json.loads(v)  # variant columns are JSON text
    if kind == "ts":
        return (v - EPOCH) // datetime.timedelta(microseconds=1)
    if kind == "binary":
        return base64.b64encode(bytes(v)).decode()
    if isinstance(kind, dict):
        return {k: from_spark(v[k], kind.get(k)) for k in v}
    if isinstance(kind, list):
        if isinstance(v, dict):
            return {k: from_spark(x, kind[0]) for k, x in v.items()}
        return [from_spark(x, kind[0]) for x in v]
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return v


def numbers(v):
    """Integral floats as ints: NDJSON writes 228.0 as 228, Spark gives the double."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, dict):
        return {k: numbers(x) for k, x in v.items()}
    if isinstance(v, list):
        return [numbers(x) for x in v]
    return v


def canonical(rows):
    return sorted(json.dumps(numbers(r), sort_keys=True) for r in rows)


CORPORA = [
    "testdata/logs.msgpack",
    "testdata/events.msgpack",
    "testdata/mixed.msgpack",
    "testdata/golden/py_formats.msgpack",
    "testdata/golden/py_conflicts.msgpack",
    "testdata/golden/rb_records.msgpack",
]


def converted(tmp_path, source, partition_by=None):
    out = str(tmp_path / "out")
    args = ["convert", source, "-o", out, "--for", "spark", "--no-progress"]
    if partition_by:
        args += ["--partition-by", partition_by]
    run_cli(*args)
    return out


def ddl(source, dialect, location, name, partition_by=None):
    args = ["schema", source, "--ddl", dialect, "--location", location, "--table-name", name]
    if partition_by:
        args += ["--partition-by", partition_by]
    out, _ = run_cli(*args)
    return [s for s in out.split(";") if s.strip()]


def expected_rows(source):
    schema = pa.schema(mpq.schema(os.path.join(ROOT, source), sample_only=True)["arrow_schema"])
    out, _ = run_cli("query", "SELECT * FROM t", source, "--format", "ndjson")
    rows = [json.loads(line) for line in out.splitlines()]
    return schema, [{k: from_mpq(v, field_kind(schema.field(k))) for k, v in r.items()} for r in rows]


def spark_rows(spark, table, schema):
    rows = [r.asDict(recursive=True) for r in spark.sql(f"SELECT * FROM {table}").collect()]
    return [{k: from_spark(v, field_kind(schema.field(k))) for k, v in r.items()} for r in rows]


@pytest.mark.parametrize("dialect", ["spark", "hive"])
@pytest.mark.parametrize("source", CORPORA)
def test_spark_reads_every_row_mpq_wrote(spark, tmp_path, source, dialect):
    schema, want = expected_rows(source)
    out = converted(tmp_path, source)
    name = f"{dialect}_{os.path.basename(source).split('.')[0]}"
    for stmt in ddl(source, dialect, out, name):
        spark.sql(stmt)
    try:
        got = spark_rows(spark, name, schema)
        assert canonical(got) == canonical(want)
    finally:
        spark.sql(f"DROP TABLE IF EXISTS {name}")


@pytest.mark.parametrize("dialect", ["spark", "hive"])
def test_hive_partitioned_output_through_both_ddls(spark, tmp_path, dialect):
    source = "testdata/logs.msgpack"
    schema, want = expected_rows(source)
    out = converted(tmp_path, source, partition_by="level")
    name = f"{dialect}_partitioned"
    for stmt in ddl(source, dialect, out, name, partition_by="level"):
        spark.sql(stmt)
    try:
        got = spark_rows(spark, name, schema)
        assert len(got) == len(want) == 2000
        assert canonical(got) == canonical(want)
        counts = {r["level"]: r["n"] for r in spark.sql(f"SELECT level, count(*) AS n FROM {name} GROUP BY 1").collect()}
        out, _ = run_cli("query", "SELECT level, count(*) AS n FROM t GROUP BY 1", source, "--format", "ndjson")
        assert counts == {r["level"]: r["n"] for r in map(json.loads, out.splitlines())}
    finally:
        spark.sql(f"DROP TABLE IF EXISTS {name}")


def test_nanosecond_parquet_is_what_spark_cannot_read(spark, tmp_path):
    """Why --for spark exists: the default output keeps nanoseconds, which Spark refuses."""
    out = str(tmp_path / "ns.parquet")
    run_cli("convert", "testdata/events.msgpack", "-o", out, "--no-progress")
    with pytest.raises(Exception, match="TIMESTAMP\\(NANOS"):
        spark.read.parquet(out).collect()
    _, err = run_cli("convert", "testdata/events.msgpack", "-o", str(tmp_path / "x"), "--for", "spark",
                     "--timestamp-unit", "ns", check=False)
    assert "Spark cannot read nanosecond timestamps" in err


def record(i):
    r = {"n": i, "level": ["info", "warn", "error"][i % 3], "user": {"id": i * 7}, "big": 2**63 + i}
    if i % 5 == 0:
        r["tags"] = ["x"] * (i % 3)
    return r


def spark_sequence_file(spark, path, keys, values, codec=None, compression="BLOCK"):
    rdd = spark.sparkContext.parallelize(list(zip(keys, values)), 2)
    if compression in ("NONE", "BLOCK"):
        rdd.saveAsSequenceFile(path, compressionCodecClass=codec)
        return
    key_class = "org.apache.hadoop.io.Text" if isinstance(keys[0], str) else "org.apache.hadoop.io.BytesWritable"
    rdd.saveAsNewAPIHadoopFile(
        path,
        "org.apache.hadoop.mapreduce.lib.output.SequenceFileOutputFormat",
        keyClass=key_class,
        valueClass="org.apache.hadoop.io.BytesWritable",
        conf={
            "mapreduce.output.fileoutputformat.compress": "true",
            "mapreduce.output.fileoutputformat.compress.codec": codec,
            "mapreduce.output.fileoutputformat.compress.type": compression,
        },
    )


# ZStandardCodec needs Hadoop's native library, which pyspark does not ship; the Rust tests
# make zstd-compressed files themselves.
CODECS = [
    "org.apache.hadoop.io.compress.DefaultCodec",
    "org.apache.hadoop.io.compress.GzipCodec",
    "org.apache.hadoop.io.compress.SnappyCodec",
    "org.apache.hadoop.io.compress.Lz4Codec",
]
CASES = [(None, "NONE")] + [(c, kind) for c in CODECS for kind in ("BLOCK", "RECORD")]


@pytest.mark.parametrize("codec,compression", CASES, ids=lambda c: (c or "none").rsplit(".", 1)[-1])
@pytest.mark.parametrize("key_kind", ["text", "bytes"])
def test_sequence_files_spark_writes_read_as_msgpack_python_decodes_them(spark, tmp_path, codec, compression, key_kind):
    records = [record(i) for i in range(500)]
    values = [bytearray(msgpack.packb(r)) for r in records]
    keys = [f"key-{i}" for i in range(500)]
    if key_kind == "bytes":
        keys = [bytearray(k.encode()) for k in keys]
    path = str(tmp_path / "out")
    spark_sequence_file(spark, path, keys, values, codec, compression)
    # Spark wrote a directory of part files beside _SUCCESS and .crc checksums: mpq reads the
    # part files only.
    assert os.path.exists(os.path.join(path, "_SUCCESS"))
    assert glob.glob(os.path.join(path, ".part-*.crc"))
    out, _ = run_cli("query", "SELECT * FROM t", path + "/", "--format", "ndjson")
    got = [json.loads(line) for line in out.splitlines()]
    want = []
    for k, v in zip(keys, values):
        r = msgpack.unpackb(bytes(v))
        key = k if key_kind == "text" else base64.b64encode(bytes(k)).decode()
        want.append({"key": key, **r})
    columns = {c for r in got for c in r}
    want = [{c: w.get(c) for c in columns} for w in want]
    assert canonical([{c: g.get(c) for c in columns if c != "_extra"} for g in got]) == canonical(
        [{c: w.get(c) for c in columns if c != "_extra"} for w in want]
    )
    schema_out, _ = run_cli("schema", path + "/")
    assert "layout seqfile" in schema_out
    if codec:
        assert ("block-compressed" if compression == "BLOCK" else "record-compressed") in schema_out
    shutil.rmtree(path)
