"""The exchange database through ADBC's PostgreSQL driver: connect, describe a result, stream it as Arrow.

ADBC was chosen by measurement and for what a pull needs (BENCHMARKS.md, "Pulling from an exchange database"):
results stream as Arrow record batches of bounded size, values are bound as parameters, NUMERIC arrives exact
(as text), each column says its PostgreSQL type (so a column that cannot hold the contract's kind is refused
before anything is read), and query errors carry their SQLSTATE. Every failure becomes one `SourceError` line
naming the dataset and the source, never the URL or its password.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

import pyarrow as pa

from ingestion.exchange.source import Source, SourceError

CONNECT_TIMEOUT_S = 15  # libpq waits for a silent host for minutes without it
BATCH_BYTES = 16 << 20  # the driver's batch size hint: memory stays bounded whatever the table's size

TEXT = frozenset({"text", "varchar", "bpchar", "char", "name", "citext", "uuid"})
INTEGER = frozenset({"int2", "int4", "int8"})
NUMERIC = frozenset({"numeric"})
FLOAT = frozenset({"float4", "float8"})
DATE = frozenset({"date"})
MOMENT = frozenset({"timestamp", "timestamptz"})
# which database types can hold each kind of contract column (docs/extracts.md#values)
FITS: dict[str, frozenset[str]] = {
    "text": TEXT | INTEGER | NUMERIC,
    "id": TEXT,  # a number column has lost the X check digit and any leading digits
    "enum": TEXT,
    "region": TEXT | INTEGER | NUMERIC,
    "region6": TEXT | INTEGER | NUMERIC,
    "date": TEXT | DATE | MOMENT,
    "month": TEXT | DATE | MOMENT | INTEGER,
    "amount": TEXT | INTEGER | NUMERIC | FLOAT,
    "int": TEXT | INTEGER | NUMERIC,
}
WATERMARK_TYPES = INTEGER | DATE | MOMENT
CUTOFF_TYPES = DATE | MOMENT | TEXT | INTEGER


def pg_type(column: pa.Field) -> str:
    """The column's PostgreSQL type name, as the driver reports it."""
    named = (column.metadata or {}).get(b"POSTGRESQL:type")
    if named:
        return named.decode()
    kind = column.type
    for test, name in (
        (pa.types.is_string, "text"),
        (pa.types.is_large_string, "text"),
        (pa.types.is_int64, "int8"),
        (pa.types.is_int32, "int4"),
        (pa.types.is_int16, "int2"),
        (pa.types.is_date, "date"),
        (pa.types.is_decimal, "numeric"),
        (pa.types.is_floating, "float8"),
    ):
        if test(kind):
            return name
    if pa.types.is_timestamp(kind):
        return "timestamptz" if kind.tz else "timestamp"
    return str(kind)


def plain(table_schema: pa.Schema) -> pa.Schema:
    """The schema written to the raw archive: extension types (the driver's exact NUMERIC text) as their storage."""
    return pa.schema(
        [
            pa.field(f.name, f.type.storage_type, f.nullable, f.metadata) if isinstance(f.type, pa.ExtensionType) else f
            for f in table_schema
        ]
    )


def plain_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    columns = [c.storage if isinstance(c, pa.ExtensionArray) else c for c in batch.columns]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def quote_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def relation(source: Source) -> str:
    """The source's rows as a FROM item: its `[schema.]table`, or its query as a subquery."""
    if source.query:
        return f"({source.query}) as source_query"
    assert source.table is not None
    return ".".join(quote_name(part) for part in source.table.split("."))


def _with_timeout(url: str) -> str:
    if "connect_timeout" in url:
        return url
    if re.match(r"^postgres(ql)?://", url):
        return url + ("&" if "?" in url else "?") + f"connect_timeout={CONNECT_TIMEOUT_S}"
    return f"{url} connect_timeout={CONNECT_TIMEOUT_S}"  # key=value form


