"""Fuzz every documented operation with valid and invalid data: whatever the input, no 5xx, and
every answer matches the contract's status codes, content types and schemas (schemathesis)."""

from __future__ import annotations

import falcon.testing
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from app.http.app import create_app
from tests.app.conftest import token_for
from tests.app.fixtures import School

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def test_every_operation_answers_within_its_contract(settings, engine):
    app = create_app(settings, engine)
    School(falcon.testing.TestClient(app), token_for(engine, "staff"))
    admin = token_for(engine, "admin")
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = {f"{m.upper()} {p}" for p, item in app_paths(app).items() for m in item}
    # Schemathesis leaves out the endpoint that serves the schema itself.
    assert {op.label for op in operations} == documented - {"GET /openapi.json"}
    for operation in operations:
        for mode in GenerationMode:
            fuzz(operation, mode, admin)


def app_paths(app) -> dict:
    return falcon.testing.TestClient(app).simulate_get("/openapi.json").json["paths"]


def fuzz(operation, mode: GenerationMode, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=12,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        # An operation without parameters or body has no invalid input to try.
        if mode is not GenerationMode.NEGATIVE:
            raise
