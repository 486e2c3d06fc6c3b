"""A PostgreSQL cluster of one test's own, to crash and restart at will: the shared server at
DUNNING_TEST_POSTGRES_URL serves every other test at the same time and must stay up.

    with throwaway_cluster() as cluster:
        url = cluster.create_database("app")     # postgresql+psycopg://postgres@127.0.0.1:PORT/app
        cluster.crash()                          # pg_ctl stop -m immediate: every backend gone, no checkpoint
        cluster.start()                          # crash recovery, then it takes connections again

`initdb` into a fresh directory owned by the `postgres` user (PostgreSQL refuses to run as root; we usually are
root here), trust authentication, listening on a free port on 127.0.0.1 only and on a socket in its own
directory, so it never meets the system's server. Stopped and removed afterwards, also when the test fails."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from dunning.messaging.mailsink import free_port

SUPERUSER = "postgres"


def _bin_dir() -> Path | None:
    """The newest installed server's programs (Debian's layout), or wherever `initdb` is on the PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: _version(p.parents[1].name))
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def unavailable() -> str | None:
    """Why this machine cannot make a throw-away cluster, or None when it can (a test skips with the reason)."""
    if _bin_dir() is None:
        return "no PostgreSQL server programs (initdb) on this machine"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SUPERUSER)
        except KeyError:
            return f"running as root, and there is no `{SUPERUSER}` user to run a PostgreSQL cluster as"
        return None
    if pwd.getpwuid(os.geteuid()).pw_name != SUPERUSER:
        return f"a throw-away PostgreSQL cluster needs root (to run it as `{SUPERUSER}`) or the `{SUPERUSER}` user"
    return None


@dataclass
class Cluster:
    bin_dir: Path
    data: Path
    port: int

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def url(self, database: str, driver: str = "psycopg") -> str:
        return f"postgresql+{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, driver: str = "psycopg") -> str:
        """A new database; its URL with the SQLAlchemy `driver` (the app: psycopg; the Prefect server: asyncpg)."""
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        return self.url(name, driver)

    def start(self) -> None:
        """Start (after a crash: recover first) and return once it takes connections."""
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.data / "server.log"), "-o", self._options())

    def crash(self) -> None:
        """Stop it as a power cut would, for the server processes: SIGQUIT to every backend at once, no
        checkpoint, open transactions lost; the next start recovers from the write-ahead log."""
        self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "60")

    def restart(self) -> None:
        self.crash()
        self.start()

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "60", check=False)

    def log(self) -> str:
        path = self.data / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _options(self) -> str:
        # fsync off: a crash of the server's processes loses nothing the kernel already has (only a crash of the
        # machine would), and it spares a loaded two-core machine the disk flushes.
        return (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.data} "
                "-c fsync=off -c full_page_writes=off -c max_connections=200")

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        _as_superuser([str(self.bin_dir / "pg_ctl"), "-D", str(self.data), *args], check=check)


def _as_superuser(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    """As the `postgres` user when we are root (PostgreSQL will not run as root)."""
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", SUPERUSER, "--", *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd="/", stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A fresh cluster, started; stopped and its directory removed afterwards. Call `unavailable()` first."""
    bin_dir = _bin_dir()
    assert bin_dir is not None, unavailable()
    # Not under pytest's tmp_path: that is root's, and closed to the `postgres` user.
    root = Path(tempfile.mkdtemp(prefix="dunning-pg-"))
    cluster = Cluster(bin_dir=bin_dir, data=root / "data", port=free_port())
    try:
        if os.geteuid() == 0:
            account = pwd.getpwnam(SUPERUSER)
            os.chown(root, account.pw_uid, account.pw_gid)
        _as_superuser([str(bin_dir / "initdb"), "-D", str(cluster.data), "-U", SUPERUSER, "--auth=trust",
                       "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"])
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
