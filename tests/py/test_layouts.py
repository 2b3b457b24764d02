"""Layouts and inputs against independent implementations: msgpack-python decodes every
fixture of testdata/layouts/ on its own (forward modes, Fluent Bit, compression) and must agree
with `mpq cat`; Python's fluent-logger sends real events to a loopback receiver whose capture
mpq reads; a local S3-compatible server (moto) serves files to `s3://` inputs."""
import gzip
import json
import os
import socket
import subprocess
import sys
import threading
import time

import msgpack
import pytest
import zstandard

from conftest import MPQ, ROOT, mpq, normalise, rfc3339

LAYOUTS = os.path.join(ROOT, "testdata", "layouts")


def _unpack_all(data):
    u = msgpack.Unpacker(raw=False, strict_map_key=False, timestamp=0)
    u.feed(data)
    return list(u)


def plain(data):
    """Decompresses a gzip (several members) or zstd (several frames) file."""
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return b"".join(_zstd_frames(data))
    return data


def _zstd_frames(data):
    reader = zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True)
    while True:
        chunk = reader.read(1 << 16)
        if not chunk:
            return
        yield chunk


def events_of(value):
    """The (time, tag, metadata, record) events of one top-level value, decoded the way the
    Fluentd forward protocol and Fluent Bit define them."""
    if isinstance(value, dict):
        return [(None, None, None, value)]
    if len(value) == 2 and isinstance(value[0], list):  # Fluent Bit [[time, metadata], record]
        return [(value[0][0], None, value[0][1], value[1])]
    if len(value) == 2 and not isinstance(value[0], str):  # event [time, record]
        return [(value[0], None, None, value[1])]
    tag, second = value[0], value[1]
    option = value[2] if len(value) > 2 and isinstance(value[2], dict) else {}
    if isinstance(second, list):  # Forward
        return [(t, tag, None, r) for t, r in second]
    if isinstance(second, (bytes, str)):  # PackedForward, maybe compressed
        payload = second if isinstance(second, bytes) else second.encode()
        if option.get("compressed") == "gzip":
            payload = gzip.decompress(payload)
        elif option.get("compressed") == "zstd":
            payload = b"".join(_zstd_frames(payload))
        return [(t, tag, None, r) for t, r in _unpack_all(payload)]
    return [(second, tag, None, value[2])]  # Message


def python_view(path):
    out = []
    with open(path, "rb") as f:
        data = plain(f.read())
    for v in _unpack_all(data):
        for t, tag, meta, rec in events_of(v):
            line = {}
            if t is not None:
                line["time"] = normalise(t) if not isinstance(t, (int, float)) else rfc3339(int(t), 0)
            if tag is not None:
                line["tag"] = tag
            if meta is not None:
                line["metadata"] = normalise(meta)
            out.append((line, normalise(rec)))
    return out


