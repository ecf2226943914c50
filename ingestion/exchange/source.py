"""Where a dataset is pulled from: `<data root>/sources/<dataset>.yaml`, and the connection's URL.

```yaml
connection: ybj_exchange   # a name; its URL comes from $SAFETYNET_DB_YBJ_EXCHANGE or secrets/databases.yaml
table: qzk.ybj_jsmx        # [schema.]table, or `query: select …` (a SELECT, read as a subquery)
watermark: gxsj            # increments: an update time or a monotonically increasing id
# cutoff_column: sjjzrq    # snapshots: a table of dated snapshots, one delivery per new cut-off
# full_read: true          # snapshots: the table is the current roster, read whole at each pull
columns:                   # optional: contract header (or field) → database column, where names differ
  结算编号: jsbh
```

The URL (with its user and password) never appears in these files, in the ledger or in a log: it is looked up
by the connection's name, in the environment first, then in `<data root>/secrets/databases.yaml`
(`<name>: <url>`), which must be readable by its owner only.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ingestion.contracts import Contract, ContractError, load_contract
from ingestion.settings import DataRoot

URL_ENV_PREFIX = "SAFETYNET_DB_"
SECRETS_FILE = "databases.yaml"
MODES = ("increment", "snapshot_cutoff", "snapshot_full")
_KEYS = {"dataset", "connection", "table", "query", "watermark", "cutoff_column", "full_read", "columns"}
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class SourceError(Exception):
    """A pull that cannot be made: one line naming the dataset and the source; nothing was landed."""


@dataclass(frozen=True)
class Source:
    dataset: str
    connection: str
    table: str | None
    query: str | None
    watermark: str | None
    cutoff_column: str | None
    full_read: bool
    columns: dict[str, str] = field(default_factory=dict)  # contract header or field → database column

    @property
    def label(self) -> str:
        """How logs, errors and the ledger name the source: never its URL."""
        return f"{self.connection}/{self.table or 'query'}"

    @property
    def mode(self) -> str:
        if self.watermark:
            return "increment"
        return "snapshot_cutoff" if self.cutoff_column else "snapshot_full"

    def error(self, problem: str) -> SourceError:
        return SourceError(f"{self.dataset} from database source {self.label}: {problem}")


def source_file(root: DataRoot, dataset: str) -> Path:
    return root.sources / f"{dataset}.yaml"


def has_source(root: DataRoot, dataset: str) -> bool:
    return source_file(root, dataset).is_file()


def source_datasets(root: DataRoot) -> list[str]:
    """Datasets with a database source, sorted."""
    if not root.sources.is_dir():
        return []
    return sorted(p.stem for p in root.sources.glob("*.yaml") if not p.name.startswith("."))


def load_source(root: DataRoot, dataset: str) -> Source:
    path = source_file(root, dataset)
    where = f"{dataset} from database source {path.name}"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError(f"{dataset}: no database source ({path} does not exist)") from None
    except yaml.YAMLError as err:
        raise SourceError(f"{where}: not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise SourceError(f"{where}: expected a mapping of settings")
    try:
        contract = load_contract(dataset)
    except ContractError as err:
        raise SourceError(f"{where}: {err}") from None
    return _parse(raw, contract, where)


def _parse(raw: dict[str, Any], contract: Contract, where: str) -> Source:
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise SourceError(f"{where}: unknown setting(s) {', '.join(unknown)} (allowed: {', '.join(sorted(_KEYS))})")
    if raw.get("dataset", contract.dataset) != contract.dataset:
        raise SourceError(f"{where}: declares dataset {raw['dataset']!r}, but the file is named for {contract.dataset}")
    connection = str(raw.get("connection") or "")
    if not _NAME.match(connection):
        raise SourceError(f"{where}: `connection` must be a name (letters, digits, _), got {connection!r}")
    table, query = raw.get("table"), raw.get("query")
    if bool(table) == bool(query):
        raise SourceError(f"{where}: give exactly one of `table` and `query`")
    if query and not re.match(r"^\s*(select|with)\b", str(query), re.I):
        raise SourceError(f"{where}: `query` must be a SELECT")
    watermark, cutoff_column, full_read = raw.get("watermark"), raw.get("cutoff_column"), bool(raw.get("full_read"))
    if contract.kind == "increment":
        if not watermark or cutoff_column or full_read:
            raise SourceError(
                f"{where}: {contract.dataset} is an increment: set `watermark` (an update time or increasing id) "
                "and neither `cutoff_column` nor `full_read`"
            )
    elif watermark or bool(cutoff_column) == full_read:
        raise SourceError(
            f"{where}: {contract.dataset} is a snapshot: set exactly one of `cutoff_column` (dated snapshots) "
            "and `full_read: true` (the current roster), and no `watermark`"
        )
    columns = raw.get("columns") or {}
    if not isinstance(columns, dict):
        raise SourceError(f"{where}: `columns` must map contract headers (or fields) to database columns")
    known = {name for c in contract.columns for name in (c.key, c.field, c.header)}
    strays = sorted(str(k) for k in columns if str(k) not in known)
    if strays:
        raise SourceError(f"{where}: `columns` names no column of the {contract.dataset} contract: {', '.join(strays)}")
    return Source(
        dataset=contract.dataset,
        connection=connection,
        table=str(table) if table else None,
        query=str(query).strip().rstrip(";") if query else None,
        watermark=str(watermark) if watermark else None,
        cutoff_column=str(cutoff_column) if cutoff_column else None,
        full_read=full_read,
        columns={str(k): str(v) for k, v in columns.items()},
    )


def url_env(connection: str) -> str:
    return URL_ENV_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", connection).upper()


def connection_url(root: DataRoot, source: Source) -> str:
    """The connection's URL: $SAFETYNET_DB_<NAME>, else `<name>:` in the owner-only secrets file."""
    from_env = os.environ.get(url_env(source.connection), "").strip()
    if from_env:
        return from_env
    path = root.secrets / SECRETS_FILE
    unset = f"connection {source.connection} has no URL: set ${url_env(source.connection)} or add it to {path}"
    if not path.is_file():
        raise source.error(unset)
    info = path.stat()
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO) or info.st_uid != os.geteuid():
        raise source.error(
            f"{path} holds passwords but is not owner-only (mode {stat.filemode(info.st_mode)}, owner uid "
            f"{info.st_uid}): run `chmod 600 {path}` as its owner"
        )
    try:
        urls = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        raise source.error(f"{path} is not valid YAML") from None  # its text may hold passwords: not quoted
    url = urls.get(source.connection) if isinstance(urls, dict) else None
    if not url:
        raise source.error(unset)
    return str(url).strip()
