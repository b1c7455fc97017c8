"""Configuration, read once from the environment (every variable is listed in the README)."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from core.version import VERSION

JWT_SECRET_FILE = "jwt-secret.key"  # noqa: S105 (a file name)
MIN_JWT_SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class Settings:
    host: str
    api_port: int
    ws_port: int
    data_dir: Path
    database_url: str
    jwt_secret: str = field(repr=False)  # never in a log line or a traceback
    jwt_issuer: str
    access_token_ttl: int
    refresh_token_ttl: int
    argon2_time_cost: int
    argon2_memory_kib: int
    auth_rate_limit_ip: str
    auth_rate_limit_email: str
    redis_url: str | None
    log_level: str
    ws_idle_timeout: int
    ws_secret_recheck: int
    version: str = VERSION

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from exc
    if value <= 0:
        raise SystemExit(f"{name} must be positive, got {value}")
    return value


def _jwt_secret(data_dir: Path) -> str:
    """The signing key: PLATOS_JWT_SECRET, else a random key kept in the data folder."""
    configured = os.environ.get("PLATOS_JWT_SECRET")
    if configured:
        if len(configured.encode()) < MIN_JWT_SECRET_BYTES:
            raise SystemExit(f"PLATOS_JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes")
        return configured
    path = data_dir / JWT_SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # Written whole under a temporary name, then linked into place: a process starting
        # at the same moment sees either no key or the whole key, and the first link wins.
        fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=".jwt-secret-")
        try:
            with os.fdopen(fd, "w") as fh:  # mkstemp creates it 0600
                fh.write(secrets.token_urlsafe(48))
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    secret = path.read_text().strip()
    if len(secret.encode()) < MIN_JWT_SECRET_BYTES:
        raise SystemExit(f"{path} holds a key shorter than {MIN_JWT_SECRET_BYTES} bytes")
    return secret


def _database_url(data_dir: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{(data_dir / 'platos.db').resolve()}"


def load_settings() -> Settings:
    """Build the settings from the environment; creates the data folder and dev key if needed."""
    data_dir = Path(os.environ.get("PLATOS_DATA_DIR") or "./data").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    return Settings(
        host=os.environ.get("PLATOS_HOST") or "127.0.0.1",
        api_port=_int("PLATOS_API_PORT", 8000),
        ws_port=_int("PLATOS_WS_PORT", 8001),
        data_dir=data_dir,
        database_url=_database_url(data_dir),
        jwt_secret=_jwt_secret(data_dir),
        jwt_issuer=os.environ.get("PLATOS_JWT_ISSUER") or "platos",
        access_token_ttl=_int("PLATOS_ACCESS_TOKEN_TTL", 15 * 60),
        refresh_token_ttl=_int("PLATOS_REFRESH_TOKEN_TTL", 30 * 24 * 3600),
        argon2_time_cost=_int("PLATOS_ARGON2_TIME_COST", 3),
        argon2_memory_kib=_int("PLATOS_ARGON2_MEMORY_KIB", 64 * 1024),
        auth_rate_limit_ip=os.environ.get("PLATOS_AUTH_RATE_LIMIT_IP") or "30/minute",
        auth_rate_limit_email=os.environ.get("PLATOS_AUTH_RATE_LIMIT_EMAIL") or "10/minute",
        redis_url=os.environ.get("REDIS_URL") or None,
        log_level=(os.environ.get("PLATOS_LOG_LEVEL") or "INFO").upper(),
        ws_idle_timeout=_int("PLATOS_WS_IDLE_TIMEOUT", 90),
        ws_secret_recheck=_int("PLATOS_WS_SECRET_RECHECK", 15),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded on first use."""
    return load_settings()
