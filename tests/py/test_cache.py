"""The columnar cache (`--cache`), through the real binary: answers and summary lines identical
with the cache off, cold, warm and mixed; invalidation by every kind of change; concurrent
fills, readers and a fill killed midway; damaged entries; a cache that cannot be written;
eviction and `mpq cache info|clear|gc`. Also two `mpq convert`s racing for one new output."""
import glob
import json
import math
import os
import re
import shutil
import signal
import subprocess
import time

import msgpack
import pytest

from conftest import MPQ, ROOT
from test_differential import QUERIES

SETTLE = 2.1  # seconds: a file changed more recently than 2 s is not cached


def run(*args, cache=None, check=True, extra_env=None):
    """Runs mpq (with `--cache` in `cache` when given); returns (stdout, stderr)."""
    env = dict(os.environ, MPQ_CACHE_FILL="wait")
    env.pop("MPQ_CACHE", None)
    if cache is not None:
        env["MPQ_CACHE_DIR"] = str(cache)
        args = (*args, "--cache")
    env.update(extra_env or {})
    p = subprocess.run([MPQ, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"mpq {args} failed ({p.returncode}): {p.stderr}")
    return p.stdout, p.stderr


def summary(stderr):
    """The summary lines without what the cache adds (the count of files it served, the line
    about files it took, and a line left saying only how many records were read)."""
    out = []
    for line in stderr.splitlines():
        if line.startswith("mpq: cache: "):
            continue
        line = re.sub(r"; \d+ files read from the cache", "", line)
        if re.fullmatch(r"mpq: \d+ records read", line):
            continue
        out.append(line)
    return out


def same_rows(a, b):
    """JSON results equal, floats to 12 digits: a sum over batches of other sizes adds in
    another order (as with another --threads)."""
    def eq(x, y):
        if isinstance(x, float) or isinstance(y, float):
            return x is not None and y is not None and math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-12)
        if isinstance(x, dict) and isinstance(y, dict):
            return x.keys() == y.keys() and all(eq(x[k], y[k]) for k in x)
        if isinstance(x, list) and isinstance(y, list):
            return len(x) == len(y) and all(eq(i, j) for i, j in zip(x, y))
        return x == y
    return eq(json.loads(a), json.loads(b))


def served(stderr):
    m = re.search(r"(\d+) files read from the cache", stderr)
    return int(m.group(1)) if m else 0


def entries(cache):
    return sorted(p for p in glob.glob(os.path.join(str(cache), "v1", "*.parquet")))


def leftovers(cache):
    return sorted(glob.glob(os.path.join(str(cache), "v1", ".*")))


def age(*paths, secs=3600):
    """Sets the modification time back; the change time stays, so wait SETTLE once after."""
    past = time.time() - secs
    for p in paths:
        os.utime(p, (past, past))


def settled_copy(logs, tmp_path):
    """A copy of one of the logs files alone in a directory, settled: (directory, file)."""
    d = tmp_path / "one"
    d.mkdir()
    f = d / "one.msgpack"
    shutil.copy(glob.glob(os.path.join(logs, "*.msgpack"))[0], f)
    age(f)
    time.sleep(SETTLE)
    return d, f


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    """Three generated files (4,500 messy records) forming one table, settled."""
    d = tmp_path_factory.mktemp("cache-logs")
    files = []
    for seed in (3, 4, 5):
        f = d / f"part{seed}.msgpack"
        run("generate", "--records", "1500", "--out", str(f), "--seed", str(seed))
        files.append(str(f))
    age(*files)
    time.sleep(SETTLE)
    return str(d)


