"""Reading a request body: bounded, parsed as JSON, checked against its schema."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from itertools import islice
from typing import Any

import falcon
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match

from app.domain.errors import DomainError, FieldError, InvalidInput, TooLarge
from app.http.schemas import MAX_BATCH, REQUESTS

MAX_REPORTED_ERRORS = 100
# Bounds on a body's shape, checked by an iterative walk before any recursive work (schema
# validation recurses once per level). The deepest legitimate body, a curriculum tree at its
# 12-level limit, nests about 30 levels; the largest, a batch of 10,000 enrolments with their
# lists, holds a few hundred thousand values.
MAX_NESTING = 64
MAX_VALUES = 1_000_000
# No schema takes a longer array than the enrolment batch; a longer one is refused before
# schema validation would look at each of its items.
MAX_ARRAY_ITEMS = MAX_BATCH
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
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise DomainError.of("body", f"not valid JSON ({str(exc)[:120]})") from None
    _check_shape(data)
    return data


def _check_shape(data: Any) -> None:
    """422 naming the first value nested deeper than MAX_NESTING; 413 past MAX_VALUES values."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    seen = 0
    while stack:
        value, path = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise TooLarge.of("body", f"at most {MAX_VALUES} JSON values")
        if isinstance(value, dict):
            children: Iterable[tuple[Any, Any]] = value.items()
        elif isinstance(value, list):
            if len(value) > MAX_ARRAY_ITEMS:
                raise TooLarge.of(_path(path) or "body", f"at most {MAX_ARRAY_ITEMS} items")
            children = enumerate(value)
        else:
            continue
        if len(path) >= MAX_NESTING:
            raise InvalidInput.of(_path(path), f"nested deeper than {MAX_NESTING} levels")
        stack.extend((child, (*path, key)) for key, child in children)


def checked(name: str, data: Any) -> dict[str, Any]:
    """`data` if it matches request schema `name`, else 422 (413 for an oversized batch)."""
    # The first errors are enough to report, and stopping there bounds the work a hostile
    # body (thousands of wrong items) can cause.
    first = islice(_VALIDATORS[name].iter_errors(data), MAX_REPORTED_ERRORS)
    errors = sorted(first, key=lambda e: list(map(str, e.absolute_path)))
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
