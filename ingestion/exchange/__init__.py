"""Extracts from an exchange database (前置库) as well as from files.

A dataset whose `<data root>/sources/<dataset>.yaml` names a database source is pulled (`pull_dataset`,
`pull_sources`) and each pull lands through the same landing as a delivered file. Modules:
`source` (the declaration and the connection's URL), `database` (ADBC: connect, describe, stream, errors),
`pull` (what is new, staged as Parquet, landed, the watermark committed with the landing).
"""

from ingestion.exchange.pull import PullOutcome, has_new_rows, pull_dataset, pull_sources
from ingestion.exchange.source import Source, SourceError, has_source, load_source, source_datasets

__all__ = [
    "PullOutcome",
    "Source",
    "SourceError",
    "has_new_rows",
    "has_source",
    "load_source",
    "pull_dataset",
    "pull_sources",
    "source_datasets",
]