def cat(*args, stdin=None):
    p = subprocess.run([MPQ, "cat", *args], input=stdin, capture_output=True, cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    return [json.loads(l) for l in p.stdout.decode().splitlines()]


FIXTURES = [f for f in sorted(os.listdir(LAYOUTS)) if os.path.isfile(os.path.join(LAYOUTS, f)) and f != "expected.json"]


@pytest.mark.parametrize("name", FIXTURES)
def test_cat_agrees_with_msgpack_python(name):
    want = python_view(os.path.join(LAYOUTS, name))
    got = cat(os.path.join("testdata", "layouts", name))
    assert len(got) == len(want) == 6
    for line, (parts, record) in zip(got, want):
        rec = line.pop("record") if parts else line
        assert rec == record
        if parts:
            assert line == parts


# --- a real producer: fluent-logger over TCP to a loopback receiver -----------------------

class Receiver:
    """Accepts connections on 127.0.0.1, keeps every byte received, and answers the acks
    fluent-logger asks for (`{"chunk": id}` in the option -> `{"ack": id}`)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        self.data = bytearray()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                return
            conn.settimeout(5)
            unpacker = msgpack.Unpacker(raw=False, timestamp=0, strict_map_key=False)
            with conn:
                while True:
                    try:
                        chunk = conn.recv(65536)
                    except socket.timeout:
                        break
                    if not chunk:
                        break
                    self.data += chunk
                    unpacker.feed(chunk)
                    for msg in unpacker:
                        opt = msg[-1] if isinstance(msg, list) and isinstance(msg[-1], dict) else {}
                        if "chunk" in opt:
                            conn.sendall(msgpack.packb({"ack": opt["chunk"]}))

    def close(self):
        self.done.set()
        self.sock.close()
        self.thread.join(timeout=10)


@pytest.mark.parametrize("nanos,ack", [(False, False), (True, False), (True, True)])
def test_fluent_logger_capture(tmp_path, nanos, ack):
    from fluent import sender

    rx = Receiver()
    s = sender.FluentSender("app", host="127.0.0.1", port=rx.port, nanosecond_precision=nanos,
                            request_ack=ack, timeout=5)
    sent = [(1763683200.5 + i, {"n": i, "msg": f"event {i}", "nested": {"ok": i % 2 == 0}}) for i in range(5)]
    for t, rec in sent:
        # Without nanosecond precision fluent-logger sends what it is given; `emit` gives
        # int(time.time()), as sent here.
        assert s.emit_with_time("web", t if nanos else int(t), rec), s.last_error
    s.close()
    deadline = time.time() + 10
    while len(rx.data) == 0 and time.time() < deadline:
        time.sleep(0.05)
    rx.close()
    capture = tmp_path / "capture.bin"
    capture.write_bytes(bytes(rx.data))
    got = cat(str(capture))
    assert len(got) == len(sent)
    for line, (t, rec) in zip(got, sent):
        assert line["tag"] == "app.web"
        assert line["time"] == (rfc3339(int(t), 500_000_000) if nanos else rfc3339(int(t), 0))
        assert line["record"] == rec
    schema, _ = mpq("schema", str(capture), "--format", "json", "--sample-only")
    assert json.loads(schema)["files"][0]["layout"] == "forward"


# --- object storage: s3:// against a local S3-compatible server ------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3():
    port = free_port()
    server = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "moto_server"),
                               "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):  # up to 10 s for the server to listen
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        import boto3
        client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test",
                              aws_secret_access_key="test", region_name="us-east-1")
        client.create_bucket(Bucket="logs")
        for name in ["fluentbit.msgpack", "forward_mixed.msgpack", "events.msgpack.gz"]:
            client.upload_file(os.path.join(LAYOUTS, name), "logs", f"in/{name}")
        client.upload_file(os.path.join(ROOT, "testdata", "logs.msgpack"), "logs", "plain/logs.msgpack")
        env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION="us-east-1",
                   AWS_ENDPOINT_URL=endpoint, AWS_ALLOW_HTTP="true")
        yield env
    finally:
        server.terminate()
        server.wait(timeout=10)


def run_env(env, *args):
    p = subprocess.run([MPQ, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_s3_query_schema_and_cat(s3):
    out = run_env(s3, "query", "SELECT count(*) AS n, count(DISTINCT service) AS s FROM t",
                  "s3://logs/plain/logs.msgpack", "--format", "csv")
    local, _ = mpq("query", "SELECT count(*) AS n, count(DISTINCT service) AS s FROM t",
                   "testdata/logs.msgpack", "--format", "csv")
    assert out == local
    out = run_env(s3, "query", "SELECT tag, count(*) AS n FROM t GROUP BY 1 ORDER BY 1 NULLS FIRST",
                  "s3://logs/in/", "--format", "csv")
    assert out == "tag,n\n,12\napp.web,6\n"
    layouts = {f["path"].rsplit("/", 1)[-1]: f["layout"]
               for f in json.loads(run_env(s3, "schema", "s3://logs/in/", "--format", "json",
                                           "--sample-only"))["files"]}
    assert layouts == {"events.msgpack.gz": "events", "fluentbit.msgpack": "fluentbit",
                       "forward_mixed.msgpack": "forward"}
    lines = run_env(s3, "cat", "s3://logs/in/fluentbit.msgpack", "--limit", "2").splitlines()
    assert [json.loads(l)["metadata"] for l in lines] == [{}, {"source": "tail"}]


def test_compressed_input_is_streamed_not_held(tmp_path):
    """A gzip file is decompressed as it is read: peak memory stays well under its
    decompressed size (the mapped compressed file counts in it)."""
    import procmem

    raw = tmp_path / "big.msgpack"
    mpq("generate", "--records", "1000000", "--out", str(raw))
    gz = tmp_path / "big.msgpack.gz"
    with open(raw, "rb") as src, gzip.open(gz, "wb", compresslevel=1) as dst:
        dst.write(src.read())
    size = raw.stat().st_size
    raw.unlink()
    rc, err, peak_kib = procmem.peak_rss_kib([MPQ, "query", "SELECT service, count(*) FROM t GROUP BY 1", str(gz)])
    assert rc == 0, err
    assert peak_kib * 1024 < 0.75 * size, (peak_kib, size)


def test_s3_on_a_cluster_of_processes(s3, tmp_path):
    """Every process of a cluster configures S3 from its own environment: the scheduler lists
    the objects, the executors read them."""
    from conftest import Cluster

    sql = "SELECT service, count(*) AS n FROM t GROUP BY 1 ORDER BY 1"
    with Cluster(str(tmp_path), executors=1, env=s3) as c:
        out = run_env(s3, "query", "--cluster", c.url, sql, "s3://logs/plain/logs.msgpack", "--format", "csv")
    assert c.codes == [0, 0]
    assert out == run_env(s3, "query", sql, "s3://logs/plain/logs.msgpack", "--format", "csv")
