"""The Python package (`import mpq`), checked against the CLI and consumed by real consumers:
pyarrow, polars, DuckDB and pandas. Built into .venv by scripts/test.sh (maturin develop)."""
import base64
import datetime
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import duckdb
import msgpack
import pandas
import polars
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import mpq
from conftest import MPQ, ROOT, b64, mpq as run_cli, normalise, rfc3339

LOGS = os.path.join(ROOT, "testdata", "logs.msgpack")
EVENTS = os.path.join(ROOT, "testdata", "events.msgpack")
MIXED = os.path.join(ROOT, "testdata", "mixed.msgpack")
VARIANT = b"mpq.msgpack"


def cli_rows(sql, *files, extra=()):
    out, _ = run_cli("query", sql, *files, "--format", "ndjson", *extra)
    return [json.loads(l) for l in out.splitlines()]


def json_value(field, value):
    """A value of an Arrow result as the CLI's NDJSON renders it."""
    if value is None:
        return None
    if (field.metadata or {}).get(b"ARROW:extension:name") == VARIANT:
        return normalise(msgpack.unpackb(value, raw=False, strict_map_key=False, timestamp=0,
                                         unicode_errors="surrogateescape"))
    t = field.type
    if pa.types.is_timestamp(t):
        ns = value  # cast to int64 nanoseconds below
        return rfc3339(ns // 1_000_000_000, ns % 1_000_000_000)
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return b64(value)
    if pa.types.is_struct(t):
        return {f.name: json_value(f, value.get(f.name)) for f in t}
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return [json_value(t.value_field, v) for v in value]
    if pa.types.is_map(t):
        return {k: json_value(t.item_field, v) for k, v in value}
    if pa.types.is_decimal(t):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    return value


def table_rows(table):
    """Rows of a pyarrow table as the CLI's NDJSON objects."""
    cols = []
    for field, col in zip(table.schema, table.columns):
        if pa.types.is_timestamp(field.type):
            col = pc.cast(col, pa.int64())
        cols.append((field, col.to_pylist()))
    return [{f.name: json_value(f, vals[i]) for f, vals in cols} for i in range(table.num_rows)]


QUERIES = [
    ("SELECT * FROM logs ORDER BY ts, status, latency_ms", LOGS),
    ("SELECT level, count(*) AS n, sum(status) AS s FROM logs GROUP BY 1 ORDER BY 1", LOGS),
    ("SELECT \"user\".geo.country AS c, tags, code, big, delta FROM logs WHERE \"user\".id IS NOT NULL ORDER BY ts LIMIT 50", LOGS),
    ("SELECT * FROM events ORDER BY time", EVENTS),
    ("SELECT value FROM mixed ORDER BY mp_to_json(value)", MIXED),
]


@pytest.mark.parametrize("sql,path", QUERIES)
def test_query_equals_the_cli(sql, path):
    name = os.path.basename(path).split(".")[0]
    table = mpq.query(sql, **{name: path})
    assert isinstance(table, pa.Table)
    assert table_rows(table) == cli_rows(sql, path)


def test_extra_and_record_columns_equal_the_cli():
    sql = "SELECT status, _extra, _record FROM logs WHERE _extra IS NOT NULL ORDER BY ts, status, latency_ms LIMIT 200"
    table = mpq.query(sql, logs=LOGS, infer_rows=50, infer_probes=0, with_record=True)
    assert table_rows(table) == cli_rows(sql, LOGS, extra=("--infer-rows", "50", "--infer-probes", "0"))
    assert any(r["_extra"] for r in table_rows(table))


def test_consumers_take_results_without_pyarrow_in_between():
    ctx = mpq.Context()
    ctx.register("logs", LOGS)
    q = ctx.sql("SELECT level, count(*) AS n FROM logs GROUP BY 1 ORDER BY 1")
    expected = {"debug": 191, "error": 199, "info": 1196, "warn": 414}
    df = polars.DataFrame(q)
    assert dict(zip(df["level"].to_list(), df["n"].to_list())) == expected
    # A query runs again each time it is consumed.
    assert pa.table(q).to_pydict() == pa.table(q).to_pydict()
    pdf = q.to_pandas()
    assert isinstance(pdf, pandas.DataFrame) and dict(zip(pdf["level"], pdf["n"])) == expected
    assert q.to_polars().shape == (4, 2)
    r = mpq.read(LOGS)
    got = duckdb.sql("SELECT level, count(*) AS n FROM r GROUP BY 1 ORDER BY 1").fetchall()
    assert dict(got) == expected
    assert r.report()["records"] == 2000


def test_a_read_stream_is_single_use_and_says_so():
    r = mpq.read(LOGS)
    batches = list(r)
    assert sum(b.num_rows for b in batches) == 2000
    assert all(isinstance(b, pa.RecordBatch) for b in batches)
    with pytest.raises(mpq.Error, match="read once"):
        pa.table(r)


def test_bytes_memoryview_and_file_objects_are_sources():
    data = open(LOGS, "rb").read()
    for source in (data, bytearray(data), memoryview(data), io.BytesIO(data), open(LOGS, "rb")):
        assert pa.table(mpq.read(source)).num_rows == 2000
    ctx = mpq.Context()
    ctx.register("b", data)
    for _ in range(2):  # bytes are scanned as often as a file
        assert ctx.sql("SELECT count(*) AS n FROM b").to_arrow()["n"][0].as_py() == 2000
    with pytest.raises(TypeError, match="binary mode"):
        mpq.read(open(LOGS, "r", encoding="latin-1"))


def test_errors_are_exceptions_with_the_cli_messages(tmp_path):
    with pytest.raises(mpq.SqlError) as e:
        mpq.query("SELECT nope FROM logs", logs=LOGS)
    _, cli_err = run_cli("query", "SELECT nope FROM logs", LOGS, check=False)
    assert "nope" in str(e.value) and "nope" in cli_err
    with pytest.raises(mpq.OptionError, match="on_error takes fail, null or drop"):
        mpq.read(LOGS, on_error="maybe")
    with pytest.raises(mpq.OptionError, match='no option "colour"'):
        mpq.read(LOGS, colour=True)
    assert issubclass(mpq.FramingError, mpq.Error) and issubclass(mpq.SqlError, mpq.Error)
    # A truncated file: framing='fail' raises with file, record and offset; the default keeps
    # the records before the cut, as the CLI does.
    cut = tmp_path / "cut.msgpack"
    cut.write_bytes(open(LOGS, "rb").read()[:-7])
    with pytest.raises(mpq.FramingError) as e:
        mpq.convert(str(cut), str(tmp_path / "o.parquet"))
    _, cli_err = run_cli("convert", str(cut), "-o", str(tmp_path / "c.parquet"), check=False)
    assert str(e.value) in cli_err
    assert e.value.file == str(cut) and e.value.record == 1999 and e.value.offset > 0
    assert e.value.kind
    rejects = tmp_path / "rejects.jsonl"
    t = mpq.query("SELECT count(*) AS n FROM c", c=str(cut), rejects=str(rejects))
    assert t["n"][0].as_py() == 1999
    cli_rejects = tmp_path / "cli.jsonl"
    run_cli("query", "SELECT count(*) AS n FROM t", str(cut), "--rejects", str(cli_rejects))
    assert rejects.read_text() == cli_rejects.read_text() and rejects.read_text().count("\n") == 1
    ctx = mpq.Context()
    ctx.register("c", str(cut))
    q = ctx.sql("SELECT count(*) AS n FROM c")
    assert q.to_arrow()["n"][0].as_py() == 1999
    assert q.report()["framing"] and q.report()["records"] == 1999


def test_record_error_policies_match_the_cli():
    bad = os.path.join(ROOT, "testdata", "hostile")
    files = sorted(os.path.join(bad, f) for f in os.listdir(bad) if f.endswith(".msgpack"))
    checked = 0
    for f in files:
        for policy in ("null", "drop"):
            sql = "SELECT count(*) AS n FROM t"
            out, _ = run_cli("query", sql, f, "--on-error", policy, "--format", "ndjson", check=False)
            if not out.strip():
                continue
            expected = json.loads(out)["n"]
            assert mpq.query(sql, t=f, on_error=policy)["n"][0].as_py() == expected, (f, policy)
            checked += 1
        _, err = run_cli("query", "SELECT * FROM t", f, "--on-error", "fail", "--framing", "fail", check=False)
        if err.startswith("mpq: error: "):
            with pytest.raises(mpq.Error) as e:
                mpq.query("SELECT * FROM t", t=f, on_error="fail", framing="fail")
            assert str(e.value) in err, (f, str(e.value), err)
            if isinstance(e.value, (mpq.FramingError, mpq.RecordError)):
                assert e.value.file == f
    assert checked > 5


def test_options_are_the_cli_flags_with_their_defaults(tmp_path):
    help_text, _ = run_cli("query", "--help")
    for key, flag, default, _help in mpq._mpq.option_table():
        assert f"--{flag}" in help_text, flag
        assert key in mpq.OPTIONS
    import inspect
    sig = inspect.signature(mpq.read)
    assert sig.parameters["infer_rows"].default == 1000
    assert sig.parameters["framing"].default == "truncate"
    assert inspect.signature(mpq.convert).parameters["framing"].default == "fail"
    assert "max_decompressed_bytes" in mpq.read.__doc__
    # The stub names every class and function the module has.
    stub = open(os.path.join(os.path.dirname(mpq.__file__), "_mpq.pyi")).read()
    for name in ("Context", "Query", "Reader", "read", "convert", "schema", "FramingError", "OptionError"):
        assert name in stub and hasattr(mpq._mpq, name)
    # CLI spellings of options work too.
    data = open(LOGS, "rb").read()
    (tmp_path / "a.msgpack").write_bytes(data)
    (tmp_path / "b.bin").write_bytes(data)
    out, _ = run_cli("query", "SELECT count(*) AS n FROM t", str(tmp_path), "--ext", ".msgpack", "--format", "ndjson")
    assert json.loads(out)["n"] == 2000
    assert mpq.query("SELECT count(*) AS n FROM t", t=str(tmp_path), ext=".msgpack")["n"][0].as_py() == 2000
    assert mpq.query("SELECT count(*) AS n FROM t", t=str(tmp_path))["n"][0].as_py() == 4000


def test_convert_and_schema(tmp_path):
    out = tmp_path / "logs.parquet"
    summary = mpq.convert(LOGS, str(out))
    assert summary["rows"] == 2000 and summary["bytes"] == out.stat().st_size
    import pyarrow.parquet as pq
    assert pq.read_table(out).num_rows == 2000
    with pytest.raises(mpq.Error, match="exists"):
        mpq.convert(LOGS, str(out))
    parts = tmp_path / "parts"
    mpq.convert(LOGS, str(parts), partition_by="level", query="SELECT level, status FROM t")
    assert sorted(os.listdir(parts)) == ["level=debug", "level=error", "level=info", "level=warn"]
    view = mpq.schema(LOGS)
    cli_view = json.loads(run_cli("schema", LOGS, "--format", "json")[0])
    arrow = pa.schema(view.pop("arrow_schema"))
    assert view == cli_view
    assert "code" in arrow.names and arrow.field("code").metadata[b"ARROW:extension:name"] == VARIANT


def test_a_large_input_streams_in_bounded_memory(tmp_path):
    big = tmp_path / "big.msgpack"
    run_cli("generate", "--records", "1050000", "--out", str(big))
    size = big.stat().st_size
    # A file at rest (one changed in the last 10 s is read whole under the default mmap='auto').
    old = time.time() - 60
    os.utime(big, (old, old))
    script = textwrap.dedent(f"""
        import mpq
        n = 0
        for b in mpq.read({str(big)!r}):
            n += b.num_rows
        assert n == 1050000, n
        # The high-water mark of this process's resident memory, in KiB.
        print([l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")][0])
    """)
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    peak_kib = int(p.stdout.split()[-1])
    print(f"input {size >> 20} MiB, peak RSS {peak_kib >> 10} MiB")
    assert size > 200 << 20
    assert 0 < peak_kib * 1024 < size * 3 // 4, (peak_kib, size)


def test_the_gil_is_released_and_ctrl_c_interrupts(tmp_path):
    # Another Python thread runs while a query does.
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.001)

    t = threading.Thread(target=tick)
    t.start()
    mpq.query("SELECT count(*) AS n FROM t a CROSS JOIN t b WHERE a.status < b.status", t=LOGS)
    stop.set()
    t.join()
    assert len(ticks) > 10
    # SIGINT during a long query raises KeyboardInterrupt promptly.
    script = textwrap.dedent(f"""
        import sys, time, mpq
        print("start", flush=True)
        try:
            mpq.query("SELECT count(*) FROM t a CROSS JOIN t b CROSS JOIN t c CROSS JOIN t d", t={LOGS!r})
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(3)
    """)
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "start"
    time.sleep(1.5)
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    assert p.wait(timeout=10) == 3
    assert time.monotonic() - sent < 1.0
    assert p.stdout.read().strip() == "interrupted"


def test_a_long_lived_context_sees_files_that_arrive(tmp_path):
    """A directory's listing is reused only briefly (so a query's scans read what its planning
    listed): a table registered earlier, and a path queried as a table again, read the files
    there are when they are queried, with the registered schema."""
    def write(i):
        (tmp_path / f"f{i}.msgpack").write_bytes(msgpack.packb({"a": i}))

    write(1)
    write(2)
    ctx = mpq.Context()
    ctx.register("t", str(tmp_path) + "/")
    count = lambda sql: ctx.sql(sql).to_arrow().to_pylist()[0]["n"]
    path_sql = f"SELECT count(*) AS n FROM '{tmp_path}/'"
    assert count("SELECT count(*) AS n FROM t") == 2
    assert count(path_sql) == 2
    write(3)
    write(4)
    (tmp_path / "f1.msgpack").unlink()
    time.sleep(2.5)
    assert count("SELECT count(*) AS n FROM t") == 3
    assert ctx.sql("SELECT a FROM t ORDER BY a").to_arrow().column("a").to_pylist() == [2, 3, 4]
    assert count(path_sql) == 3
