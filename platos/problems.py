"""Every error leaves the REST app as RFC 9457 `application/problem+json`.

Domain errors carry their own type and title. Connexion's and Starlette's
exceptions (validation, routing, security) are mapped by status onto the same
catalogue, and anything unexpected becomes a bare 500: logged with its
traceback here, never sent to the client.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from core import errors
from platos.connexion31 import MalformedBodyProblem

logger = logging.getLogger("platos.errors")

PROBLEM_JSON = "application/problem+json"
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
ErrorHandler = Callable[[ConnexionRequest, Exception], ConnexionResponse]

_BY_STATUS: dict[int, type[errors.DomainError]] = {
    400: errors.ValidationFailed,
    401: errors.Unauthenticated,
    403: errors.Forbidden,
    404: errors.NotFound,
    405: errors.MethodNotAllowed,
    409: errors.Conflict,
    413: errors.PayloadTooLarge,
    415: errors.UnsupportedMediaType,
}


def problem_body(
    kind: type[errors.DomainError] | errors.DomainError,
    detail: str | None,
    extra: dict[str, str] | None = None,
) -> bytes:
    body: dict[str, object] = {
        "type": kind.type_uri_for(),
        "title": kind.title,
        "status": kind.status,
    }
    if detail:
        body["detail"] = detail
    body.update(extra or {})
    return json.dumps(body).encode()


def problem_response(
    kind: type[errors.DomainError] | errors.DomainError,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, str] | None = None,
) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=kind.status,
        body=problem_body(kind, detail, extra),
        content_type=PROBLEM_JSON,
        headers=dict(headers or {}),
    )


def _domain_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, errors.DomainError)
    return problem_response(exc, exc.detail, exc.headers, exc.extra)


def _connexion_problem(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, ProblemException)
    if isinstance(exc, MalformedBodyProblem):
        return problem_response(errors.MalformedBody, exc.detail)
    if exc.status >= 500:
        logger.error("server problem: %s", exc.detail)
        return problem_response(errors.InternalError)
    kind = _BY_STATUS.get(exc.status, errors.ValidationFailed)
    # 401 details from the security layer vary by cause; keep one uniform message.
    detail = exc.detail
    if exc.status == 401:
        detail = "The token is missing, invalid, expired or revoked."
    return problem_response(kind, detail, exc.headers)


class AllowedMethods:
    """The methods the spec documents for a concrete request path (for 405's `Allow`).

    Connexion routes each method separately, so Starlette's own `Allow` lists
    only the first operation that matched the path.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        self._paths = [
            (
                re.compile("^" + re.sub(r"\\{[^/}]+\\}", "[^/]+", re.escape(path)) + "$"),
                ", ".join(sorted(m.upper() for m in item if m in HTTP_METHODS)),
            )
            for path, item in spec.get("paths", {}).items()
        ]

    def for_path(self, path: str) -> str | None:
        return next((methods for pattern, methods in self._paths if pattern.match(path)), None)


def _http_exception_handler(allowed: AllowedMethods) -> ErrorHandler:
    def handle(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        assert isinstance(exc, HTTPException)
        kind = _BY_STATUS.get(exc.status_code)
        if kind is None:
            return problem_response(errors.InternalError)
        if exc.status_code == 405:
            methods = allowed.for_path(request.url.path) or (exc.headers or {}).get("Allow", "")
            return problem_response(
                kind, "This route does not allow that method.", {"Allow": methods}
            )
        detail = "No such route." if exc.status_code == 404 else None
        return problem_response(kind, detail)

    return handle


def _unhandled(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    logger.error("unhandled error", exc_info=exc)
    return problem_response(errors.InternalError)


def install_problem_handlers(app: AsyncApp, spec: dict[str, Any]) -> None:
    app.add_error_handler(errors.DomainError, _domain_error)
    app.add_error_handler(ProblemException, _connexion_problem)
    app.add_error_handler(HTTPException, _http_exception_handler(AllowedMethods(spec)))
    app.add_error_handler(Exception, _unhandled)
