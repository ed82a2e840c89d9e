"""A throwaway PostgreSQL server for the tests: initdb in a temporary folder, pg_ctl start/stop.

`initdb` and `postgres` refuse to run as root. When the tests run as root (CI does), the server
runs as an unprivileged OS user instead — `$DONDOC_PG_OS_USER`, else `postgres` (created by the
Debian packages), else `nobody` — which owns the temporary folder; the tests still connect as
root over loopback TCP with trust authentication. The server is tuned for throwaway data
(fsync off, no full-page writes) and listens on 127.0.0.1 only, on a free port, with its Unix
socket inside the temporary folder.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

BACKENDS = ("sqlite", "postgresql")
SUPERUSER = "dondoc"
START_TIMEOUT = 60
PORT_ATTEMPTS = 3
# Settings for a server whose data may be lost: speed over durability.
SERVER_CONF = """
listen_addresses = '127.0.0.1'
unix_socket_directories = '{socket_dir}'
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
max_connections = 300
shared_buffers = 64MB
checkpoint_timeout = 30min
max_wal_size = 2GB
"""


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are missing or the server did not start."""


def selected_backend() -> str:
    """The database the suite runs on: DONDOC_TEST_DB, `sqlite` (default) or `postgresql`."""
    backend = os.environ.get("DONDOC_TEST_DB", "").strip().lower() or "sqlite"
    if backend not in BACKENDS:
        raise pytest.UsageError(f"DONDOC_TEST_DB={backend!r}: expected one of {BACKENDS}")
    return backend


# For tests about PostgreSQL itself (advisory locks, SKIP LOCKED under several processes).
needs_postgresql = pytest.mark.skipif(
    selected_backend() != "postgresql",
    reason="PostgreSQL only: runs in the DONDOC_TEST_DB=postgresql pass",
)


