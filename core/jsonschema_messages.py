"""JSON Schema validation messages that name the path and the rule, never the value.

jsonschema's own messages quote the instance, which may be a password, a token
or a customer's data; these say where and which rule instead.
"""

from __future__ import annotations

import json

from jsonschema import ValidationError


def describe(error: ValidationError) -> str:
    where = "/" + "/".join(str(part) for part in error.absolute_path)
    if error.validator in ("required", "additionalProperties", "unevaluatedProperties"):
        return f"{error.message} (at {where})"
    if error.validator in ("oneOf", "anyOf", "allOf", "not", "if"):
        return f"Invalid value at {where}: it does not match the allowed shapes."
    rule = json.dumps(error.validator_value, default=str)[:200] if error.validator != "$ref" else ""
    return f"Invalid value at {where}: fails '{error.validator}' {rule}".rstrip() + "."
