"""Check a `tool_register` frame against the documented limits (docs/sdk-protocol.md).

Name pattern, counts and lengths are in the spec's frame schemas (enforced when
the frame is parsed); here: every input_schema is a JSON Schema the platform can
apply safely (core.tool_schemas), sizes in bytes, and no name twice.
"""

from __future__ import annotations

import json
from typing import Any

from core.tool_schemas import InvalidToolSchema, compile_schema
from generated import models as api

MAX_SCHEMA_BYTES = 64 * 1024
MAX_ANNOTATIONS_BYTES = 8 * 1024


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def problems(frame: api.SdkToolRegisterFrame) -> list[str]:
    """Why the declaration is refused (empty when it is acceptable)."""
    found: list[str] = []
    seen: set[str] = set()
    for tool in frame.tools:
        name = tool.name.root
        if name in seen:
            found.append(f"{name}: declared twice")
        seen.add(name)
        try:
            found += [f"{name}: {reason}" for reason in _tool_problems(tool)]
        except (RecursionError, ValueError, TypeError) as exc:  # nested past any sane depth
            found.append(f"{name}: cannot be checked ({type(exc).__name__})")
    return found


def _tool_problems(tool: api.SdkToolDeclaration) -> list[str]:
    found: list[str] = []
    if _size(tool.input_schema) > MAX_SCHEMA_BYTES:
        found.append(f"input_schema above {MAX_SCHEMA_BYTES} bytes")
    if tool.output_schema is not None and _size(tool.output_schema) > MAX_SCHEMA_BYTES:
        found.append(f"output_schema above {MAX_SCHEMA_BYTES} bytes")
    if _size(tool.annotations or {}) > MAX_ANNOTATIONS_BYTES:
        found.append(f"annotations above {MAX_ANNOTATIONS_BYTES} bytes")
    if not found:
        try:
            compile_schema(tool.input_schema)
        except InvalidToolSchema as exc:
            found.append(f"input_schema cannot be used: {exc}")
    return found
