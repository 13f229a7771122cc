"""Hostile shapes in every field of every request body: deep nesting, long strings, huge arrays,
numbers past 64 bits. Whatever the field, the answer is a 4xx problem naming it, never a 5xx.

The bodies come from the request schemas themselves (every property present, each value valid),
then one field at a time is replaced, so each hostile value reaches the check that owns it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from app.http.body import MAX_ARRAY_ITEMS, MAX_NESTING
from app.http.routes import ROUTES
from app.http.schemas import REQUESTS
from tests.app.conftest import token_for

HUGE_NUMBERS = (2**63, 2**64, -(2**63) - 1, 10**30, -(10**30), 1e308)
LONG_STRING = "x" * 100_000


def example(schema: dict[str, Any], defs: dict[str, Any], depth: int = 0) -> Any:
    """A value valid for `schema`, with every optional property present (trees kept small)."""
    if "$ref" in schema:
        return example(defs[schema["$ref"].rsplit("/", 1)[1]], defs, depth + 1)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return example(schema[key][0], defs, depth)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object":
        return {
            name: example(sub, defs, depth + 1)
            for name, sub in schema.get("properties", {}).items()
            if depth < 6 or name in schema.get("required", ())
        }
    if kind == "array":
        if depth >= 6:
            return []
        return [example(schema.get("items", {}), defs, depth + 1)] * max(
            1, schema.get("minItems", 1)
        )
    if kind == "integer":
        return max(schema.get("minimum", 1), 1) if schema.get("maximum", 1) >= 1 else 0
    if kind == "boolean":
        return False
    if kind == "string":
        return _string(schema)
    return None


def _string(schema: dict[str, Any]) -> str:
    pattern = schema.get("pattern", "")
    if ("format" in schema and schema["format"] == "email") or "@" in pattern:
        return "ada@example.org"
    if pattern.startswith("^\\d{4}-\\d{4}"):
        return "2026-2027"
    if pattern.startswith("^\\d{4}-\\d{2}-\\d{2}T") or schema.get("format") == "date-time":
        return "2026-09-01T08:00:00Z"
    if pattern.startswith("^\\d{4}-\\d{2}-\\d{2}") or schema.get("format") == "date":
        return "2026-09-01"
    return "A" * max(1, schema.get("minLength", 1))


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every (path, value) in a JSON document, containers included."""
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from leaves(child, (*path, key))
    elif isinstance(value, list) and value:
        yield from leaves(value[0], (*path, 0))


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copied = copy.deepcopy(document)
    target = copied
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copied


def nested(depth: int) -> Any:
    value: Any = 1
    for i in range(depth):
        value = [value] if i % 2 else {"children": value}
    return value


def hostile_values(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, bool):
        yield "number for a boolean", 2**64
    elif isinstance(value, int):
        for number in HUGE_NUMBERS:
            yield f"number {number!r}", number
    elif isinstance(value, str):
        yield "long string", LONG_STRING
        yield "NUL character", "a\x00b"
    elif isinstance(value, list):
        item = value[0] if value and not isinstance(value[0], (dict, list)) else {}
        yield "huge array", [item] * MAX_ARRAY_ITEMS
        yield "array past every limit", [item] * (MAX_ARRAY_ITEMS + 1)
    if isinstance(value, (dict, list)) or value is None:
        yield "deep nesting", nested(MAX_NESTING * 3)


def operations() -> Iterator[tuple[str, str, str]]:
    for route in ROUTES:
        for method, op in route.ops.items():
            if op.request:
                yield method, route.path, op.request


@pytest.mark.parametrize(("method", "path", "request_schema"), list(operations()))
def test_every_field_refuses_hostile_values_with_a_named_4xx(
    client, engine, method, path, request_schema
):
    headers = {**token_for(engine, "admin"), "Content-Type": "application/json"}
    schema = REQUESTS[request_schema]
    base = example(schema, schema.get("$defs", {}))
    url = path.replace("{", "").replace("}", "")
    url = "/".join("1" if part.endswith("_id") else part for part in url.split("/"))
    tried = 0
    for field, value in list(leaves(base)):
        for label, hostile in hostile_values(value):
            body = json.dumps(replaced(base, field, hostile))
            answer = client.simulate_request(method, url, headers=headers, body=body)
            tried += 1
            where = f"{method} {path} {'.'.join(map(str, field)) or 'body'}: {label}"
            assert answer.status_code < 500, (where, answer.text[:500])
            if answer.status_code >= 400:
                assert answer.headers["content-type"] == "application/problem+json", where
            if answer.status_code in (400, 413, 422):
                assert answer.json["errors"][0]["field"], where
    assert tried > 0


def deep_curriculum(levels: int) -> str:
    """A curriculum whose one element tree is `levels` deep, written as text (the encoder
    itself would recurse)."""
    head = '{"code": "E%d", "label": "x", "kind": "unit", "optional": false, "children": ['
    leaf = '{"code": "LEAF", "label": "x", "kind": "course", "optional": false}'
    tree = "".join(head % i for i in range(levels)) + leaf + "]}" * levels
    return (
        '{"programme": {"code": "DEEP", "label": "x"}, "version": {"code": "DEEP-1", '
        '"label": "x", "curriculum_period": "2024-2029"}, "steps": [{"code": "DEEP-L1", '
        '"label": "x", "year_index": 1, "elements": [' + tree + "]}]}"
    )


@pytest.mark.parametrize("levels", [13, 100, 165, 400])
def test_a_deeply_nested_curriculum_is_422_naming_the_field(client, staff, levels):
    answer = client.simulate_post("/api/v1/curricula", headers=staff, body=deep_curriculum(levels))
    assert answer.status_code == 422, answer.text[:300]
    field = answer.json["errors"][0]["field"]
    assert field.startswith("steps[0].elements[0].children[0]"), field
    assert len(answer.text) < 10_000


def test_nesting_past_the_json_parser_is_400_naming_the_body(client, staff):
    answer = client.simulate_post("/api/v1/curricula", headers=staff, body=deep_curriculum(50_000))
    assert answer.status_code == 400
    assert answer.json["errors"][0]["field"] == "body"
