"""The JSON Schemas that tools declare: untrusted input, compiled by jsonschema-rs.

A customer's SDK declares `input_schema`, and every invoke of that tool checks the
caller's params against it, on the event loop that serves every org. So:

* patterns run on a linear-time regex engine (Rust `regex`): a pattern such as
  `^(a+)+$` cannot stall the process, and back-references or look-arounds are
  refused when the tool registers;
* `$ref` resolves inside the schema only (offline): nothing is fetched, and a
  reference that does not resolve is refused at registration, not met at invoke;
* nesting is bounded (the library refuses a schema past its recursion limit);
* `pattern` is ECMA-262 as JSON Schema says (`$` is the end of the string), and
  formats are checked.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs

_OPTIONS: dict[str, Any] = {
    "validate_formats": True,
    "offline": True,
    "pattern_options": jsonschema_rs.RegexOptions(),
}


class InvalidToolSchema(ValueError):
    """The schema cannot be used; the message says why without quoting the schema."""


def compile_schema(schema: dict[str, Any]) -> Any:
    """A validator for `schema`, or InvalidToolSchema."""
    try:
        return jsonschema_rs.validator_for(schema, **_OPTIONS)
    except jsonschema_rs.ValidationError as exc:
        where = "/" + "/".join(str(p) for p in exc.instance_path)
        raise InvalidToolSchema(f"fails the meta-schema or does not resolve at {where}") from exc
    except (ValueError, TypeError) as exc:  # recursion limit, unknown $schema, ...
        raise InvalidToolSchema(str(exc).splitlines()[0][:200]) from exc


def _rule(schema: Any, schema_path: list[str | int]) -> Any:
    node = schema
    for part in schema_path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def params_error(validator: Any, schema: dict[str, Any], params: Any) -> str | None:
    """Why `params` fail `schema` (path and rule, never the value), or None."""
    error = next(iter(validator.iter_errors(params)), None)
    if error is None:
        return None
    where = "/" + "/".join(str(p) for p in error.instance_path)
    keyword = error.kind.name
    if keyword in ("required", "additionalProperties", "unevaluatedProperties"):
        return f"{error.message} (at {where})"  # names a property, not a value
    rule = json.dumps(_rule(schema, error.schema_path), default=str)[:200]
    return f"Invalid value at {where}: fails '{keyword}' {rule}."
