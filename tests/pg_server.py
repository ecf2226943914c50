"""A throwaway PostgreSQL server for the tests and the exchange-database benchmark.

Debian's `postgresql` package (`make test-deps`) puts its programs in /usr/lib/postgresql/<version>/bin, off the
PATH. The server lives in a fresh temporary directory, listens on a Unix socket there and on 127.0.0.1 (a free
port), asks for passwords (scram-sha-256), and is stopped and deleted by `stop()`. PostgreSQL refuses to run as
root: when the tests run as root (CI does), the server runs as the `postgres` user the package creates (or
`nobody`), and the directory is handed to that user.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

BINDIR_ENV = "SAFETYNET_PG_BINDIR"  # overrides the search for initdb/pg_ctl/psql
SUPERUSER = "exchange_admin"


def find_bindir() -> Path:
    """The directory holding initdb and pg_ctl: $SAFETYNET_PG_BINDIR, Debian's newest version, or the PATH."""
    configured = os.environ.get(BINDIR_ENV)
    if configured:
        return Path(configured)
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p)],
    )
    if debian:
        return Path(debian[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    raise RuntimeError(
        "PostgreSQL's server programs (initdb, pg_ctl) were not found: install Debian's `postgresql` "
        f"(make test-deps) or set {BINDIR_ENV}"
    )


def available() -> bool:
    try:
        find_bindir()
    except RuntimeError:
        return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_user() -> pwd.struct_passwd | None:
    """Who runs the server: None (this user) unless we are root, which PostgreSQL refuses."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a `postgres` nor a `nobody` user exists to run PostgreSQL")


@dataclass
class PgServer:
    bindir: Path
    base: Path
    port: int
    password: str
    user: pwd.struct_passwd | None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def socket_dir(self) -> Path:
        return self.base / "sock"

    def url(self, user: str = SUPERUSER, password: str | None = None, database: str = "postgres") -> str:
        """A libpq URI over the Unix socket (the password percent-encoded)."""
        secret = self.password if password is None else password
        return (
            f"postgresql://{quote(user, safe='')}:{quote(secret, safe='')}@/{database}"
            f"?host={quote(str(self.socket_dir), safe='')}&port={self.port}"
        )

    def tcp_url(self, user: str = SUPERUSER, password: str | None = None, database: str = "postgres") -> str:
        secret = self.password if password is None else password
        return f"postgresql://{quote(user, safe='')}:{quote(secret, safe='')}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the superuser (stop at the first error); returns psql's output."""
        done = subprocess.run(
            [
                str(self._psql()),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-A",
                "-t",
                "-h",
                str(self.socket_dir),
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "-d",
                database,
            ],
            input=sql,
            text=True,
            capture_output=True,
            env={**os.environ, "PGPASSWORD": self.password},
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout

    def _psql(self) -> Path:
        local = self.bindir / "psql"
        return local if local.exists() else Path(shutil.which("psql") or "psql")

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        kwargs = {}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            check=False,
            cwd=self.base,
            env={**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
            **kwargs,
        )

    def stop(self) -> None:
        self._run("pg_ctl", "stop", "-D", str(self.base / "data"), "-m", "immediate", "-w")
        shutil.rmtree(self.base, ignore_errors=True)


def start_server() -> PgServer:
    """initdb + pg_ctl start in a new temporary directory; the caller stops it."""
    bindir = find_bindir()
    user = _server_user()
    base = Path(tempfile.mkdtemp(prefix="sn-pg-", dir="/tmp"))  # short: a socket path has ~100 bytes
    server = PgServer(bindir, base, _free_port(), secrets.token_urlsafe(18), user)
    (base / "sock").mkdir()
    pwfile = base / "pw"
    pwfile.write_text(server.password + "\n", encoding="utf-8")
    if user is not None:
        for path in (base, base / "sock", pwfile):
            os.chown(path, user.pw_uid, user.pw_gid)
    try:
        steps = [
            (
                "initdb",
                "-D",
                str(base / "data"),
                "-U",
                SUPERUSER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--no-instructions",
                "--no-sync",
            ),
            (
                "pg_ctl",
                "start",
                "-D",
                str(base / "data"),
                "-w",
                "-t",
                "60",
                "-l",
                str(base / "server.log"),
                "-o",
                f"-k {base / 'sock'} -p {server.port} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c shared_buffers=64MB -c max_connections=30",
            ),
        ]
        for step in steps:
            done = server._run(*step)
            if done.returncode != 0:
                log = (base / "server.log").read_text() if (base / "server.log").exists() else ""
                raise RuntimeError(f"{step[0]} failed: {done.stderr.strip()} {log[-2000:]}")
    except BaseException:
        server.stop()
        raise
    finally:
        pwfile.unlink(missing_ok=True)
    return server
