"""The interactive shell, driven through a pseudo-terminal as a person uses it: what they see
at the prompt, completion, meta commands, errors, Ctrl-C and Ctrl-D, and the history file."""
import os
import re
import subprocess
import time

import pexpect
import pytest

from conftest import MPQ, ROOT

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
LOGS = "testdata/logs.msgpack"


def spawn(tmp_path, *args, rows=40, cols=120, color=False, env=None):
    e = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"), TERM="xterm")
    e.pop("MPQ_HISTORY", None)
    e.pop("NO_COLOR", None)
    if not color:
        e["NO_COLOR"] = "1"
    e.update(env or {})
    p = pexpect.spawn(MPQ, ["shell", *args], cwd=ROOT, env=e, encoding="utf-8", timeout=20, dimensions=(rows, cols))
    p.expect_exact("mpq> ")
    return p


def run(p, sql, until):
    """Sends one line and waits for `until`, then for the next prompt; what was printed."""
    p.sendline(sql)
    p.expect_exact(until)
    seen = p.before + p.after
    p.expect_exact("mpq> ")
    return ANSI.sub("", seen + p.before)


def quit(p):
    p.sendcontrol("d")
    p.expect(pexpect.EOF)
    p.close()
    return p.exitstatus


def test_a_statement_may_span_lines_with_a_continuation_prompt(tmp_path):
    p = spawn(tmp_path, LOGS)
    p.sendline("SELECT level,")
    p.expect_exact("...> ")
    out = run(p, "  count(*) AS n FROM t GROUP BY 1 ORDER BY 2 DESC;", "4 rows")
    assert re.search(r"\| info\s+\| 1196 \|", out), out
    out = run(p, "SELECT 1 AS a; SELECT 2 AS b;", "| 2 ")
    assert "| a " in out and "| 1 " in out
    assert quit(p) == 0


def test_tab_completes_a_nested_column(tmp_path):
    p = spawn(tmp_path, LOGS)
    p.send('SELECT "user".geo.cou')
    p.send("\t")
    p.expect_exact('"user".geo.country')
    out = run(p, " AS c FROM t WHERE \"user\".geo.country IS NOT NULL ORDER BY 1 LIMIT 1;", "1 row")
    assert "| c " in out
    p.send("SELECT count(*) FROM 'testdata/lo")
    p.send("\t")
    p.expect_exact("testdata/logs.msgpack")
    out = run(p, "';", "1 row")
    assert "2000" in out
    quit(p)


def test_schema_and_tables(tmp_path):
    p = spawn(tmp_path, LOGS)
    out = run(p, ".schema logs", "_extra")
    assert "country: Utf8" in out and "code: variant" in out
    out = run(p, "\\d", "logs  (testdata/logs.msgpack)")
    out = run(p, ".open ev=testdata/events.msgpack", "table ev")
    out = run(p, "SELECT count(*) AS n FROM ev;", "1 row")
    assert re.search(r"\| \d+ +\|", out)
    quit(p)


def test_mode_csv_and_line(tmp_path):
    p = spawn(tmp_path, LOGS)
    run(p, ".mode csv", "")
    out = run(p, "SELECT level, count(*) AS n FROM t GROUP BY 1 ORDER BY 1;", "4 rows")
    assert "level,n\r\ndebug,191\r\nerror,199\r\n" in out, out
    run(p, ".mode line", "")
    out = run(p, "SELECT 'api' AS service, 7 AS n;", "1 row")
    assert "service = api\r\n      n = 7" in out, out
    quit(p)


def test_an_error_does_not_end_the_shell(tmp_path):
    p = spawn(tmp_path, LOGS)
    out = run(p, "SELECT nope FROM t;", "Error: ")
    out = run(p, "SELECT count(*) AS n FROM t;", "1 row")
    assert "2000" in out
    out = run(p, ".mode xml", "Error: ")
    out = run(p, "SELECT 'still here' AS s;", "1 row")
    assert "still here" in out
    assert quit(p) == 0


