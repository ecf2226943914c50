"""Exchange-database client benchmark (a script, not a test): which PostgreSQL client pulls an extract fastest
within bounded memory, written to Parquet batch by batch as a pull does.

    uv run --with connectorx --with "psycopg[binary]" python bench/bench_exchange.py [--rows 1000000,5000000]

A throwaway PostgreSQL server (tests/pg_server.py, Debian's package) holds a `ybj_settlement`-shaped table of
N rows (text, numeric(14,2), date and timestamp columns, as an exchange database has them). Each client pulls
`select * … where updated_at > $watermark order by updated_at, settlement_id` in its own process and writes
every batch to a zstd Parquet file; the process reports the client's import time apart, then the pull's wall time,
CPU time (its own: the server's is not counted), peak resident memory (VmHWM), batches and the largest batch. Clients:

- `adbc`: adbc-driver-postgresql (libpq, binary COPY into Arrow), `fetch_record_batch()` streaming;
- `connectorx`: connectorx `return_type="arrow_stream"` with `batch_size`;
- `psycopg_rows`: psycopg 3 server-side cursor, `fetchmany`, rows turned into Arrow batches in Python;
- `psycopg_copy`: psycopg 3 `COPY (query) TO STDOUT (FORMAT csv)` streamed into pyarrow's CSV reader
  (everything arrives as text: the database's types are lost).

The machine is shared with the server (2 cores): compare ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import pg_server  # noqa: E402  (test support: starts Debian's PostgreSQL in a temporary directory)

BATCH_ROWS = 100_000
QUERY = "select * from settlement where updated_at > {wm} order by updated_at, settlement_id"
WATERMARK = "timestamp '2000-01-01'"

TABLE = """
drop table if exists settlement;
create table settlement (
    settlement_id text primary key, id_number text, name text, insured_region text, visit_type text,
    provider text, settled_on date, total_cost numeric(14, 2), fund_paid numeric(14, 2),
    critical_illness_paid numeric(14, 2), medical_aid_paid numeric(14, 2), self_paid numeric(14, 2),
    settlement_type text, original_settlement_id text, updated_at timestamp not null
);
insert into settlement
select 'JS' || lpad(g::text, 10, '0'),
       '370102' || (19500101 + (g % 500) * 100)::text || lpad((g % 1000)::text, 3, '0') || 'X',
       (array['王伟', '李娜', '张敏', '刘洋', '陈静'])[1 + g % 5],
       (array['370102', '370211', '370302', '371002'])[1 + g % 4],
       (array['普通门诊', '门诊慢特病', '住院'])[1 + g % 3],
       (array['山东省立医院', '齐鲁医院', '乡镇卫生院'])[1 + g % 3],
       date '2025-11-01' + (g % 365),
       round((100 + g % 90000)::numeric * 1.37, 2), round((60 + g % 50000)::numeric, 2),
       0, round((g % 300)::numeric, 2), round((40 + g % 40000)::numeric * 0.37, 2),
       case when g % 97 = 0 then '冲销' else '正常' end,
       case when g % 97 = 0 then 'JS' || lpad((g - 1)::text, 10, '0') end,
       timestamp '2025-11-01' + (g % 31536000) * interval '1 second'
from generate_series(1, {rows}) as g;
create index on settlement (updated_at, settlement_id);
analyze settlement;
"""

CHILD = r"""
import json, resource, sys, time
import pyarrow as pa, pyarrow.parquet as pq

client, url, query, out, batch_rows = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
imported = time.perf_counter()
MODULES = {"adbc": "adbc_driver_postgresql.dbapi", "connectorx": "connectorx", "psycopg_rows": "psycopg",
           "psycopg_copy": "psycopg"}
__import__(MODULES[client])  # import time is reported apart: it is paid once per process, not per row
started, cpu0 = time.perf_counter(), time.process_time()
import_s = started - imported
rows = batches = largest = 0
writer = None

