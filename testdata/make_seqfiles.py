"""Writes testdata/seqfile/: Hadoop SequenceFiles written by Spark itself (pyspark in local mode,
Hadoop's own SequenceFile.Writer), whose values are MessagePack records packed by
msgpack-python, with `expected.json` holding the records as msgpack-python decodes them.

Run: .venv/bin/python testdata/make_seqfiles.py   (needs pyspark and Java 17)

Each file: 60 records; keys are Text (`k0`...) or BytesWritable (the key's UTF-8 bytes);
values BytesWritable (or Text for `text_values.seq`). Compression: none, record or block,
with each codec Spark can write here (ZStandardCodec needs Hadoop's native library, which
pyspark does not ship: its files are made by the Rust tests instead).
"""
import glob
import json
import os
import shutil
import tempfile

import msgpack

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seqfile")
CODECS = {
    "deflate": "org.apache.hadoop.io.compress.DefaultCodec",
    "gzip": "org.apache.hadoop.io.compress.GzipCodec",
    "snappy": "org.apache.hadoop.io.compress.SnappyCodec",
    "lz4": "org.apache.hadoop.io.compress.Lz4Codec",
}


def record(i):
    r = {"n": i, "level": ["info", "warn", "error"][i % 3], "user": {"id": i * 7, "name": f"u{i % 5}"}}
    if i % 4 == 0:
        r["tags"] = ["a", "b"][: i % 3]
    if i % 10 == 3:
        r["code"] = "E" + str(i)  # a type conflict with the int codes below
    elif i % 10 == 4:
        r["code"] = i
    return r


RECORDS = [record(i) for i in range(60)]


def main():
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    sc = spark.sparkContext
    os.makedirs(OUT, exist_ok=True)
    tmp = tempfile.mkdtemp()
    values = [bytearray(msgpack.packb(r)) for r in RECORDS]

    def save(name, keys, vals, codec=None, kind="BLOCK"):
        path = os.path.join(tmp, name)
        rdd = sc.parallelize(list(zip(keys, vals)), 1)
        if kind == "BLOCK":
            # saveAsSequenceFile compresses blocks whenever a codec is given.
            rdd.saveAsSequenceFile(path, compressionCodecClass=codec)
        else:
            # Record compression goes through the new API's output format and its settings.
            key_class = "org.apache.hadoop.io.Text" if isinstance(keys[0], str) else "org.apache.hadoop.io.BytesWritable"
            conf = {
                "mapreduce.output.fileoutputformat.compress": "true",
                "mapreduce.output.fileoutputformat.compress.codec": codec,
                "mapreduce.output.fileoutputformat.compress.type": "RECORD",
            }
            rdd.saveAsNewAPIHadoopFile(
                path,
                "org.apache.hadoop.mapreduce.lib.output.SequenceFileOutputFormat",
                keyClass=key_class,
                valueClass="org.apache.hadoop.io.BytesWritable",
                conf=conf,
            )
        (part,) = glob.glob(os.path.join(path, "part-*"))
        shutil.copy(part, os.path.join(OUT, name + ".seq"))

    text_keys = [f"k{i}" for i in range(len(RECORDS))]
    bytes_keys = [bytearray(k.encode()) for k in text_keys]
    save("plain_text_keys", text_keys, values)
    save("plain_bytes_keys", bytes_keys, values)
    # Many records, so the file holds several sync markers (Hadoop writes one every 2000
    # bytes) and the Rust tests can split it.
    many = [bytearray(msgpack.packb(record(i % 60) | {"i": i})) for i in range(3000)]
    save("plain_many", [f"k{i}" for i in range(3000)], many)
    for short, codec in CODECS.items():
        save(f"record_{short}", text_keys, values, codec, "RECORD")
        save(f"block_{short}", text_keys, values, codec, "BLOCK")
    spark.stop()
    shutil.rmtree(tmp)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump([{"key": k, **r} for k, r in zip(text_keys, RECORDS)], f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
