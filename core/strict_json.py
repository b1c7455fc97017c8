"""JSON as RFC 8259 defines it, for everything that comes in from outside (REST bodies,
SDK frames).

Python's `json.loads` is more lenient in three ways that later fail far from the
input, or silently change data: it accepts `NaN` and `Infinity` (PostgreSQL's JSON
refuses them; SQLite stores null), it turns `1e400` into an infinite float, and it
lets lone UTF-16 surrogates (`"\\ud800"`) through, which no database can store.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_MAYBE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


class NotStrictJson(ValueError):
    """The text is not JSON, or not JSON that every backend can keep as it is."""


def _no_constants(name: str) -> Any:
    raise NotStrictJson(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise NotStrictJson("a number is out of range")
    return value


def loads(text: str) -> Any:
    """Parse `text`; raise NotStrictJson (with a message that never quotes it) if it is
    not strict JSON."""
    try:
        value = json.loads(text, parse_constant=_no_constants, parse_float=_finite)
    except NotStrictJson:
        raise
    except json.JSONDecodeError as exc:
        raise NotStrictJson(f"not valid JSON: {exc.msg}") from exc
    except (ValueError, RecursionError) as exc:  # integers above Python's digit limit
        raise NotStrictJson(f"not valid JSON: {type(exc).__name__}") from exc
    if _MAYBE_SURROGATE.search(text):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise NotStrictJson("a string holds a lone UTF-16 surrogate") from exc
    return value
