"""Real Platos servers for tests: a subprocess on a free port, a real database.

SQLite gets a file in a temporary folder; PostgreSQL gets a fresh database
on the machine's server (dropped afterwards), so runs never share state.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import Connection, create_engine, text

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("PLATOS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgres")
PASSWORD = "correct-horse-battery"

# Test-only tuning, all through documented settings: argon2id stays argon2id but
# cheaper (the cost is not what these tests check), and the auth rate limits are
# high so that only the tests about them meet them.
FAST_ENV = {
    "PLATOS_ARGON2_TIME_COST": "1",
    "PLATOS_ARGON2_MEMORY_KIB": "8192",
    "PLATOS_AUTH_RATE_LIMIT_IP": "100000/minute",
    "PLATOS_AUTH_RATE_LIMIT_EMAIL": "10000/minute",
    "PLATOS_LOG_LEVEL": "WARNING",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ScratchDatabase:
    """A database of its own for one server: a SQLite file or a new PostgreSQL database."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend = backend
        if backend == "sqlite":
            self.url = f"sqlite:///{folder / 'platos.db'}"
            self._pg_name = None
        else:
            self._pg_name = f"platos_test_{secrets.token_hex(6)}"
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self._pg_name}"')
            self.url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{self._pg_name}"

    def sqlalchemy_url(self) -> str:
        return self.url.replace("postgresql://", "postgresql+psycopg://", 1)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction on this database, committed on success; the engine is disposed."""
        engine = create_engine(self.sqlalchemy_url())
        try:
            with engine.begin() as conn:
                yield conn
        finally:
            engine.dispose()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self.begin() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]

    def drop(self) -> None:
        if self._pg_name:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self._pg_name}" WITH (FORCE)')


@dataclass
class LiveServer:
    """One running `platos serve` process."""

    backend: str
    data_dir: Path
    db: ScratchDatabase
    jwt_secret: str
    extra_env: dict[str, str] = field(default_factory=dict)
    command: str = "serve"  # or "api" / "ws" for the split deployment
    api_port: int = field(default_factory=free_port)
    ws_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def ws_url(self) -> str:
        """What an SDK is configured with as PLATOS_URL."""
        return f"http://127.0.0.1:{self.ws_port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PLATOS_", "DATABASE_URL"))}
        env.update(FAST_ENV)
        env.update(
            {
                "PLATOS_DATA_DIR": str(self.data_dir),
                "PLATOS_API_PORT": str(self.api_port),
                "PLATOS_WS_PORT": str(self.ws_port),
                "DATABASE_URL": self.db.url,
                "PLATOS_JWT_SECRET": self.jwt_secret,
            }
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60.0) -> None:
        log = open(self.data_dir / f"{self.command}-{self.api_port}.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "platos.cli", self.command],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            urls = {"serve": [self.url, self.ws_url], "api": [self.url], "ws": [self.ws_url]}
            try:
                if all(
                    httpx.get(u + "/health", timeout=1).status_code == 200
                    for u in urls[self.command]
                ):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown at all, as in a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self) -> str:
        path = self.data_dir / f"{self.command}-{self.api_port}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def client(self, **kw: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kw)

    # --- helpers for building state through the public API ---

    def register(self, client: httpx.Client | None = None, **overrides: Any) -> dict[str, Any]:
        body = {
            "email": f"user-{uuid.uuid4().hex[:12]}@example.com",
            "password": PASSWORD,
            "name": "Test User",
            "organization_name": f"Org {uuid.uuid4().hex[:6]}",
        }
        body.update(overrides)
        with client or self.client() as c:
            resp = c.post("/api/v1/auth/register", json=body)
        assert resp.status_code == 201, resp.text
        data: dict[str, Any] = resp.json()
        data["password"] = body["password"]
        return data


def launch(backend: str, folder: Path, env: dict[str, str] | None = None) -> LiveServer:
    """A started server of its own: a fresh database and data folder, a random key."""
    folder.mkdir(parents=True, exist_ok=True)
    db = ScratchDatabase(backend, folder)
    server = LiveServer(
        backend=backend,
        data_dir=folder,
        db=db,
        jwt_secret=secrets.token_urlsafe(48),
        extra_env=env or {},
    )
    try:
        server.start()
    except Exception:
        db.drop()
        raise
    return server


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
