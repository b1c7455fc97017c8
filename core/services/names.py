"""Display names as stored."""

from __future__ import annotations

ASCII_WHITESPACE = " \t\r\n\f\v"


def clean_name(raw: str) -> str:
    """Trim ASCII white space only: the spec's pattern guarantees something else remains."""
    return raw.strip(ASCII_WHITESPACE)
