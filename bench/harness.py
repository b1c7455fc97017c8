"""A throwaway `platos serve` for a benchmark: its own folder and database, removed after."""

from __future__ import annotations

import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.live import LiveServer, ScratchDatabase


@contextmanager
def running_server(backend: str, env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    folder = Path(tempfile.mkdtemp(prefix="platos-bench-"))
    db = ScratchDatabase(backend, folder)
    server = LiveServer(
        backend=backend,
        data_dir=folder,
        db=db,
        jwt_secret=secrets.token_urlsafe(48),
        extra_env=env or {},
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
        db.drop()
        shutil.rmtree(folder, ignore_errors=True)
