"""This process's identity in presence and call routing: fixed after any fork."""

from __future__ import annotations

import os
import socket
import uuid

_identity: str | None = None


def process_id() -> str:
    """A stable id for this process; a forked child gets a new one (it is another process)."""
    global _identity
    if _identity is None:
        _identity = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    return _identity


def _forget() -> None:
    global _identity
    _identity = None


os.register_at_fork(after_in_child=_forget)
