"""Fixtures: every test that takes `server` runs once on SQLite and once on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.live import BACKENDS, LiveServer, launch


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The shared server for this backend."""
    live = launch(backend, tmp_path_factory.mktemp(f"server-{backend}"), {})
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
        live = launch(backend, tmp_path_factory.mktemp(f"own-{backend}"), env)
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
