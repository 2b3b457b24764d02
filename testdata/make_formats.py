"""Writes testdata/formats/: reference tables in the formats mpq reads beside MessagePack,
made with pyarrow and msgpack-python (independent of mpq), for the joins and the `mp_*`
functions over a binary column (HBase cells exported to Parquet).

Run: .venv/bin/python testdata/make_formats.py
"""
import csv
import json
import os

import msgpack
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "formats")

SERVICES = [
    ("api", "platform", 1),
    ("auth", "identity", 1),
    ("billing", "payments", 2),
    ("cache", "platform", 3),
    ("mail", "growth", 3),
    ("queue", "platform", 2),
    ("search", "discovery", 2),
    ("web", "frontend", 1),
]

# HBase-style cells: a row key and a MessagePack blob per row, one blob damaged.
CELLS = [
    (b"row-1", msgpack.packb({"user": {"name": "ada", "id": 1}, "visits": 3})),
    (b"row-2", msgpack.packb({"user": {"name": "bob", "id": 2}, "visits": 7, "vip": True})),
    (b"row-3", msgpack.packb({"user": {"id": 3}, "visits": None})),
    (b"row-4", b"\x81\xa4user"),  # cut short: the functions give NULL
    (b"row-5", None),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    table = pa.table(
        {
            "service": [s for s, _, _ in SERVICES],
            "team": [t for _, t, _ in SERVICES],
            "tier": pa.array([n for _, _, n in SERVICES], pa.int64()),
        }
    )
    with open(os.path.join(OUT, "services.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["service", "team", "tier"])
        w.writerows(SERVICES)
    with open(os.path.join(OUT, "services.tsv"), "w", newline="") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(["service", "team", "tier"])
        w.writerows(SERVICES)
    with open(os.path.join(OUT, "services.ndjson"), "w") as f:
        for s, t, n in SERVICES:
            f.write(json.dumps({"service": s, "team": t, "tier": n}) + "\n")
    pq.write_table(table, os.path.join(OUT, "services.parquet"))
    feather.write_feather(table, os.path.join(OUT, "services.arrow"), compression="uncompressed")
    cells = pa.table(
        {"row": pa.array([r for r, _ in CELLS], pa.binary()), "cell": pa.array([c for _, c in CELLS], pa.binary())}
    )
    pq.write_table(cells, os.path.join(OUT, "cells.parquet"))


if __name__ == "__main__":
    main()
