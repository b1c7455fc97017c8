"""Check a `tool_register` frame against the documented limits (docs/sdk-protocol.md).

Name pattern, counts and lengths are in the spec's frame schemas (enforced when
the frame is parsed); here: every input_schema is a valid JSON Schema, sizes
in bytes, and no name twice.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

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
        if _size(tool.input_schema) > MAX_SCHEMA_BYTES:
            found.append(f"{name}: input_schema above {MAX_SCHEMA_BYTES} bytes")
        if tool.output_schema is not None and _size(tool.output_schema) > MAX_SCHEMA_BYTES:
            found.append(f"{name}: output_schema above {MAX_SCHEMA_BYTES} bytes")
        if _size(tool.annotations or {}) > MAX_ANNOTATIONS_BYTES:
            found.append(f"{name}: annotations above {MAX_ANNOTATIONS_BYTES} bytes")
        try:
            Draft202012Validator.check_schema(tool.input_schema)
        except SchemaError as exc:
            found.append(f"{name}: input_schema is not a valid JSON Schema ({exc.message[:200]})")
    return found
