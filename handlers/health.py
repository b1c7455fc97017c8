"""GET /health."""

from __future__ import annotations

from connexion.lifecycle import ConnexionResponse

from core.version import VERSION
from generated import models as api
from handlers.respond import json_response


async def get_health() -> ConnexionResponse:
    return json_response(api.Health(status="ok", version=VERSION))
