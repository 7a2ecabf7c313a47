"""A small OpenAPI 3.0 schema checker for the fake Stream server, over `stream_spec.json`.

It covers the keywords that file uses: $ref, type (object/array/string/integer/number/boolean), properties,
required, additionalProperties, items, enum, min/maxItems, min/maxLength, minimum/maximum, nullable and
`format: date-time` on numbers. Stream's wire format for timestamps differs by direction:
responses carry integer Unix nanoseconds; requests from the Python SDK carry RFC 3339 strings
(`encode_datetime`), which Stream's server accepts, as well as numbers.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

SPEC_FILE = Path(__file__).with_name("stream_spec.json")
NS_FLOOR = 10**17  # 1973 in ns; a seconds or milliseconds value is far below


def parse_rfc3339(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


class Spec:
    def __init__(self, data: dict):
        self.schemas: dict = data["components"]["schemas"]
        self.paths: dict = data["paths"]
        self.info: dict = data.get("info", {})

    @classmethod
    def load(cls) -> Spec:
        return cls(json.loads(SPEC_FILE.read_text()))

    def resolve(self, schema: dict) -> dict:
        seen = 0
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"].rsplit("/", 1)[-1]]
            seen += 1
            if seen > 50:
                raise ValueError("$ref loop")
        return schema

    def schema(self, name: str) -> dict:
        return self.schemas[name]

    # --- validation ---------------------------------------------------------------------------

    def validate(self, value: Any, schema: dict, where: str = "body", *, direction: str = "request") -> list[str]:
        errors: list[str] = []
        self._check(value, schema, where, direction, errors)
        return errors

    def _check(self, value: Any, schema: dict, where: str, direction: str, errors: list[str]) -> None:
        schema = self.resolve(schema)
        if value is None:
            if not schema.get("nullable"):
                errors.append(f"{where}: null is not allowed")
            return
        kind = schema.get("type")
        if kind == "object" or (kind is None and ("properties" in schema or "additionalProperties" in schema)):
            if not isinstance(value, dict):
                errors.append(f"{where}: expected an object, got {type(value).__name__}")
                return
            props = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            for key, item in value.items():
                if key in props:
                    self._check(item, props[key], f"{where}.{key}", direction, errors)
                elif extra is not None:
                    if extra:  # {} means anything
                        self._check(item, extra, f"{where}.{key}", direction, errors)
                elif props:
                    errors.append(f"{where}: unknown field {key!r}")
            for key in schema.get("required", []):
                if key not in value:
                    errors.append(f"{where}.{key} is required")
        elif kind == "array":
            if not isinstance(value, list):
                errors.append(f"{where}: expected an array, got {type(value).__name__}")
                return
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                errors.append(f"{where}: at most {schema['maxItems']} items")
            if "minItems" in schema and len(value) < schema["minItems"]:
                errors.append(f"{where}: at least {schema['minItems']} items")
            for i, item in enumerate(value):
                self._check(item, schema.get("items", {}), f"{where}[{i}]", direction, errors)
        elif kind == "string":
            if not isinstance(value, str):
                errors.append(f"{where}: expected a string, got {type(value).__name__}")
                return
            if "enum" in schema and value not in schema["enum"]:
                errors.append(f"{where}: {value!r} is not one of {schema['enum']}")
            if "minLength" in schema and len(value) < schema["minLength"]:
                errors.append(f"{where}: shorter than {schema['minLength']}")
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                errors.append(f"{where}: longer than {schema['maxLength']}")
        elif kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                errors.append(f"{where}: expected an integer, got {type(value).__name__}")
                return
            self._bounds(value, schema, where, errors)
        elif kind == "number":
            if schema.get("format") == "date-time":
                self._timestamp(value, where, direction, errors)
                return
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                errors.append(f"{where}: expected a number, got {type(value).__name__}")
                return
            self._bounds(value, schema, where, errors)
        elif kind == "boolean" and not isinstance(value, bool):
            errors.append(f"{where}: expected a boolean, got {type(value).__name__}")

    @staticmethod
    def _bounds(value: float, schema: dict, where: str, errors: list[str]) -> None:
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: above the maximum {schema['maximum']}")

    @staticmethod
    def _timestamp(value: Any, where: str, direction: str, errors: list[str]) -> None:
        if direction == "response":
            if isinstance(value, bool) or not isinstance(value, int) or value < NS_FLOOR:
                errors.append(f"{where}: a response timestamp must be integer Unix nanoseconds, got {value!r}")
            return
        if isinstance(value, str):
            if parse_rfc3339(value) is None:
                errors.append(f"{where}: {value!r} is not an RFC 3339 date-time with a timezone")
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(f"{where}: expected a date-time, got {type(value).__name__}")

    # --- examples -----------------------------------------------------------------------------

    def example(self, schema: dict | str, _depth: int = 0) -> Any:
        """The smallest value that satisfies `schema` (required fields only; timestamps = now in ns)."""
        if isinstance(schema, str):
            schema = self.schemas[schema]
        schema = self.resolve(schema)
        if _depth > 30:
            raise ValueError("schema too deep for an example")
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            props = schema.get("properties", {})
            return {key: self.example(props[key], _depth + 1) for key in schema.get("required", []) if key in props}
        if kind == "array":
            count = schema.get("minItems", 0)
            return [self.example(schema.get("items", {}), _depth + 1) for _ in range(count)]
        if kind == "string":
            if schema.get("enum"):
                return schema["enum"][0]
            return "x" * schema.get("minLength", 0)
        if kind == "integer":
            value = max(0, schema.get("minimum", 0))
            return min(value, schema.get("maximum", value))
        if kind == "number":
            if schema.get("format") == "date-time":
                return time.time_ns()
            value = max(0, schema.get("minimum", 0))
            return min(value, schema.get("maximum", value))
        if kind == "boolean":
            return False
        return {}
