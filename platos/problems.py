"""Every error leaves the REST app as RFC 9457 `application/problem+json`.

Domain errors carry their own type and title. Connexion's and Starlette's
exceptions (validation, routing, security) are mapped by status onto the same
catalogue, and anything unexpected becomes a bare 500: logged with its
traceback here, never sent to the client.
"""

from __future__ import annotations

import json
import logging

from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from core import errors
from platos.connexion31 import MalformedBodyProblem

logger = logging.getLogger("platos.errors")

PROBLEM_JSON = "application/problem+json"

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


def problem_body(kind: type[errors.DomainError] | errors.DomainError, detail: str | None) -> bytes:
    body: dict[str, object] = {
        "type": kind.type_uri_for(),
        "title": kind.title,
        "status": kind.status,
    }
    if detail:
        body["detail"] = detail
    return json.dumps(body).encode()


def problem_response(
    kind: type[errors.DomainError] | errors.DomainError,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=kind.status,
        body=problem_body(kind, detail),
        content_type=PROBLEM_JSON,
        headers=dict(headers or {}),
    )


def _domain_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, errors.DomainError)
    return problem_response(exc, exc.detail, exc.headers)


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


def _http_exception(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, HTTPException)
    kind = _BY_STATUS.get(exc.status_code)
    if kind is None:
        return problem_response(errors.InternalError)
    detail = {404: "No such route.", 405: "This route does not allow that method."}.get(
        exc.status_code, None
    )
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() == "allow"}
    return problem_response(kind, detail, headers)


def _unhandled(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    logger.error("unhandled error", exc_info=exc)
    return problem_response(errors.InternalError)


def install_problem_handlers(app: AsyncApp) -> None:
    app.add_error_handler(errors.DomainError, _domain_error)
    app.add_error_handler(ProblemException, _connexion_problem)
    app.add_error_handler(HTTPException, _http_exception)
    app.add_error_handler(Exception, _unhandled)
