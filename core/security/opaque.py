"""Opaque bearer secrets (API keys, invitation tokens): random, prefixed, stored as SHA-256.

A plain hash is enough here: the secrets carry 256 bits of randomness, so
there is nothing to brute-force, and a lookup by hash stays a single index read.
"""

from __future__ import annotations

import hashlib
import secrets

API_KEY_PREFIX = "platos_key_"
INVITE_PREFIX = "platos_inv_"
VISIBLE_CHARS = 4  # of the random part, kept in `prefix` to recognise a key


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def display_prefix(secret: str, prefix: str) -> str:
    return secret[: len(prefix) + VISIBLE_CHARS]