@pytest.mark.parametrize("name,sql", [(q[0], q[1]) for q in QUERIES], ids=[q[0] for q in QUERIES])
def test_answers_agree_off_cold_warm_and_mixed(logs, tmp_path, name, sql):
    cache = tmp_path / "cache"
    args = ("query", sql, logs, "--format", "json")
    off = run(*args)
    cold = run(*args, cache=cache)
    assert len(entries(cache)) == 3, "the cold run added every file"
    warm = run(*args, cache=cache)
    assert served(warm[1]) == 3, warm[1]
    # Mixed: one file's entry gone, the other two still served.
    gone = entries(cache)[0]
    os.remove(gone)
    mixed = run(*args, cache=cache)
    assert served(mixed[1]) == 2, mixed[1]
    for label, (out, err) in (("cold", cold), ("warm", warm), ("mixed", mixed)):
        assert same_rows(out, off[0]), f"{name} {label}: rows differ: {out} vs {off[0]}"
        assert summary(err) == summary(off[1]), f"{name} {label}: {err!r} vs {off[1]!r}"
    assert len(entries(cache)) == 3, "the mixed run filled the missing entry again"
    assert not os.path.exists(gone)
    assert leftovers(cache) == []


def test_extra_pairs_are_counted_as_the_scan_counts_them(tmp_path):
    # Keys inference never sees (it reads 10 records) go to _extra: the summary counts the
    # pairs a scan decodes, which depends on the columns read and the filter.
    f = tmp_path / "x.msgpack"
    with open(f, "wb") as out:
        for i in range(3000):
            r = {"a": i, "s": f"v{i % 7}"}
            if i % 5 == 0 and i > 10:
                r["late"] = i
            if i % 11 == 0 and i > 10:
                r["later"] = [i]
            out.write(msgpack.packb(r))
    age(f)
    time.sleep(SETTLE)
    cache = tmp_path / "cache"
    opts = ("--infer-rows", "10", "--infer-probes", "0", "--format", "json")
    sqls = [
        "SELECT count(*) FROM t",
        "SELECT count(*) FROM t WHERE a > 100",
        "SELECT count(_extra) FROM t",
        "SELECT a, _extra FROM t WHERE s = 'v3' ORDER BY a",
        "SELECT count(*) FROM t WHERE _extra IS NOT NULL AND a % 2 = 0",
        "SELECT * FROM t ORDER BY a LIMIT 3",
        # A limit the scan takes, with a filter on the columns read (applied after reading)
        # and on others (applied while reading).
        "SELECT count(*) FROM (SELECT s FROM t WHERE s = 'v3' LIMIT 7)",
        "SELECT count(*), max(length(s)) FROM (SELECT s, a FROM t WHERE s = 'v3' LIMIT 7)",
        "SELECT s, count(*) FROM t WHERE s <> 'v1' GROUP BY 1 ORDER BY 1",
    ]
    run("query", sqls[0], str(f), *opts, cache=cache)
    assert len(entries(cache)) == 1
    for sql in sqls:
        off = run("query", sql, str(f), *opts)
        warm = run("query", sql, str(f), *opts, cache=cache)
        assert served(warm[1]) == 1, warm[1]
        assert warm[0] == off[0], sql
        assert summary(warm[1]) == summary(off[1]), (sql, warm[1], off[1])
    assert "key/value pairs not foreseen" in run("query", sqls[2], str(f), *opts)[1], "the case is exercised"


