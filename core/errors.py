"""Domain errors. Each maps to one RFC 9457 problem `type` and `title` (docs/errors.md).

Services raise these; the REST layer renders them as problem+json and the
WebSocket server turns them into close codes or logged refusals.
"""

from __future__ import annotations

PROBLEM_BASE = "https://platos.dev/problems/"


class DomainError(Exception):
    """A failure the caller can act on. `slug` and `title` are stable; `detail` is per case."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = headers or {}
        self.extra: dict[str, str] = {}  # extension members of the problem (RFC 9457 3.2)

    @classmethod
    def type_uri_for(cls) -> str:
        return PROBLEM_BASE + cls.slug


class ValidationFailed(DomainError):
    status, slug, title = 400, "validation-error", "Request validation failed"


class MalformedBody(DomainError):
    status, slug, title = 400, "malformed-body", "Malformed request body"


class Unauthenticated(DomainError):
    status, slug, title = 401, "unauthorized", "Authentication required"


class InvalidCredentials(DomainError):
    status, slug, title = 401, "invalid-credentials", "Invalid email or password"


class Forbidden(DomainError):
    status, slug, title = 403, "forbidden", "Not allowed for this role"


class NotFound(DomainError):
    status, slug, title = 404, "not-found", "Resource not found"


class MethodNotAllowed(DomainError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class Conflict(DomainError):
    status, slug, title = 409, "conflict", "Conflict"


class EmailTaken(Conflict):
    slug, title = "email-taken", "Email already registered"


class AlreadyMember(Conflict):
    slug, title = "already-member", "Already a member"


class LastOwner(Conflict):
    slug, title = "last-owner", "An organization needs an owner"


class InvalidInvitation(DomainError):
    status, slug, title = 403, "invalid-invitation", "Invalid invitation"


class PayloadTooLarge(DomainError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class UnsupportedMediaType(DomainError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class RateLimited(DomainError):
    status, slug, title = 429, "rate-limited", "Too many requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Try again in {retry_after} seconds.", headers={"Retry-After": str(retry_after)}
        )
        self.retry_after = retry_after


class InternalError(DomainError):
    status, slug, title = 500, "internal-error", "Internal server error"


class ToolUnavailable(DomainError):
    status, slug, title = 503, "tool-unavailable", "Tool unavailable"


class ToolTimeout(DomainError):
    status, slug, title = 504, "tool-timeout", "Tool call timed out"

    def __init__(self, detail: str, *, call_id: str) -> None:
        super().__init__(detail)
        self.extra = {"call_id": call_id}
