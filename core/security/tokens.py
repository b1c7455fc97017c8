"""Signed JWTs (PyJWT, HS256). Each kind of token has its own audience and `typ`.

Verification pins the algorithm, audience and issuer and requires every
claim, so a token of one kind never passes as another.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from core.clock import utcnow
from core.settings import Settings

ALGORITHM = "HS256"
ACCESS_AUDIENCE = "platos:api"
REFRESH_AUDIENCE = "platos:refresh"
ACCESS_CLAIMS = ["sub", "user_id", "org_id", "sid", "typ", "aud", "iss", "iat", "exp", "jti"]
REFRESH_CLAIMS = ["sub", "sid", "typ", "aud", "iss", "iat", "exp", "jti"]
SDK_AUDIENCE = "platos:sdk"
SDK_CLAIMS = ["sub", "org_id", "sdk_connection_id", "typ", "aud", "iss", "iat", "jti"]


class TokenInvalid(Exception):
    """The token is malformed, forged, expired or of the wrong kind."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    org_id: uuid.UUID
    session_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class RefreshClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    jti: str


@dataclass(frozen=True, slots=True)
class SdkClaims:
    org_id: uuid.UUID
    sdk_connection_id: uuid.UUID
    jti: str


class TokenSigner:
    def __init__(self, settings: Settings) -> None:
        self._key = settings.jwt_secret
        self._issuer = settings.jwt_issuer
        self.access_ttl = settings.access_token_ttl

    def _encode(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def _decode(self, token: str, audience: str, required: list[str], typ: str) -> dict[str, Any]:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=self._issuer,
                options={"require": required},
            )
        except jwt.PyJWTError as exc:
            raise TokenInvalid(type(exc).__name__) from exc
        if claims.get("typ") != typ:
            raise TokenInvalid("wrong token type")
        return claims

    def issue_access(self, *, user_id: uuid.UUID, org_id: uuid.UUID, session_id: uuid.UUID) -> str:
        now = utcnow()
        return self._encode(
            {
                "sub": str(user_id),
                "user_id": str(user_id),
                "org_id": str(org_id),
                "sid": str(session_id),
                "typ": "access",
                "aud": ACCESS_AUDIENCE,
                "iss": self._issuer,
                "iat": now,
                "exp": now + timedelta(seconds=self.access_ttl),
                "jti": uuid.uuid4().hex,
            }
        )

    def issue_refresh(
        self, *, user_id: uuid.UUID, session_id: uuid.UUID, jti: str, expires_at: datetime
    ) -> str:
        return self._encode(
            {
                "sub": str(user_id),
                "sid": str(session_id),
                "typ": "refresh",
                "aud": REFRESH_AUDIENCE,
                "iss": self._issuer,
                "iat": utcnow(),
                "exp": expires_at,
                "jti": jti,
            }
        )

    def verify_access(self, token: str) -> AccessClaims:
        claims = self._decode(token, ACCESS_AUDIENCE, ACCESS_CLAIMS, "access")
        try:
            user_id = uuid.UUID(claims["user_id"])
            if claims["sub"] != claims["user_id"]:
                raise TokenInvalid("sub and user_id differ")
            return AccessClaims(user_id, uuid.UUID(claims["org_id"]), uuid.UUID(claims["sid"]))
        except (ValueError, TypeError, AttributeError) as exc:
            raise TokenInvalid("malformed claims") from exc

    def verify_refresh(self, token: str) -> RefreshClaims:
        claims = self._decode(token, REFRESH_AUDIENCE, REFRESH_CLAIMS, "refresh")
        try:
            return RefreshClaims(
                uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"]), str(claims["jti"])
            )
        except (ValueError, TypeError, AttributeError) as exc:
            raise TokenInvalid("malformed claims") from exc

    def issue_sdk_secret(self, *, org_id: uuid.UUID, connection_id: uuid.UUID, jti: str) -> str:
        """The PLATOS_SECRET: long-lived (no exp), killed by rotating its jti or revoking."""
        return self._encode(
            {
                "sub": str(connection_id),
                "org_id": str(org_id),
                "sdk_connection_id": str(connection_id),
                "typ": "sdk",
                "aud": SDK_AUDIENCE,
                "iss": self._issuer,
                "iat": utcnow(),
                "jti": jti,
            }
        )

    def verify_sdk_secret(self, token: str) -> SdkClaims:
        claims = self._decode(token, SDK_AUDIENCE, SDK_CLAIMS, "sdk")
        try:
            return SdkClaims(
                uuid.UUID(claims["org_id"]),
                uuid.UUID(claims["sdk_connection_id"]),
                str(claims["jti"]),
            )
        except (ValueError, TypeError, AttributeError) as exc:
            raise TokenInvalid("malformed claims") from exc
