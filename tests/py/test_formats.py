"""Tables of other formats beside MessagePack, and Hadoop/Spark output directories, checked
against independent readers: DuckDB reads the same Parquet, CSV and NDJSON files and the logs
(handed over by mpq's Python package), msgpack-python decodes the cells mpq's functions read."""
import json
import os

import duckdb
import msgpack
import pyarrow.parquet as pq
import pytest

import mpq
from conftest import ROOT, mpq as run_cli

LOGS = os.path.join(ROOT, "testdata", "logs.msgpack")
FORMATS = os.path.join(ROOT, "testdata", "formats")


def rows(sql, *args):
    out, _ = run_cli("query", sql, *args, "--format", "ndjson")
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize("ext", ["csv", "tsv", "ndjson", "parquet", "arrow"])
def test_joins_with_reference_tables_match_duckdb(ext):
    sql = "SELECT s.team, count(*) AS n, sum(t.status) AS st FROM t JOIN s ON t.service = s.service GROUP BY 1 ORDER BY 1"
    ours = rows(sql, LOGS, "--table", f"s={os.path.join(FORMATS, f'services.{ext}')}")
    logs = mpq.read(LOGS).to_arrow().select(["service", "status"])
    con = duckdb.connect()
    con.register("t", logs)
    # DuckDB reads no Arrow IPC files without an extension: its twin, the Parquet file made from
    # the same table, stands in.
    services = os.path.join(FORMATS, "services.parquet" if ext == "arrow" else f"services.{ext}")
    reader = {"csv": "read_csv", "tsv": "read_csv", "ndjson": "read_json", "parquet": "read_parquet", "arrow": "read_parquet"}[ext]
    con.execute(f"CREATE TABLE s AS SELECT * FROM {reader}('{services}')")
    theirs = con.execute(sql).fetchall()
    assert [(r["team"], r["n"], r["st"]) for r in ours] == [(a, b, int(c)) for a, b, c in theirs]


def test_the_python_package_reads_tables_of_any_format():
    ctx = mpq.Context()
    ctx.register("logs", LOGS)
    ctx.register("s", os.path.join(FORMATS, "services.parquet"))
    got = ctx.sql("SELECT count(DISTINCT team) AS teams FROM logs JOIN s USING (service)").to_arrow()
    assert got.column("teams").to_pylist() == [6]


def test_mp_functions_over_a_parquet_binary_column_match_msgpack_python():
    cells = pq.read_table(os.path.join(FORMATS, "cells.parquet")).to_pylist()
    ours = rows(
        "SELECT mp_get_str(cell, 'user', 'name') AS name, mp_get_int(cell, 'visits') AS visits FROM cells ORDER BY row",
        "--table",
        f"cells={os.path.join(FORMATS, 'cells.parquet')}",
    )
    want = []
    for c in sorted(cells, key=lambda c: c["row"]):
        try:
            v = msgpack.unpackb(c["cell"]) if c["cell"] is not None else None
        except Exception:
            v = None
        name = v.get("user", {}).get("name") if isinstance(v, dict) else None
        visits = v.get("visits") if isinstance(v, dict) else None
        want.append({"name": name, "visits": visits})
    assert ours == want


def test_a_spark_output_directory_counts_its_part_files_only(tmp_path):
    records = [{"n": i} for i in range(7)]
    (tmp_path / "part-00000").write_bytes(b"".join(msgpack.packb(r) for r in records[:4]))
    (tmp_path / "part-00001").write_bytes(b"".join(msgpack.packb(r) for r in records[4:]))
    (tmp_path / "_SUCCESS").write_bytes(b"")
    (tmp_path / ".part-00000.crc").write_bytes(b"crc\x00\x00\x00\x02\x00\x12\x34\x56\x78")
    (tmp_path / ".part-00001.crc").write_bytes(b"crc\x00\x00\x00\x02\x00\x9a\xbc\xde\xf0")
    got = mpq.read(str(tmp_path)).to_arrow()
    assert sorted(got.column("n").to_pylist()) == list(range(7))


def test_the_python_package_converts_for_spark(tmp_path):
    out = tmp_path / "warehouse"
    got = mpq.convert(LOGS, str(out), target="spark")
    assert got["rows"] == 2000
    assert out.is_dir() and list(out.glob("*.parquet")), "a directory of part files"
    table = pq.read_table(str(out))
    assert str(table.schema.field("ts").type) == "timestamp[us, tz=UTC]"
    with pytest.raises(mpq.OptionError, match="Spark cannot read nanosecond timestamps"):
        mpq.convert(LOGS, str(tmp_path / "ns"), target="spark", timestamp_unit="ns")
