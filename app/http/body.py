"""Reading a request body: bounded, parsed as JSON, checked against its schema."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import falcon
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match

from app.domain.errors import DomainError, FieldError, InvalidInput, TooLarge
from app.http.schemas import REQUESTS

MAX_REPORTED_ERRORS = 100
_REQUIRED = re.compile(r"^'(.+)' is a required property$")

# JSON's 1.0 is a float to us, and true is not 1: ids and counts must be real integers.
_Validator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)
_VALIDATORS = {name: _Validator(schema) for name, schema in REQUESTS.items()}


def raw_body(req: falcon.Request, max_bytes: int) -> bytes:
    """The body's bytes, read once per request; 413 past `max_bytes`."""
    cached = req.context.get("raw_body")
    if cached is not None:
        return cached
    if req.content_length is not None and req.content_length > max_bytes:
        raise TooLarge.of("body", f"at most {max_bytes} bytes")
    raw = req.bounded_stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise TooLarge.of("body", f"at most {max_bytes} bytes")
    req.context.raw_body = raw
    return raw


def read_json(req: falcon.Request, max_bytes: int) -> Any:
    """The parsed body; 413 past `max_bytes`, 400 when it is not JSON."""
    raw = raw_body(req, max_bytes)
    if not raw.strip():
        raise DomainError.of("body", "a JSON body is required")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise DomainError.of("body", f"not valid JSON ({str(exc)[:120]})") from None


def checked(name: str, data: Any) -> dict[str, Any]:
    """`data` if it matches request schema `name`, else 422 (413 for an oversized batch)."""
    errors = sorted(
        _VALIDATORS[name].iter_errors(data), key=lambda e: list(map(str, e.absolute_path))
    )
    if not errors:
        return data
    fields = [f for error in errors for f in _field_errors(error)][:MAX_REPORTED_ERRORS]
    summary = "; ".join(f"{f.field}: {f.message}" for f in fields[:5])
    too_many = any(
        e.validator == "maxItems" and list(e.absolute_path) == ["enrolments"] for e in errors
    )
    raise (TooLarge if too_many else InvalidInput)(summary, fields)


def _path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _field_errors(error: ValidationError) -> list[FieldError]:
    path = list(error.absolute_path)
    instance = error.instance
    if error.validator == "required":
        # jsonschema reports each missing property as its own error, named in the message.
        missing = _REQUIRED.match(error.message)
        return [FieldError(_path([*path, missing.group(1) if missing else "?"]), "is required")]
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = set(error.schema.get("properties", {}))
        return [
            FieldError(_path([*path, name]), "is not a known field")
            for name in instance
            if name not in known
        ]
    if error.validator == "minProperties":
        return [FieldError(_path(path) or "body", "give at least one field to change")]
    if error.validator == "type" and not path:
        return [FieldError("body", "must be a JSON object")]
    message = best_match(error.context).message if error.context else error.message
    if len(message) > 200:
        message = message[:200] + "…"
    return [FieldError(_path(path) or "body", message)]
