"""Pytest fixtures for running the server tests on both engines: SQLite (a file in tmp_path) and a
real PostgreSQL cluster that the tests start themselves (``initdb`` + ``pg_ctl`` into a temporary
directory, a unix socket there, one database per test).  Loaded by conftest.py.

PostgreSQL refuses to run as root; when the tests run as root (CI), the cluster runs as the
``postgres`` user (or ``nobody``) and its directory is handed to that user.  Where no binaries
are found or the cluster cannot start, the PostgreSQL cases skip and say why.

A test module opts in by overriding ``live_server`` with ``engine_server`` (a fresh server and
database per test) or, where each test makes its own event, with ``shared_engine_server`` (one
server per engine for the whole module: module scope); ``engine`` is parametrized (``sqlite``,
``postgresql``; ``postgresql-2-workers`` runs ``roundtable serve --workers 2`` in a subprocess),
module-scoped, and can be narrowed with ``indirect`` parametrization (a test that proves
something of the HTTP layer alone runs on ``sqlite`` only).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures_server import LiveServer, SharedServer

ROOT = Path(__file__).resolve().parent.parent
ENGINES = ["sqlite", "postgresql"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bindir() -> Path | None:
    """Where initdb and pg_ctl are: ``pg_config --bindir``, else Debian's versioned dirs."""
    candidates: list[str] = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    if shutil.which("initdb"):
        candidates.append(str(Path(shutil.which("initdb") or "").parent))
    for c in candidates:
        if c and (Path(c) / "initdb").exists() and (Path(c) / "pg_ctl").exists():
            return Path(c)
    return None


def _run_as() -> dict:
    """subprocess keywords that drop root for PostgreSQL (it refuses to run as root)."""
    if os.geteuid() != 0:
        return {}
    for name in ("postgres", "nobody"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists")


class PgCluster:
    """A throwaway PostgreSQL cluster: data and socket in one temporary directory."""

    def __init__(self, bindir: Path, max_connections: int = 300) -> None:
        self.bindir = bindir
        self.max_connections = max_connections
        self.dir = Path(tempfile.mkdtemp(prefix="rt-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.user = "rt"
        self._as = _run_as()

    def _pg(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.dir,
            env={**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
            **self._as,
        )

    def start(self) -> PgCluster:
        if self._as:
            os.chown(self.dir, self._as["user"], self._as["group"])
        out = self._pg(
            "initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8",
            "--no-sync", "--locale=C.UTF-8",
        )  # fmt: skip
        if out.returncode != 0:
            raise RuntimeError(f"initdb failed: {(out.stderr or out.stdout).strip()[-400:]}")
        self.resume()
        return self

    @property
    def options(self) -> str:
        return (
            f"-p {self.port} -k {self.dir} -c listen_addresses='' "
            f"-c max_connections={self.max_connections} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off "
            "-c shared_buffers=32MB"
        )

    def pause(self) -> None:
        """Stop the server (fast shutdown: every connection is cut), keeping its data."""
        out = self._pg("pg_ctl", "stop", "-w", "-D", str(self.data), "-m", "fast", timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed: {(out.stderr or out.stdout).strip()[-400:]}")

    def resume(self) -> None:
        """Start the server on its data (after ``initdb`` or ``pause``)."""
        out = self._pg(
            "pg_ctl", "start", "-w", "-D", str(self.data), "-l", str(self.dir / "log"),
            "-o", self.options,
        )  # fmt: skip
        if out.returncode != 0:
            log = (
                (self.dir / "log").read_text(errors="replace")
                if (self.dir / "log").exists()
                else ""
            )
            raise RuntimeError(f"pg_ctl start failed: {(out.stderr + log).strip()[-400:]}")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@/{dbname}?host={self.dir}&port={self.port}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.data.exists():
            self._pg("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One PostgreSQL cluster per test session (per xdist worker); skips with the reason if
    it cannot be had."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"PostgreSQL tests need psycopg[binary,pool] (server extra): {exc}")
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found; .ci/run installs them")
    cluster = PgCluster(bindir)
    try:
        cluster.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        cluster.stop()
        pytest.skip(f"PostgreSQL cluster could not start: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


def _pg_query(url: str, sql: str, args: tuple = ()) -> list[tuple]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return [tuple(r) for r in conn.execute(sql.replace("?", "%s"), args).fetchall()]


class PgLiveServer(LiveServer):
    """The secretariat over PostgreSQL, uvicorn in a thread of this process."""

    def stop(self, wait: bool = True) -> None:
        super().stop()  # always waits: the database is closed after the server has stopped
        app = getattr(self, "app", None)
        if app is not None:
            app.state.database.close()

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        return _pg_query(str(self.db_path), sql, args)


class WorkersServer(PgLiveServer):
    """``roundtable serve --db postgresql://... --workers N`` in a subprocess."""

    def __init__(self, url: str, workers: int = 2) -> None:
        super().__init__(url)  # type: ignore[arg-type]
        self.workers = workers
        self.proc: subprocess.Popen | None = None

    def start(self) -> WorkersServer:
        import httpx

        self.port = _free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-m", "roundtable", "serve", "--db", str(self.db_path),
               "--workers", str(self.workers), "--port", str(self.port)]  # fmt: skip
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"roundtable serve exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("roundtable serve --workers did not answer within 60 s")

    def stop(self, wait: bool = True) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None


class SharedPgServer(SharedServer, PgLiveServer):
    """A PostgreSQL server shared by a module's tests (unique event names, see SharedServer)."""


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The server's engine for this test: ``sqlite`` or ``postgresql`` (or
    ``postgresql-2-workers`` when a test asks for it)."""
    return request.param


@pytest.fixture
def server_db(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> str | Path:
    """The server's database for this test: an SQLite file, or a fresh PostgreSQL database."""
    if engine == "sqlite":
        return tmp_path / "secretariat.db"
    return request.getfixturevalue("pg_cluster").new_database()


@pytest.fixture
def engine_server(engine: str, server_db: str | Path) -> Iterator[LiveServer]:
    """A fresh secretariat on 127.0.0.1 over this test's engine."""
    if engine == "sqlite":
        server: LiveServer = LiveServer(Path(server_db))
    elif engine == "postgresql":
        server = PgLiveServer(server_db)  # type: ignore[arg-type]
    else:
        server = WorkersServer(str(server_db), workers=int(engine.split("-")[1]))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def shared_engine_server(
    engine: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    """One secretariat per engine for all the tests of a module (each makes its own event)."""
    if engine == "sqlite":
        server: LiveServer = SharedServer(tmp_path_factory.mktemp("shared") / "secretariat.db")
    elif engine == "postgresql":
        server = SharedPgServer(request.getfixturevalue("pg_cluster").new_database())  # type: ignore[arg-type]
    else:
        raise ValueError(f"no shared server for {engine}: use engine_server")
    server.start()
    try:
        yield server
    finally:
        server.stop()