def test_every_change_to_a_file_gives_fresh_answers(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    f = d / "f.msgpack"
    run("generate", "--records", "2000", "--out", str(f), "--seed", "9")
    age(f)
    time.sleep(SETTLE)
    cache = tmp_path / "cache"
    sql = "SELECT level, count(*) AS n, count(status) AS s, max(\"user\".id) AS u FROM t GROUP BY 1 ORDER BY 1"

    def check(label, fill_expected=False):
        off = run("query", sql, str(d), "--format", "json")
        got = run("query", sql, str(d), "--format", "json", cache=cache)
        assert got[0] == off[0], label
        assert summary(got[1]) == summary(off[1]), label
        return got

    check("first")
    assert served(check("warm")[1]) == 1
    data = f.read_bytes()
    changes = []

    # Touched: same bytes, another time.
    os.utime(f, None)
    changes.append(("touch", check("touch")))
    # Rewritten in place with the same size: one level renamed.
    i = data.index(b"\xa4info")
    with open(f, "r+b") as out:
        out.seek(i)
        out.write(b"\xa4INFO")
    changes.append(("same size", check("same size")))
    # Truncated (a framing problem at the cut: reported, not cached).
    with open(f, "r+b") as out:
        out.truncate(len(data) // 2)
    changes.append(("truncate", check("truncate")))
    # Appended.
    with open(f, "wb") as out:
        out.write(data + data[: len(data) // 3])
    changes.append(("append", check("append")))
    # Replaced through a rename (another inode).
    tmp = d / ".new"
    tmp.write_bytes(data)
    os.rename(tmp, f)
    changes.append(("rename", check("rename")))
    for label, (_, err) in changes:
        assert served(err) == 0, f"{label}: a changed file was read from the cache"
    # Once settled, the file is cached again.
    age(f)
    time.sleep(SETTLE)
    check("settled")
    assert served(check("cached again")[1]) == 1
    # Another read option that changes rows, or another schema, is another entry.
    got = run("query", sql, str(d), "--format", "json", "--max-depth", "64", cache=cache)
    assert served(got[1]) == 0
    (d / "g.msgpack").write_bytes(msgpack.packb({"level": 5, "status": "x"}))
    age(d / "g.msgpack")
    changes = check("wider schema")
    assert served(changes[1]) == 0, "the table's schema widened: the old entry does not fit"


def test_a_file_that_grew_is_extended_by_its_new_tail(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    f = d / "f.msgpack"
    run("generate", "--records", "3000", "--out", str(f), "--seed", "21")
    more = []
    for seed in (22, 23):
        m = tmp_path / f"more{seed}.msgpack"
        run("generate", "--records", "400", "--out", str(m), "--seed", str(seed))
        more.append(m.read_bytes())
    age(f)
    time.sleep(SETTLE)
    cache = tmp_path / "cache"
    sql = "SELECT level, count(*) AS n, count(status) AS s, max(\"user\".id) AS u, count(_extra) AS x FROM t GROUP BY 1 ORDER BY 1"

    def check(parts, tail):
        off = run("query", sql, str(d), "--format", "json")
        cold = run("query", sql, str(d), "--format", "json", cache=cache)
        assert same_rows(cold[0], off[0]) and summary(cold[1]) == summary(off[1])
        assert served(cold[1]) == 0, "a file that changed is read from its source"
        assert ("only their new tail" in cold[1]) == tail, cold[1]
        assert len(entries(cache)) == parts
        warm = run("query", sql, str(d), "--format", "json", cache=cache)
        assert served(warm[1]) == 1, warm[1]
        assert same_rows(warm[0], off[0]) and summary(warm[1]) == summary(off[1])
        # Split across cores as a single file is: every part's row groups read once.
        one = run("query", sql, str(d), "--format", "json", "--threads", "1", cache=cache)
        assert same_rows(one[0], off[0])

    check(1, False)
    for extra in more:
        with open(f, "ab") as out:
            out.write(extra)
        age(f)
        time.sleep(SETTLE)
        check(len(entries(cache)) + 1, True)
    assert len(entries(cache)) == 3
    # Rewritten in place with other content, longer: filled whole again, one part.
    data = f.read_bytes()
    with open(f, "r+b") as out:
        out.write(more[0] + data)
    age(f)
    time.sleep(SETTLE)
    gc = run("cache", "gc", extra_env={"MPQ_CACHE_DIR": str(cache)})[0]
    assert "removed 1 stale entries" in gc, "its old bytes changed: the entry cannot be extended"
    check(1, False)


def test_hive_partitions_event_streams_and_gzip_through_the_cache(tmp_path):
    import gzip

    data = tmp_path / "data"
    (data / "dt=2026-01-01").mkdir(parents=True)
    (data / "dt=2026-01-02").mkdir(parents=True)
    plain = data / "dt=2026-01-01" / "a.msgpack"
    run("generate", "--records", "3000", "--out", str(plain), "--seed", "1")
    run("generate", "--records", "3000", "--out", str(data / "dt=2026-01-02" / "b.msgpack"), "--seed", "2", "--events")
    with open(data / "dt=2026-01-02" / "c.msgpack.gz", "wb") as out:
        out.write(gzip.compress(plain.read_bytes()))
    age(*data.glob("*/*"))
    time.sleep(SETTLE)
    cache = tmp_path / "cache"
    for sql in [
        "SELECT * FROM t ORDER BY dt, time NULLS FIRST, ts NULLS FIRST, status, latency_ms, \"user\".id",
        "SELECT dt, count(*), count(time), max(status) FROM t WHERE level <> 'debug' GROUP BY 1 ORDER BY 1",
    ]:
        off = run("query", sql, str(data), "--format", "ndjson")
        run("query", sql, str(data), "--format", "ndjson", cache=cache)
        warm = run("query", sql, str(data), "--format", "ndjson", cache=cache)
        assert served(warm[1]) == 3, warm[1]
        # Rows compared as sorted lines: rows that tie on the ORDER BY may come in either order.
        assert sorted(warm[0].splitlines()) == sorted(off[0].splitlines()), sql
        assert summary(warm[1]) == summary(off[1]), sql


def test_inferences_are_kept_and_follow_changes(logs, tmp_path):
    cache = tmp_path / "cache"
    opts = ("--infer-rows", "all")
    run("query", "SELECT count(*) FROM t", logs, *opts, cache=cache)
    assert len(glob.glob(os.path.join(str(cache), "v1", "*.infer"))) == 3
    # What `mpq schema` shows, from the kept inferences, is what inference shows.
    want = run("schema", logs, *opts, "--sample-only")[0]
    assert run("schema", logs, *opts, "--sample-only", cache=cache)[0] == want
    # A file that changed is inferred again: a new key becomes a column.
    d, f = settled_copy(logs, tmp_path)
    run("query", "SELECT count(*) FROM t", str(d), *opts, cache=cache)
    with open(f, "ab") as out:
        out.write(msgpack.packb({"brand_new": 1}))
    age(f)
    schema = run("schema", str(d), *opts, "--sample-only", cache=cache)[0]
    assert "brand_new" in schema
    os.remove(f)
    assert "removed" in run("cache", "gc", extra_env={"MPQ_CACHE_DIR": str(cache)})[0]
    assert len(glob.glob(os.path.join(str(cache), "v1", "*.infer"))) == 3, "the stale inference went"


def test_files_with_problems_are_read_from_the_source(tmp_path):
    cache = tmp_path / "cache"
    f = tmp_path / "truncated.msgpack"
    run("generate", "--records", "2000", "--out", str(f), "--seed", "4")
    with open(f, "r+b") as out:
        out.truncate(os.path.getsize(f) - 7)
    age(f)
    time.sleep(SETTLE)
    sql = "SELECT * FROM t"
    off = run("query", sql, str(f), "--format", "json")
    for _ in range(2):
        got = run("query", sql, str(f), "--format", "json", cache=cache)
        assert got[0] == off[0]
        assert summary(got[1]) == summary(off[1])
        assert served(got[1]) == 0
        assert "truncated at a framing error" in got[1]
    assert entries(cache) == []
    assert glob.glob(os.path.join(str(cache), "v1", "*.skip")), "marked as not cacheable"


def test_a_damaged_entry_is_a_miss_and_is_replaced(logs, tmp_path):
    cache = tmp_path / "cache"
    sql = "SELECT service, count(*) FROM t GROUP BY 1 ORDER BY 1"
    off = run("query", sql, logs, "--format", "json")
    run("query", sql, logs, "--format", "json", cache=cache)
    victim = entries(cache)[1]
    with open(victim, "r+b") as out:
        out.truncate(os.path.getsize(victim) // 2)
    got = run("query", sql, logs, "--format", "json", cache=cache, extra_env={"MPQ_DEBUG": "1"})
    assert got[0] == off[0]
    assert served(got[1]) == 2
    assert "is damaged" in got[1]
    assert served(run("query", sql, logs, "--format", "json", cache=cache)[1]) == 3, "filled again"


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A file whose fill takes a while in a debug build."""
    d = tmp_path_factory.mktemp("cache-big")
    f = d / "big.msgpack"
    run("generate", "--records", "150000", "--out", str(f), "--seed", "11")
    age(f)
    time.sleep(SETTLE)
    return str(f)


def test_two_processes_filling_at_once_leave_one_entry(big, tmp_path):
    cache = tmp_path / "cache"
    env = dict(os.environ, MPQ_CACHE_DIR=str(cache), MPQ_CACHE_FILL="wait")
    sql = "SELECT count(*), sum(status) FROM t"
    want = run("query", sql, big, "--format", "csv")[0]
    procs = [
        subprocess.Popen([MPQ, "query", sql, big, "--format", "csv", "--cache"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        for _ in range(2)
    ]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert out == want
    assert len(entries(cache)) == 1
    assert leftovers(cache) == []
    # Readers while another process replaces nothing but fills: every answer is right.
    os.remove(entries(cache)[0])
    filler = subprocess.Popen([MPQ, "query", sql, big, "--format", "csv", "--cache"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    while filler.poll() is None:
        assert run("query", sql, big, "--format", "csv", cache=cache)[0] == want
    assert filler.returncode == 0
    assert served(run("query", sql, big, "--format", "csv", cache=cache)[1]) == 1


def test_a_fill_killed_midway_leaves_nothing_that_is_used(big, tmp_path):
    cache = tmp_path / "cache"
    env = dict(os.environ, MPQ_CACHE_DIR=str(cache), MPQ_CACHE_FILL="wait")
    sql = "SELECT count(*), max(latency_ms) FROM t"
    want = run("query", sql, big, "--format", "csv")[0]
    p = subprocess.Popen([MPQ, "query", sql, big, "--format", "csv", "--cache"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env, cwd=ROOT)
    deadline = time.time() + 120
    while not leftovers(cache) and time.time() < deadline and p.poll() is None:
        time.sleep(0.005)
    assert leftovers(cache), "the fill's temporary appeared"
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    assert entries(cache) == []
    got = run("query", sql, big, "--format", "csv", cache=cache)
    assert got[0] == want and served(got[1]) == 0
    assert len(entries(cache)) == 1, "the lock died with the process: the next run filled the entry"
    assert served(run("query", sql, big, "--format", "csv", cache=cache)[1]) == 1


def test_the_default_fill_runs_in_the_background(logs, tmp_path):
    cache = tmp_path / "cache"
    sql = "SELECT count(*) FROM t"
    out, err = run("query", sql, logs, "--format", "csv", cache=cache, extra_env={"MPQ_CACHE_FILL": ""})
    assert "mpq: cache: added" not in err, "the query does not wait for the fill"
    # The fill's last act is its line in the log.
    deadline = time.time() + 120
    info = ""
    while "last fill" not in info and time.time() < deadline:
        time.sleep(0.05)
        info = run("cache", "info", extra_env={"MPQ_CACHE_DIR": str(cache)})[0]
    assert re.search(r"last fill +\[.*\] added 3 files", info), info
    assert len(entries(cache)) == 3
    assert leftovers(cache) == [], "the manifest is gone"
    got = run("query", sql, logs, "--format", "csv", cache=cache)
    assert got[0] == out and served(got[1]) == 3


@pytest.mark.parametrize("where", ["/proc/mpq-cache", "FILE/cache"])
def test_a_cache_that_cannot_be_written_warns_once(logs, tmp_path, where):
    if where.startswith("FILE"):
        blocker = tmp_path / "FILE"
        blocker.write_text("not a directory")
        where = str(tmp_path / where)
    sql = "SELECT count(*) FROM t"
    off = run("query", sql, logs, "--format", "csv")
    out, err = run("query", sql, logs, "--format", "csv", cache=where)
    assert out == off[0]
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 1, err
    assert "the answers came from the files themselves" in warnings[0]


def test_info_clear_gc_and_the_size_bound(logs, tmp_path):
    cache = tmp_path / "cache"
    env = {"MPQ_CACHE_DIR": str(cache)}
    sql = "SELECT count(*) FROM t"
    run("query", sql, logs, cache=cache)
    sizes = [os.path.getsize(p) for p in entries(cache)]
    assert len(sizes) == 3
    run("query", sql, logs, cache=cache)
    info, _ = run("cache", "info", extra_env=env)
    assert re.search(r"entries\s+3\n", info) and re.search(r"hits\s+3\n", info), info
    assert re.search(rf"bytes\s+{sum(sizes)} ", info), info
    # A bound that holds two of the three: the least recently used goes at the next fill.
    bound = sum(sizes) - min(sizes) // 2
    os.remove(entries(cache)[0])
    run("query", sql, logs, "--cache-max-bytes", str(bound), cache=cache)
    assert sum(os.path.getsize(p) for p in entries(cache)) <= bound
    assert len(entries(cache)) == 2
    # gc: an entry whose file is gone is stale.
    _, one = settled_copy(logs, tmp_path)
    run("query", sql, str(one), cache=cache)
    before = len(entries(cache))
    os.remove(one)
    out, _ = run("cache", "gc", extra_env=env)
    assert "removed 1 stale entries" in out, out
    assert len(entries(cache)) == before - 1
    out, _ = run("cache", "clear", extra_env=env)
    assert entries(cache) == []
    assert re.search(r"entries\s+0\n", run("cache", "info", extra_env=env)[0])


def test_small_files_of_a_wide_table_are_left_to_their_source(tmp_path):
    # 40 files of 3 records: a Parquet copy would hold more footer than data.
    d = tmp_path / "small"
    d.mkdir()
    for i in range(40):
        with open(d / f"f{i}.msgpack", "wb") as out:
            for j in range(3):
                out.write(msgpack.packb({f"k{i}_{c}": j for c in range(6)} | {"n": j}))
        age(d / f"f{i}.msgpack")
    time.sleep(SETTLE)
    cache = tmp_path / "cache"
    sql = "SELECT count(*), sum(n) FROM t"
    off = run("query", sql, str(d), "--format", "csv")
    got = run("query", sql, str(d), "--format", "csv", cache=cache)
    assert got[0] == off[0]
    assert entries(cache) == [] and "mpq: cache: added" not in got[1]


def test_two_converts_racing_for_one_new_output(tmp_path):
    src = os.path.join(ROOT, "testdata", "logs.msgpack")
    for i in range(20):
        out = tmp_path / f"out{i}.parquet"
        procs = [
            subprocess.Popen([MPQ, "convert", src, "-o", str(out), "--no-progress"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=ROOT)
            for _ in range(2)
        ]
        results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
        codes = sorted(code for code, _ in results)
        assert codes[0] == 0 and codes[1] != 0, results
        loser = next(err for code, err in results if code != 0)
        assert "already exists; --force replaces it" in loser, loser
        assert sorted(os.listdir(tmp_path)) == sorted(f"out{j}.parquet" for j in range(i + 1)), "nothing left behind"


def test_convert_and_other_policies_read_the_same_entries(logs, tmp_path):
    import pyarrow.parquet as pq

    cache = tmp_path / "cache"
    run("query", "SELECT count(*) FROM t", logs, cache=cache)
    plain, cached = tmp_path / "plain.parquet", tmp_path / "cached.parquet"
    run("convert", logs, "-o", str(plain), "--no-progress")
    _, err = run("convert", logs, "-o", str(cached), "--no-progress", cache=cache)
    assert served(err) == 3, "convert (policies fail) read the entries a query (truncate, null) filled"

    def rows(p):
        return sorted(json.dumps(r, sort_keys=True, default=str) for r in pq.read_table(p).to_pylist())

    assert rows(plain) == rows(cached)
    assert pq.read_schema(plain) == pq.read_schema(cached)
    _, err = run("query", "SELECT count(*) FROM t", logs, "--on-error", "drop", cache=cache)
    assert served(err) == 3


def test_the_python_context_reads_and_fills_the_cache(logs, tmp_path):
    import mpq

    cache = str(tmp_path / "cache")
    sql = "SELECT service, count(*) AS n, max(status) AS s FROM t GROUP BY 1 ORDER BY 1"
    ctx = mpq.Context(cache=cache)
    ctx.register("t", logs)
    cold = ctx.sql(sql).to_arrow()
    assert ctx.report()["cached_files"] == 0
    filled = ctx.fill_cache()
    assert (filled["added"], filled["warning"]) == (3, None), filled
    warm_ctx = mpq.Context(cache=cache)
    warm_ctx.register("t", logs)
    assert warm_ctx.sql(sql).to_arrow() == cold
    assert warm_ctx.report()["cached_files"] == 3
    assert mpq.Context(cache=False).fill_cache()["added"] == 0
