"""Fixtures: every test that takes `server` runs once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import BACKENDS, LiveServer, ScratchDatabase


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _launch(backend: str, folder: Path, env: dict[str, str]) -> LiveServer:
    folder.mkdir(parents=True, exist_ok=True)
    db = ScratchDatabase(backend, folder)
    server = LiveServer(
        backend=backend,
        data_dir=folder,
        db=db,
        jwt_secret=secrets.token_urlsafe(48),
        extra_env=env,
    )
    try:
        server.start()
    except Exception:
        db.drop()
        raise
    return server


@pytest.fixture(scope="session")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The shared server for this backend."""
    live = _launch(backend, tmp_path_factory.mktemp(f"server-{backend}"), {})
    yield live
    live.stop()
    live.db.drop()


@pytest.fixture
def start_server(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., LiveServer]]:
    """A factory for servers of one's own (custom settings, or state one may break)."""
    started: list[LiveServer] = []

    def start(**env: str) -> LiveServer:
        live = _launch(backend, tmp_path_factory.mktemp(f"own-{backend}"), env)
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()
        live.db.drop()


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c
