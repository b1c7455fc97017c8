"""Assemble the REST application: Connexion on the spec, problem+json errors, docs pages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import yaml
from connexion import AsyncApp
from connexion.options import SwaggerUIOptions
from starlette.types import ASGIApp

from core import platform
from core.background import spawn
from core.migrate import upgrade_to_head
from core.process import process_id
from core.services import tool_calls
from core.settings import Settings, get_settings
from platos import docs_ui
from platos.connexion31 import VALIDATOR_MAP, enable_openapi_31
from platos.problems import install_problem_handlers
from platos.request_body import RequestBodyGuard
from ws.server import SocketServer

SPEC_PATH = Path(__file__).resolve().parent.parent / "spec" / "openapi.yaml"
logger = logging.getLogger("platos")


def load_spec() -> dict[str, Any]:
    with SPEC_PATH.open() as fh:
        spec = yaml.safe_load(fh)
    assert isinstance(spec, dict)
    return spec


def create_app(
    settings: Settings | None = None, *, migrate: bool = True, with_socket_server: bool = False
) -> ASGIApp:
    """The ASGI app. On start it migrates the database and opens the platform; with
    `with_socket_server`, the SDK socket server runs in this process too (`platos serve`)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        if migrate:
            await asyncio.to_thread(upgrade_to_head, settings)
        plat = platform.Platform.create(settings)
        platform.install(plat)
        await plat.start()
        await tool_calls.fail_abandoned(plat)
        sweeper = spawn(tool_calls.sweep_abandoned(plat))
        sockets = SocketServer(plat, process_id()) if with_socket_server else None
        try:
            if sockets is not None:
                await sockets.start(settings.host, settings.ws_port)
            yield
        finally:
            sweeper.cancel()
            if sockets is not None:
                await sockets.stop()
            await plat.close()

    enable_openapi_31()
    spec = load_spec()
    app = AsyncApp(__name__, lifespan=lifespan)
    # A dict, not a path: Connexion would render a file through Jinja2 first.
    app.add_api(
        spec,
        strict_validation=True,
        validate_responses=True,
        validator_map=VALIDATOR_MAP,
        swagger_ui_options=SwaggerUIOptions(serve_spec=False, swagger_ui=False),
    )
    docs_routes = docs_ui.routes(spec)
    for path, name, endpoint in docs_routes:
        app.add_url_rule(path, endpoint=name, view_func=endpoint, methods=["GET"])
    install_problem_handlers(app, spec, [path for path, _, _ in docs_routes])
    return RequestBodyGuard(app)
