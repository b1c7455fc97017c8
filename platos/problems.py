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
import traceback
from collections.abc import Callable
from typing import Any

from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from pydantic import ValidationError as PydanticValidationError
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
    """The methods a concrete request path allows (for 405's `Allow`): those the spec
    documents, plus the docs pages' GET.

    Connexion routes each method separately, so Starlette's own `Allow` lists
    only the first operation that matched the path, and a wrong method on a route
    added outside the spec comes out as a 404.
    """

    def __init__(self, spec: dict[str, Any], extra_get_paths: list[str]) -> None:
        methods = {
            path: sorted(m.upper() for m in item if m in HTTP_METHODS)
            for path, item in spec.get("paths", {}).items()
        }
        methods.update({path: ["GET"] for path in extra_get_paths})
        self._paths = [(_path_regex(path), ", ".join(allowed)) for path, allowed in methods.items()]

    def for_path(self, path: str) -> str | None:
        return next((methods for pattern, methods in self._paths if pattern.match(path)), None)


def _path_regex(template: str) -> re.Pattern[str]:
    """`/a/{id}` matches one segment; Starlette's `{name:path}` matches the rest."""
    escaped = re.escape(template)
    escaped = re.sub(r"\\{[^/}]+:path\\}", ".+", escaped)
    return re.compile("^" + re.sub(r"\\{[^/}]+\\}", "[^/]+", escaped) + "$")


def _http_exception_handler(allowed: AllowedMethods) -> ErrorHandler:
    def handle(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        assert isinstance(exc, HTTPException)
        kind = _BY_STATUS.get(exc.status_code)
        if kind is None:
            return problem_response(errors.InternalError)
        methods = allowed.for_path(request.url.path)
        wrong_method = methods is not None and request.method not in methods.split(", ")
        if exc.status_code == 405 or (exc.status_code == 404 and wrong_method):
            methods = methods or (exc.headers or {}).get("Allow", "")
            return problem_response(
                errors.MethodNotAllowed,
                "This route does not allow that method.",
                {"Allow": methods},
            )
        detail = "No such route." if exc.status_code == 404 else None
        return problem_response(kind, detail)

    return handle


def _unhandled(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    # The traceback, and the error's own text only where it cannot quote the request:
    # pydantic's message repeats the input (a password, a token), so only its locations
    # and rules are logged.
    if isinstance(exc, PydanticValidationError):
        summary = str(exc.errors(include_input=False, include_url=False, include_context=False))
    else:
        summary = str(exc)
    logger.error(
        "unhandled error on %s %s: %s: %s\nTraceback (most recent call last):\n%s",
        request.method,
        request.url.path,
        type(exc).__name__,
        summary[:2000],
        "".join(traceback.format_tb(exc.__traceback__)),
    )
    return problem_response(errors.InternalError)


def install_problem_handlers(
    app: AsyncApp, spec: dict[str, Any], extra_get_paths: list[str]
) -> None:
    """`extra_get_paths`: routes added outside the spec (the docs pages), GET only."""
    allowed = AllowedMethods(spec, extra_get_paths)
    app.add_error_handler(errors.DomainError, _domain_error)
    app.add_error_handler(ProblemException, _connexion_problem)
    app.add_error_handler(HTTPException, _http_exception_handler(allowed))
    app.add_error_handler(Exception, _unhandled)
