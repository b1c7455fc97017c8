"""Response helpers: spec models out as JSON, with the content type set explicitly.

Connexion cannot pick a content type when an operation declares both JSON
and problem+json responses, so every handler names it.
"""

from __future__ import annotations

from typing import Any

from connexion import request
from connexion.lifecycle import ConnexionResponse
from pydantic import BaseModel

from core.principal import Principal


def json_response(model: BaseModel, status: int = 200) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        body=model.model_dump_json(by_alias=True),
        content_type="application/json",
    )


def no_content() -> ConnexionResponse:
    return ConnexionResponse(status_code=204, body=b"")


def principal_of(token_info: dict[str, Any]) -> Principal:
    """The caller, as established by `handlers.security`."""
    principal = token_info["principal"]
    assert isinstance(principal, Principal)
    return principal


def client_ip() -> str:
    """The client address (uvicorn applies X-Forwarded-For only from trusted proxies)."""
    client = request.client
    return client.host if client else "unknown"
