"""Response helpers: spec models out as JSON, with the content type set explicitly.

Connexion cannot pick a content type when an operation declares both JSON
and problem+json responses, so every handler names it.
"""

from __future__ import annotations

import uuid
from typing import Any

from connexion import request
from connexion.lifecycle import ConnexionResponse
from pydantic import BaseModel

from core.principal import Principal


def json_response(model: BaseModel, status: int = 200) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        # exclude_unset: optional fields a view did not fill (e.g. invite_token) stay out.
        body=model.model_dump_json(by_alias=True, exclude_unset=True),
        content_type="application/json",
    )


def no_content() -> ConnexionResponse:
    return ConnexionResponse(status_code=204, body=b"")


def path_uuid(value: str) -> uuid.UUID:
    """A parameter the spec declares `format: uuid` (already validated) as a UUID."""
    return uuid.UUID(value)


def principal_of(token_info: dict[str, Any]) -> Principal:
    """The caller, as established by `handlers.security`."""
    principal = token_info["principal"]
    assert isinstance(principal, Principal)
    return principal


def client_ip() -> str:
    """The client address (uvicorn applies X-Forwarded-For only from trusted proxies)."""
    client = request.client
    return client.host if client else "unknown"