def _secrets_of(url: str) -> list[str]:
    """What a message must never show: the URL itself and its password."""
    found = [url]
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    found += [password, unquote(password)] if password else []
    match = re.search(r"password\s*=\s*(\S+)", url)
    if match:
        found.append(match.group(1).strip("'\""))
    return [s for s in found if s]


def _detail(err: Exception, url: str) -> str:
    """The driver's first line, without its prefixes and without anything secret."""
    text = next((line for line in str(err).splitlines() if line.strip()), type(err).__name__)
    text = re.sub(r"^[A-Z_]+: (\[libpq\] )?", "", text.strip())
    text = re.sub(r"\s+", " ", text)
    for secret in _secrets_of(url):
        text = text.replace(secret, "***")
    return text[:300]


_UNREACHABLE = (
    "connection refused",
    "no such file or directory",
    "could not translate host name",
    "timeout expired",
    "network is unreachable",
    "no route to host",
    "could not connect",
    "server closed the connection",
)
_CREDENTIALS = ("password authentication failed", "no password supplied", "authentication failed",
                "role \"", "pg_hba.conf")  # fmt: skip


def _connect_problem(err: Exception, url: str) -> str:
    detail = _detail(err, url).removeprefix("Failed to connect: ")
    lowered = detail.lower()
    if any(word in lowered for word in _CREDENTIALS):
        return f"the server refused the connection's credentials ({detail})"
    if "database" in lowered and "does not exist" in lowered:
        return f"the connection names a database the server does not have ({detail})"
    if any(word in lowered for word in _UNREACHABLE):
        return f"cannot reach the database server ({detail})"
    return f"cannot connect ({detail})"


_QUERY_PROBLEMS = {
    "42P01": "the table does not exist (or its schema is not on the connection's search path)",
    "42703": "a column the source names does not exist",
    "42501": "the connection's user may not read the table",
    "42601": "the query is not valid SQL",
}


@contextmanager
def connect(source: Source, url: str) -> Iterator[Any]:
    """An ADBC connection (read in one transaction, never committed: a pull writes nothing there)."""
    import adbc_driver_postgresql.dbapi as adbc

    try:
        conn = adbc.connect(_with_timeout(url))
    except Exception as err:  # the driver raises its own error classes for every connection failure
        raise source.error(_connect_problem(err, url)) from None
    try:
        yield _Session(conn, source, url)
    finally:
        try:
            conn.rollback()
        finally:
            conn.close()


class _Session:
    """One connection to the exchange database, with errors turned into `SourceError` lines."""

    def __init__(self, conn: Any, source: Source, url: str):
        self.conn, self.source, self.url = conn, source, url

    def _fail(self, err: Exception) -> SourceError:
        code = getattr(err, "sqlstate", None)
        problem = _QUERY_PROBLEMS.get(str(code), "the query failed")
        return self.source.error(f"{problem} ({_detail(err, self.url)})")

    def table(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """A small result (a schema, distinct cut-offs, a probe) read whole."""
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql, parameters=tuple(params) or None)
            return cursor.fetch_arrow_table()
        except Exception as err:  # adbc_driver_manager's error classes
            raise self._fail(err) from None
        finally:
            cursor.close()

    def schema(self, sql: str) -> pa.Schema:
        return self.table(f"select * from ({sql}) as described limit 0").schema

    def batches(self, sql: str, params: Sequence[Any] = ()) -> Iterator[pa.RecordBatch]:
        """The rows in Arrow batches of about BATCH_BYTES each."""
        cursor = self.conn.cursor()
        try:
            cursor.adbc_statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(BATCH_BYTES)})
            cursor.execute(sql, parameters=tuple(params) or None)
            reader = cursor.fetch_record_batch()
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                yield batch
        except SourceError:
            raise
        except Exception as err:  # adbc_driver_manager's error classes, also mid-stream (a dropped connection)
            raise self._fail(err) from None
        finally:
            cursor.close()