def write(batch):
    global writer, rows, batches, largest
    if writer is None:
        writer = pq.ParquetWriter(out, batch.schema, compression="zstd")
    writer.write_batch(batch)
    rows += batch.num_rows; batches += 1; largest = max(largest, batch.num_rows)

if client == "adbc":
    import adbc_driver_postgresql.dbapi as adbc
    with adbc.connect(url) as conn, conn.cursor() as cur:
        cur.execute(query)
        for batch in cur.fetch_record_batch():
            write(batch)
elif client == "connectorx":
    import connectorx as cx
    for batch in cx.read_sql(url, query, return_type="arrow_stream", batch_size=batch_rows):
        write(batch)
elif client == "psycopg_rows":
    import psycopg
    with psycopg.connect(url) as conn, conn.cursor(name="pull") as cur:
        cur.itersize = batch_rows
        cur.execute(query)
        names = None
        while chunk := cur.fetchmany(batch_rows):
            names = names or [d.name for d in cur.description]
            write(pa.RecordBatch.from_pydict({n: list(c) for n, c in zip(names, zip(*chunk))}))
elif client == "psycopg_copy":
    import io, psycopg, pyarrow.csv as pacsv

    class Stream(io.RawIOBase):
        def __init__(self, copy):
            self.chunks, self.rest = iter(copy), b""
        def readable(self):
            return True
        def readinto(self, buffer):
            while not self.rest:
                try:
                    self.rest = bytes(next(self.chunks))
                except StopIteration:
                    return 0
            n = min(len(buffer), len(self.rest))
            buffer[:n], self.rest = self.rest[:n], self.rest[n:]
            return n

    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(f"copy ({query}) to stdout (format csv, header true)") as copy:
            reader = pacsv.open_csv(io.BufferedReader(Stream(copy), 1 << 20),
                                    read_options=pacsv.ReadOptions(block_size=16 << 20),
                                    convert_options=pacsv.ConvertOptions(strings_can_be_null=False))
            for batch in reader:
                write(batch)
if writer is not None:
    writer.close()
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(json.dumps({"import_s": round(import_s, 2), "rows": rows, "batches": batches, "largest_batch": largest,
                  "wall_s": round(time.perf_counter() - started, 2),
                  "cpu_s": round(time.process_time() - cpu0, 2), "peak_mib": round(int(hwm) / 1024)}))
"""


def _pull(client: str, url: str, out: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, client, url, QUERY.format(wm=WATERMARK), str(out), str(BATCH_ROWS)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000000,5000000", help="comma-separated table sizes")
    parser.add_argument("--clients", default="adbc,connectorx,psycopg_rows,psycopg_copy")
    parser.add_argument("--out", type=Path, default=Path("bench/out/exchange"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    server = pg_server.start_server()
    try:
        for rows in [int(n) for n in args.rows.split(",")]:
            started = time.perf_counter()
            server.psql(TABLE.format(rows=rows))
            print(f"\n{rows:,} rows loaded in {time.perf_counter() - started:.0f} s", flush=True)
            heads = ("import s", "wall s", "CPU s", "rows/s", "peak MiB", "batches", "largest")
            print(f"{'client':14} " + " ".join(f"{h:>9}" for h in heads))
            for client in args.clients.split(","):
                url = server.tcp_url() if client == "connectorx" else server.url()
                target = args.out / f"{client}-{rows}.parquet"
                result = _pull(client, url, target)
                target.unlink(missing_ok=True)
                if "error" in result:
                    print(f"{client:14} failed: {result['error']}")
                    continue
                assert result["rows"] == rows, result
                rate = rows / result["wall_s"]
                figures = (
                    f"{result['import_s']:9.1f}",
                    f"{result['wall_s']:9.1f}",
                    f"{result['cpu_s']:9.1f}",
                    f"{rate:9,.0f}",
                    f"{result['peak_mib']:9,}",
                    f"{result['batches']:9,}",
                    f"{result['largest_batch']:9,}",
                )
                print(f"{client:14} " + " ".join(figures), flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
