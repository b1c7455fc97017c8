"""Start-up pieces: migrations, the generated signing key, SQLite in WAL mode."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

import core.tables  # noqa: F401
from tests.live import FAST_ENV, PASSWORD, ROOT, ScratchDatabase, free_port
from tests.sdk import wait_until


def _migrate(db_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLATOS_")}
    env.update(DATABASE_URL=db_url, PLATOS_DATA_DIR=str(data_dir))
    return subprocess.run(
        [sys.executable, "-m", "platos.cli", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def scratch(backend: str, tmp_path: Path):
    db = ScratchDatabase(backend, tmp_path)
    yield db
    db.drop()


def test_migrate_creates_schema_matching_the_tables(scratch: ScratchDatabase, tmp_path: Path):
    first = _migrate(scratch.url, tmp_path)
    assert first.returncode == 0, first.stderr
    again = _migrate(scratch.url, tmp_path)  # idempotent
    assert again.returncode == 0, again.stderr
    with scratch.begin() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert diff == [], f"tables and migrations differ: {diff}"
    assert version is not None


def _read_key(data_dir: Path) -> subprocess.Popen[str]:
    """A process that loads the settings on `data_dir` and prints the signing key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLATOS_")}
    env.update(PLATOS_DATA_DIR=str(data_dir))
    code = "from core.settings import load_settings; print(load_settings().jwt_secret)"
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )


def test_signing_key_is_generated_once_and_kept(tmp_path: Path):
    keys = [_read_key(tmp_path).communicate(timeout=60)[0].strip() for _ in range(2)]
    assert keys[0] == keys[1]
    assert len(keys[0].encode()) >= 32
    key_file = tmp_path / "jwt-secret.key"
    assert key_file.read_text().strip() == keys[0]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_processes_starting_together_agree_on_one_key(tmp_path: Path):
    starting = [_read_key(tmp_path) for _ in range(6)]
    keys = {proc.communicate(timeout=60)[0].strip() for proc in starting}
    assert all(proc.returncode == 0 for proc in starting)
    assert len(keys) == 1 and len(keys.pop().encode()) >= 32
    assert [p.name for p in tmp_path.iterdir()] == ["jwt-secret.key"]  # no leftovers


def test_uvicorn_entry_point_on_the_embedded_defaults(tmp_path: Path):
    # `uvicorn platos.main:app` with nothing configured but the data folder: SQLite in it,
    # a generated key in it, and the REST API answering.
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLATOS_", "DATABASE_URL"))}
    env.update(FAST_ENV, PLATOS_DATA_DIR=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "platos.main:app", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(url + "/health"), timeout=60, what="uvicorn serving")
        body = {
            "email": "uv@example.com",
            "password": PASSWORD,
            "name": "U",
            "organization_name": "UV",
        }
        assert httpx.post(url + "/api/v1/auth/register", json=body).status_code == 201
    finally:
        proc.terminate()
        proc.wait(20)
    assert (tmp_path / "platos.db").exists() and (tmp_path / "jwt-secret.key").exists()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_short_configured_key_is_refused(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLATOS_")}
    env.update(PLATOS_DATA_DIR=str(tmp_path), PLATOS_JWT_SECRET="too-short")
    result = subprocess.run(
        [sys.executable, "-m", "platos.cli", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "at least 32 bytes" in result.stderr


def test_sqlite_database_is_in_wal_mode(tmp_path: Path):
    db_file = tmp_path / "wal.db"
    result = _migrate(f"sqlite:///{db_file}", tmp_path)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db_file) as conn:  # WAL is a property of the file: it persists
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