def find_bindir() -> Path:
    """The folder holding initdb, pg_ctl and postgres, newest major version first."""
    candidates: list[str] = []
    if os.environ.get("DONDOC_PG_BINDIR"):
        candidates.append(os.environ["DONDOC_PG_BINDIR"])
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent))
    candidates.append("/usr/local/bin")
    versioned = glob.glob("/usr/lib/postgresql/*/bin") + glob.glob("/usr/pgsql-*/bin")
    candidates += sorted(versioned, key=_major_version, reverse=True)
    for folder in candidates:
        if all((Path(folder) / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in "
        f"{', '.join(dict.fromkeys(candidates))}; install postgresql or set DONDOC_PG_BINDIR"
    )


def _major_version(folder: str) -> int:
    """15 for /usr/lib/postgresql/15/bin (0 if the path has no number)."""
    digits = "".join(ch for ch in Path(folder).parent.name if ch.isdigit())
    return int(digits) if digits else 0


def server_account() -> pwd.struct_passwd | None:
    """The unprivileged account the server runs as when we are root; None when we are not."""
    if os.geteuid() != 0:
        return None
    wanted = os.environ.get("DONDOC_PG_OS_USER")
    names = [wanted] if wanted else ["postgres", "nobody"]
    for name in names:
        try:
            account = pwd.getpwnam(name)
        except KeyError:
            continue
        if account.pw_uid != 0:
            return account
    raise PostgresUnavailable(
        "initdb and postgres refuse to run as root, and no unprivileged account to run them "
        f"as exists (tried {', '.join(names)}; set DONDOC_PG_OS_USER)"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """One temporary cluster; `start()` it, make databases, `stop()` it (which deletes it)."""

    root: Path | None = None
    port: int = 0
    bindir: Path | None = None
    account: pwd.struct_passwd | None = field(default=None, repr=False)  # None: ourselves
    _running: bool = field(default=False, repr=False)

    @property
    def data(self) -> Path:
        """The cluster's data directory."""
        assert self.root is not None
        return self.root / "data"

    @property
    def log(self) -> Path:
        """The server log (pg_ctl -l)."""
        assert self.root is not None
        return self.root / "server.log"

    def start(self) -> PostgresServer:
        """initdb and start the server; raise PostgresUnavailable with the log if it fails."""
        self.bindir = find_bindir()
        self.account = server_account()
        self.root = Path(tempfile.mkdtemp(prefix="dondoc-pg-"))
        atexit.register(self.stop)
        if self.account is not None:
            self._check_reachable_by_account(self.root)
            os.chown(self.root, self.account.pw_uid, self.account.pw_gid)
        socket_dir = self.root / "socket"
        self._run("mkdir", str(socket_dir))
        self._run(
            str(self.bindir / "initdb"),
            "--pgdata", str(self.data),
            "--username", SUPERUSER,
            "--auth", "trust",
            "--encoding", "UTF8",
            "--no-locale",
            "--no-sync",
        )  # fmt: skip
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(SERVER_CONF.format(socket_dir=socket_dir))
        errors = []
        for _ in range(PORT_ATTEMPTS):  # another process may grab the free port first
            self.port = free_port()
            try:
                self._run(
                    str(self.bindir / "pg_ctl"),
                    "start", "--wait", f"--timeout={START_TIMEOUT}", "--silent",
                    "--pgdata", str(self.data),
                    "--log", str(self.log),
                    "-o", f"-p {self.port}",
                )  # fmt: skip
            except PostgresUnavailable as exc:
                errors.append(str(exc))
                continue
            self._running = True
            return self
        raise PostgresUnavailable("PostgreSQL did not start:\n" + "\n".join(errors))

    def stop(self) -> None:
        """Stop the server (no shutdown checkpoint: the data is thrown away) and delete it."""
        if self._running and self.bindir is not None:
            self._running = False
            pg_ctl = str(self.bindir / "pg_ctl")
            self._run(pg_ctl, "stop", "-D", str(self.data), "-m", "immediate", "-w", check=False)
        if self.root is not None and self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of a database on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection[Any]:
        """An autocommit psycopg connection (for CREATE/DROP DATABASE)."""
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=database, autocommit=True
        )

    def create_database(self, name: str, *, template: str = "template0") -> str:
        """Create a database (a copy of `template`) and return its URL."""
        with self.connect() as conn:
            # With fsync off, copying files beats WAL-logging every block (PostgreSQL 15+).
            strategy = " STRATEGY FILE_COPY" if conn.info.server_version >= 150000 else ""
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, cutting off any connection a test left open."""
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _run(self, *command: str, check: bool = True) -> None:
        """Run a server tool as the server's account; PostgresUnavailable if it fails."""
        proc = subprocess.run(
            command,
            **self._account_kwargs(),
            capture_output=True,
            text=True,
            check=False,
        )
        if check and proc.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise PostgresUnavailable(
                f"{' '.join(command)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}"
                + (f"\nserver log:\n{log}" if log else "")
            )

    def _account_kwargs(self) -> dict[str, Any]:
        """subprocess arguments that drop root for the server's account, and its environment."""
        assert self.root is not None
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LC_ALL": "C",
            "LANG": "C",
            "HOME": str(self.root),
            "TZ": "UTC",
        }
        kwargs: dict[str, Any] = {"env": env, "cwd": str(self.root)}
        if self.account is not None:
            kwargs.update(
                user=self.account.pw_uid, group=self.account.pw_gid, extra_groups=[], umask=0o077
            )
        return kwargs

    def _check_reachable_by_account(self, folder: Path) -> None:
        """Fail clearly if the server's account cannot reach the temporary folder (e.g. TMPDIR)."""
        assert self.account is not None
        account = self.account
        for parent in folder.parents:
            info = parent.stat()
            if info.st_uid == account.pw_uid:
                searchable = info.st_mode & 0o100
            elif info.st_gid == account.pw_gid:
                searchable = info.st_mode & 0o010
            else:
                searchable = info.st_mode & 0o001
            if not searchable:
                raise PostgresUnavailable(
                    f"{parent} is not searchable by {account.pw_name!r}, who runs "
                    "PostgreSQL; point TMPDIR at a world-searchable folder such as /tmp"
                )


def main() -> None:
    """`python -m tests.pg`: start a server, show it works, stop it (a CI preflight)."""
    server = PostgresServer()
    try:
        server.start()
        with server.connect() as conn:
            row = conn.execute("SHOW server_version").fetchone()
        user = server.account.pw_name if server.account else "the current user"
        print(f"PostgreSQL {row[0] if row else '?'} runs as {user} from {server.bindir}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
