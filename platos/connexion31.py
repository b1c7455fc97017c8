"""Make Connexion 3.3 serve an OpenAPI 3.1 document properly.

Connexion 3.3 checks every OpenAPI 3 document against its bundled 3.0
meta-schema (so a 3.1 spec does not load) and validates bodies with JSON
Schema Draft 4 (so 3.1 keywords such as `const` pass unchecked). This module
is the one place that fixes both:

* the spec is validated by openapi-spec-validator, which knows 3.1;
* request and response bodies are validated with Draft 2020-12, with
  format checking, by validators compiled once per schema (stock Connexion
  builds a new validator on every request);
* a body that is not UTF-8 is a 400, not a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.exceptions import BadRequestProblem, InvalidSpecification, NonConformingResponseBody
from connexion.spec import OpenAPISpecification
from connexion.validators import (
    FormDataValidator,
    JSONRequestBodyValidator,
    JSONResponseBodyValidator,
    MultiPartFormDataValidator,
    ParameterValidator,
    TextResponseBodyValidator,
)
from openapi_spec_validator import validate as validate_openapi
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from core import strict_json
from core.json_schema import describe, first_error, validator_for

logger = logging.getLogger(__name__)

# id(schema) -> (schema, validator). Connexion hands the same schema dict to
# every request of an operation; keeping the dict in the value pins its id.
_compiled: dict[int, tuple[dict[str, Any], Any]] = {}


def compiled_validator(schema: dict[str, Any]) -> Any:
    """The Draft 2020-12 validator for `schema` (core.json_schema), compiled on first use."""
    hit = _compiled.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    validator = validator_for(schema)
    _compiled[id(schema)] = (schema, validator)
    return validator


class MalformedBodyProblem(BadRequestProblem):
    """The body is not JSON at all (as opposed to JSON that fails the schema)."""


def _validate_spec_31(cls: type, spec: dict[str, Any]) -> None:
    try:
        validate_openapi(spec)
    except OpenAPIValidationError as exc:
        raise InvalidSpecification(str(exc)) from exc


class JSONBodyValidator2020(JSONRequestBodyValidator):
    """Request bodies: strict UTF-8 JSON, validated with Draft 2020-12."""

    @property
    def _validator(self) -> Any:
        return compiled_validator(self._schema)

    async def _parse(self, stream: Any, scope: Any) -> Any:
        raw = b"".join([chunk async for chunk in stream])
        if not raw:
            return None
        try:
            return strict_json.loads(raw.decode(self._encoding))
        except (UnicodeError, LookupError) as exc:
            raise MalformedBodyProblem(detail="The body is not valid UTF-8 JSON.") from exc
        except strict_json.NotStrictJson as exc:
            raise MalformedBodyProblem(detail=f"The body is {exc}.") from exc

    def _validate(self, body: Any) -> dict[str, Any] | None:
        if not self._nullable and body is None:
            raise BadRequestProblem(detail="A JSON request body is required.")
        error = first_error(self._validator, body)
        if error is not None:
            raise BadRequestProblem(detail=describe(error))
        return None


class ParameterValidator2020(ParameterValidator):
    """Path, query and header parameters: Draft 2020-12 with formats (Draft 4 knows no
    `uuid` format), compiled once per parameter instead of deep-copied per request."""

    @staticmethod
    def validate_parameter(
        parameter_type: str, value: Any, param: dict[str, Any], param_name: str | None = None
    ) -> str | None:
        if value is None:
            if param.get("required"):
                return f"Missing {parameter_type} parameter '{param['name']}'"
            return None
        error = first_error(compiled_validator(param.get("schema", param)), value)
        if error is None:
            return None
        return f"{parameter_type} parameter '{param.get('name', param_name)}': {describe(error)}"


class JSONResponseValidator2020(JSONResponseBodyValidator):
    """Response bodies: Draft 2020-12, so the server cannot drift from its own spec."""

    @property
    def validator(self) -> Any:
        return compiled_validator(self._schema)

    def _validate(self, body: Any) -> None:
        error = first_error(self.validator, body)
        if error is not None:
            logger.error("response does not conform to the spec: %s", describe(error))
            raise NonConformingResponseBody(detail="The response does not conform to the spec.")


VALIDATOR_MAP = {
    "parameter": ParameterValidator2020,
    "body": MediaTypeDict(
        {
            "*/*json": JSONBodyValidator2020,
            "application/x-www-form-urlencoded": FormDataValidator,
            "multipart/form-data": MultiPartFormDataValidator,
        }
    ),
    "response": MediaTypeDict(
        {
            "*/*json": JSONResponseValidator2020,
            "text/plain": TextResponseBodyValidator,
        }
    ),
}


def enable_openapi_31() -> None:
    """Replace Connexion's 3.0-only spec check by openapi-spec-validator (idempotent)."""
    OpenAPISpecification._validate_spec = classmethod(_validate_spec_31)  # type: ignore[method-assign,assignment]
