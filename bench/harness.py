"""A throwaway `platos serve` for a benchmark: its own folder and database, removed after."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.live import LiveServer, launch


@contextmanager
def running_server(backend: str, env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    folder = Path(tempfile.mkdtemp(prefix="platos-bench-"))
    server = launch(backend, folder, env)
    try:
        yield server
    finally:
        server.stop()
        server.db.drop()
        shutil.rmtree(folder, ignore_errors=True)
