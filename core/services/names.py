"""Display names as stored."""

from __future__ import annotations


def clean_name(raw: str) -> str:
    """Trim spaces. The spec's pattern admits no control characters and requires
    one character that is not a space, so something always remains."""
    return raw.strip(" ")
