"""mpq: SQL over MessagePack record files, as they are, for Python pipelines.

MessagePack logs (files, globs, directories, s3:// URLs, bytes or binary file objects) come
out as Arrow data, with the same schema inference, ``mp_*`` SQL functions and error policies
as the ``mpq`` command line. Results cross over through the Arrow C stream interface, so
pyarrow, polars, DuckDB and pandas take them without copies::

    import mpq
    t = mpq.query("SELECT service, count(*) n FROM logs GROUP BY 1", logs="logs/*.msgpack")  # pyarrow.Table
    r = mpq.read("logs/", on_error="drop")      # a stream of record batches, read once
    ctx = mpq.Context(threads=4); ctx.register("logs", "logs/"); ctx.sql("...").to_pandas()
    mpq.convert("logs/", "out/", partition_by=["dt"], query="SELECT *, CAST(ts AS DATE) dt FROM t")
    mpq.schema("logs/*.msgpack")                # the `mpq schema` view as a dict

Every read option of the CLI is a keyword argument with the same name and default
(``mpq.OPTIONS`` lists them). Errors are ``mpq.Error`` and its subclasses ``FramingError``,
``RecordError`` (with ``file``, ``record``, ``record_offset``, ``offset`` and ``kind``),
``SqlError`` and ``OptionError``. Queries run with the GIL released; Ctrl-C stops them.
"""

import inspect as _inspect
import json as _json

from . import _mpq
from ._mpq import (
    Context,
    Error,
    FramingError,
    OptionError,
    Query,
    Reader,
    RecordError,
    SqlError,
    __version__,
)

__all__ = [
    "Context", "Query", "Reader", "Error", "FramingError", "RecordError", "SqlError", "OptionError",
    "OPTIONS", "read", "query", "convert", "schema", "__version__",
]


def _value(text):
    """An option's default as the Python value a user would pass."""
    if text == "":
        return None
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        return text


#: Every read option: name -> (default, help). The same table as the CLI's flags and SQL's
#: ``OPTIONS (...)`` keys, taken from the Rust side.
OPTIONS = {key: (_value(default), help) for key, _flag, default, help in _mpq.option_table()}
#: The CLI's flag spellings that differ from the option names (``ext``, ``corrupt_record``).
_ALIASES = {flag.replace("-", "_"): key for key, flag, _d, _h in _mpq.option_table() if flag.replace("-", "_") != key}


def _is_option(name):
    return name in OPTIONS or name in _ALIASES


def read(source, *, threads=None, rejects=None, **options):
    """Reads MessagePack ``source`` as a stream of Arrow record batches, decoded as they are
    consumed (never all in memory). ``source`` is a path, glob, directory or URL, a list of
    them, bytes, or a binary file object. The stream is read once: iterate it
    (``pyarrow.RecordBatch`` each), or hand it to ``pyarrow.table``, ``polars.DataFrame`` or
    DuckDB. ``reader.report()`` tells what the scan met; ``rejects=PATH`` writes every problem
    to PATH as one JSON line (as the CLI's ``--rejects``)."""
    return _mpq.read(source, threads, rejects, **options)


def query(sql, *, threads=None, rejects=None, **tables_and_options):
    """Runs ``sql`` and returns the result as a ``pyarrow.Table`` (needs pyarrow; use
    ``Context.sql`` for polars or DuckDB without pyarrow). Keyword arguments that are not read
    options are tables: ``logs="logs/*.msgpack"`` registers ``logs``; ``t`` is just a name like
    any other. Read options apply to every table."""
    options = {k: v for k, v in tables_and_options.items() if _is_option(k)}
    tables = {k: v for k, v in tables_and_options.items() if not _is_option(k)}
    ctx = Context(threads=threads, rejects=rejects, **options)
    for name, source in tables.items():
        ctx.register(name, source)
    return ctx.sql(sql).to_arrow()


def convert(source, output, *, query=None, format=None, compression=None, partition_by=None, variant="json",
            timestamp_unit=None, target=None, row_group_size=None, force=False, threads=None, rejects=None,
            **options):
    """Converts ``source`` to ``output`` as ``mpq convert`` does: Parquet (default), Arrow IPC,
    NDJSON or CSV (from ``format`` or the output's extension), through ``query`` over table
    ``t``, Hive-partitioned by ``partition_by``, shaped for ``target`` (``"spark"``, ``"hive"``
    or ``"duckdb"``, the CLI's ``--for``; ``timestamp_unit`` defaults to ``"ns"``, or the
    target's); written under a temporary name and renamed into
    place when complete (an existing output is kept unless ``force``). As for the CLI, the error
    policies default to ``framing='fail'`` and ``on_error='fail'``. Returns a dict of rows,
    bytes, records and problems."""
    if isinstance(partition_by, str):
        partition_by = [c.strip() for c in partition_by.split(",") if c.strip()]
    return _mpq.convert(source, output, query=query, format=format, compression=compression,
                        partition_by=partition_by, variant=variant, timestamp_unit=timestamp_unit, target=target,
                        row_group_size=row_group_size, force=force, threads=threads, rejects=rejects,
                        **options)


def schema(source, *, sample_only=False, threads=None, **options):
    """The ``mpq schema`` view of ``source`` as a dict (columns, the MessagePack types seen,
    why a field became variant; with a full scan's ``_extra`` counts unless ``sample_only``).
    Its ``"arrow_schema"`` entry is the Arrow schema (``pyarrow.schema(d["arrow_schema"])``)."""
    text, arrow = _mpq.schema(source, sample_only, threads, **options)
    view = _json.loads(text)
    view["arrow_schema"] = arrow
    return view


def _options_doc():
    lines = ["", "Read options (keyword arguments; the CLI's flags and SQL's OPTIONS keys):", ""]
    for key, (default, help) in OPTIONS.items():
        lines.append(f"    {key}={default!r}: {help}")
    return "\n".join(lines)


def _with_options(fn, *, policies=None):
    """Gives ``fn`` a signature and help listing every read option with its default."""
    sig = _inspect.signature(fn)
    params = [p for p in sig.parameters.values() if p.kind != p.VAR_KEYWORD]
    for key, (default, _help) in OPTIONS.items():
        if policies and key in policies:
            default = policies[key]
        params.append(_inspect.Parameter(key, _inspect.Parameter.KEYWORD_ONLY, default=default))
    fn.__signature__ = sig.replace(parameters=params)
    fn.__doc__ = (fn.__doc__ or "") + "\n" + _options_doc()
    return fn


_with_options(read)
_with_options(schema)
_with_options(convert, policies={"framing": "fail", "on_error": "fail"})
query.__doc__ += "\n" + _options_doc()
