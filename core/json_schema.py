"""JSON Schema (Draft 2020-12) as the platform applies it, to its own spec and to the
input schemas tools declare.

* `pattern` follows ECMA-262, the dialect JSON Schema names: `$` is the end of the
  string. Python's `$` also matches before a final newline, so "ada@example.com\\n"
  would pass a `...$` pattern here and fail later, in pydantic's regex engine.
* Formats are checked (`date-time`, `uuid`, `email`, `uri`, ...).
* `describe` names the path and the broken rule, never the value: jsonschema's own
  messages quote the instance, which may be a password, a token or customer data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators


@lru_cache(maxsize=4096)
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """`pattern` compiled for Python, with each unescaped `$` outside a class as `\\Z`."""
    out: list[str] = []
    escaped = in_class = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            out.append(r"\Z")
            continue
        out.append(char)
    return re.compile("".join(out))


def _pattern(
    validator: Any, pattern: str, instance: Any, _schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not ecma_regex(pattern).search(instance):
        yield ValidationError(f"does not match {pattern!r}")


SchemaValidator = validators.extend(Draft202012Validator, {"pattern": _pattern})
FORMATS = Draft202012Validator.FORMAT_CHECKER


def validator_for(schema: dict[str, Any] | bool) -> Any:
    """A compiled validator for `schema` (format checking on, ECMA `$`)."""
    return SchemaValidator(schema, format_checker=FORMATS)


def first_error(validator: Any, instance: Any) -> ValidationError | None:
    return next(iter(validator.iter_errors(instance)), None)


def describe(error: ValidationError) -> str:
    where = "/" + "/".join(str(part) for part in error.absolute_path)
    if error.validator in ("required", "additionalProperties", "unevaluatedProperties"):
        return f"{error.message} (at {where})"
    if error.validator in ("oneOf", "anyOf", "allOf", "not", "if"):
        return f"Invalid value at {where}: it does not match the allowed shapes."
    rule = json.dumps(error.validator_value, default=str)[:200] if error.validator != "$ref" else ""
    return f"Invalid value at {where}: fails '{error.validator}' {rule}".rstrip() + "."
