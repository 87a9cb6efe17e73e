"""A PostgreSQL cluster of a test's own, which the test may stop and start at will.

The shared test cluster (.ci/postgres.sh) serves every test at once, so a test
that restarts PostgreSQL brings up its own: `initdb` into a fresh folder, on a
free port of 127.0.0.1 only (its socket in that folder), a random password,
and `stop()` at the end. As root, PostgreSQL runs as the `postgres` user, so the
folder is made under /tmp (pytest's own tmp folders are root's alone).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .servers import free_port


def postgresql_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian's layout), or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


@dataclass
class Cluster:
    bin: Path
    data: Path
    port: int
    password: str

    @property
    def url(self) -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/{name}"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data}"
        log = str(self.data / "server.log")
        self._run("pg_ctl", "-D", str(self.data / "db"), "-l", log, "-w", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data / "db"), "-m", mode, "-w", "stop")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.database_url(name)


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A started cluster of one's own; stopped and deleted afterwards."""
    binary = postgresql_bin()
    assert binary is not None, "PostgreSQL is not installed (bash .ci/system-deps.sh)"
    data = Path(tempfile.mkdtemp(prefix="botbuilder-own-pg-"))
    password = secrets.token_hex(16)
    (data / "pw").write_text(password, encoding="utf-8")
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
        shutil.chown(data / "pw", "postgres")
    cluster = Cluster(binary, data, free_port(), password)
    try:
        cluster._run(
            "initdb", "-D", str(data / "db"), "-U", "postgres", f"--pwfile={data / 'pw'}",
            "-A", "scram-sha-256", timeout=120,
        )  # fmt: skip
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            cluster.stop("immediate")
        shutil.rmtree(data, ignore_errors=True)
