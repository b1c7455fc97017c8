"""The spec as /openapi.json, Swagger UI 5 at /docs and ReDoc at /redoc, all offline.

The assets are vendored under platos/static (Swagger UI 5 and ReDoc 2 both
render OpenAPI 3.1; the Swagger UI bundled with Connexion is 4.x and does not).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from core.errors import NotFound
from platos.problems import PROBLEM_JSON, problem_body

STATIC_DIR = Path(__file__).resolve().parent / "static"

_SWAGGER_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Platos API: Swagger UI</title>
<link rel="icon" href="/static/swagger-ui/favicon-32x32.png">
<link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/static/swagger-ui/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui",
  deepLinking: true, persistAuthorization: true, validatorUrl: null});</script>
</body></html>
"""

_REDOC_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Platos API: ReDoc</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><redoc spec-url="/openapi.json"></redoc>
<script src="/static/redoc/redoc.standalone.js"></script>
</body></html>
"""


Endpoint = Callable[[Request], Awaitable[Response]]


def routes(spec: dict[str, Any]) -> list[tuple[str, str, Endpoint]]:
    """(path, name, endpoint) serving `spec` (the parsed file, unchanged) and the viewers."""
    spec_bytes = json.dumps(spec).encode()
    # Only the files shipped under static/ are served: no path from the URL reaches the disk.
    assets = {
        str(path.relative_to(STATIC_DIR)): path for path in STATIC_DIR.rglob("*") if path.is_file()
    }

    async def openapi_json(_request: Request) -> Response:
        return Response(spec_bytes, media_type="application/json")

    async def swagger(_request: Request) -> HTMLResponse:
        return HTMLResponse(_SWAGGER_HTML)

    async def redoc(_request: Request) -> HTMLResponse:
        return HTMLResponse(_REDOC_HTML)

    async def static(request: Request) -> Response:
        path = assets.get(request.path_params["asset"])
        if path is None:
            return Response(problem_body(NotFound, "No such asset."), 404, media_type=PROBLEM_JSON)
        return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})

    return [
        ("/openapi.json", "openapi", openapi_json),
        ("/docs", "swagger_ui", swagger),
        ("/redoc", "redoc", redoc),
        ("/static/{asset:path}", "static", static),
    ]
