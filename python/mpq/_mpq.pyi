"""Type stubs of mpq's Rust extension. Read options are keyword arguments (``**options``); the
names, defaults and help are ``mpq.OPTIONS`` (the same table as the CLI's flags)."""

from typing import Any, Iterator

__version__: str

class Error(Exception):
    """Every error mpq raises."""

class FramingError(Error):
    """A record boundary was lost."""
    file: str
    record: int | None
    record_offset: int
    offset: int
    kind: str

class RecordError(Error):
    """A record is intact but its content is wrong (under on_error='fail')."""
    file: str
    record: int | None
    record_offset: int
    offset: int
    kind: str

class SqlError(Error):
    """The SQL does not parse or plan."""

class OptionError(Error):
    """An option has a bad value, or no such option exists."""

Source = str | bytes | bytearray | memoryview | list[str] | Any

class ArrowSchema:
    def __arrow_c_schema__(self) -> object: ...

class Reader:
    """A stream of record batches, read once."""
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...
    def __arrow_c_schema__(self) -> object: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __next__(self) -> Any: ...
    def to_arrow(self) -> Any: ...
    def report(self) -> dict[str, Any]: ...

class Query:
    """A planned query; each consumption runs it."""
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...
    def __arrow_c_schema__(self) -> object: ...
    def to_arrow(self) -> Any: ...
    def to_pandas(self) -> Any: ...
    def to_polars(self) -> Any: ...

class Context:
    """A session over MessagePack tables."""
    def __init__(self, threads: int | None = None, **options: Any) -> None: ...
    def register(self, name: str, source: Source, **options: Any) -> None: ...
    def sql(self, sql: str) -> Query: ...
    def tables(self) -> list[str]: ...
    def report(self) -> dict[str, Any]: ...

def option_table() -> list[tuple[str, str, str, str]]: ...
def read(source: Source, threads: int | None = None, **options: Any) -> Reader: ...
def convert(source: Source, output: str, *, query: str | None = None, format: str | None = None,
            compression: str | None = None, partition_by: list[str] | None = None, variant: str = "json",
            timestamp_unit: str = "ns", row_group_size: int | None = None, force: bool = False,
            threads: int | None = None, **options: Any) -> dict[str, int]: ...
def schema(source: Source, sample_only: bool = False, threads: int | None = None,
           **options: Any) -> tuple[str, ArrowSchema]: ...