def test_ctrl_c_cancels_a_long_query_and_the_prompt_comes_back(tmp_path):
    p = spawn(tmp_path, LOGS)
    p.sendline("SELECT count(*) FROM t a CROSS JOIN t b CROSS JOIN t c CROSS JOIN t d;")
    time.sleep(1.5)
    assert p.isalive()
    started = time.monotonic()
    p.sendintr()
    p.expect_exact("Cancelled.")
    p.expect_exact("mpq> ")
    assert time.monotonic() - started < 1.0
    out = run(p, "SELECT 41 + 1 AS answer;", "1 row")
    assert "42" in out
    # Ctrl-C at the prompt drops what was typed, and the shell stays.
    p.send("SELECT unfinished")
    p.sendintr()
    p.expect_exact("mpq> ")
    out = run(p, "SELECT 'alive' AS s;", "1 row")
    assert "alive" in out
    assert quit(p) == 0


def test_ctrl_c_during_copy_leaves_no_output(tmp_path):
    p = spawn(tmp_path, LOGS)
    target = tmp_path / "out.ndjson"
    p.sendline(f"COPY (SELECT a.level FROM t a CROSS JOIN t b CROSS JOIN t c) TO '{target}';")
    deadline = time.monotonic() + 30
    while len(os.listdir(tmp_path)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert any(".mpq-tmp-" in n for n in os.listdir(tmp_path)), "the COPY is writing its temporary"
    p.sendintr()
    p.expect_exact("Cancelled.")
    p.expect_exact("mpq> ")
    time.sleep(0.2)
    assert sorted(os.listdir(tmp_path)) == ["state"], os.listdir(tmp_path)
    quit(p)


def test_history_is_written_where_documented(tmp_path):
    p = spawn(tmp_path, LOGS)
    run(p, "SELECT 'remember me' AS s;", "1 row")
    p.sendline("SELECT 1")
    p.expect_exact("...> ")
    run(p, "  AS two_lines;", "1 row")
    quit(p)
    history = (tmp_path / "state" / "mpq" / "history").read_text()
    assert "SELECT 'remember me' AS s;" in history
    assert "SELECT 1\n  AS two_lines;" in history or "SELECT 1\\n  AS two_lines;" in history
    # MPQ_HISTORY overrides; the history is read back on the next start.
    other = tmp_path / "elsewhere"
    p = spawn(tmp_path, LOGS, env={"MPQ_HISTORY": str(other)})
    run(p, "SELECT 3 AS three;", "1 row")
    quit(p)
    assert "SELECT 3 AS three;" in other.read_text()
    p = spawn(tmp_path, LOGS, env={"MPQ_HISTORY": str(other)})
    p.send("\x1b[A")  # the up arrow recalls the last statement
    p.expect_exact("SELECT 3 AS three;")
    p.sendintr()
    p.expect_exact("mpq> ")
    quit(p)
    assert not (tmp_path / "history").exists() and not os.path.exists(os.path.join(ROOT, "history"))


def test_wide_tables_fit_the_terminal(tmp_path):
    p = spawn(tmp_path, LOGS, cols=70)
    out = run(p, "SELECT * FROM t LIMIT 3;", "3 rows")
    table = [l for l in out.splitlines() if l.startswith(("|", "+"))]
    assert table and all(len(l) <= 70 for l in table), "\n".join(table)
    assert "columns not shown" in out
    run(p, ".maxrows 2", "")
    out = run(p, "SELECT level FROM t;", "2000 rows")
    assert "2 of 2000 rows shown; 1998 more not shown (.maxrows 0 shows all)" in out
    quit(p)


def test_colour_only_without_no_color(tmp_path):
    p = spawn(tmp_path, LOGS, color=True)
    p.sendline("SELECT nope;")
    p.expect_exact("\x1b[31mError: ")
    p.expect_exact("\x1b[1;32mmpq> ")
    quit(p)
    p = spawn(tmp_path, LOGS)
    p.sendline("SELECT nope;")
    p.expect_exact("Error: ")
    p.expect_exact("mpq> ")
    assert "\x1b[31m" not in p.before
    quit(p)


def test_commands_from_a_pipe_run_without_a_prompt(tmp_path):
    script = ".mode csv\nSELECT level, count(*) AS n\n  FROM t GROUP BY 1 ORDER BY 1 LIMIT 2;\n.timer on\nSELECT 1 AS a\n"
    p = subprocess.run([MPQ, LOGS], input=script, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "level,n\ndebug,191\nerror,199\na\n1\n"
    assert "Run time: " in p.stderr and "\x1b" not in p.stdout + p.stderr
    p = subprocess.run([MPQ, LOGS], input="SELECT 1;\nSELECT nope;\nSELECT 3;\n", capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 2 and "nope" in p.stderr
    assert "3" not in p.stdout
