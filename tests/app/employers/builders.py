"""Builders for the employer tests: valid SIRETs, organisations, requests, rules."""

from __future__ import annotations

from typing import Any

import falcon.testing

from app.domain.siret import luhn_valid
from tests.app.fixtures import YEAR, post


def valid_siret(seed: int) -> str:
    """A Luhn-valid 14-digit SIRET derived from `seed` (13 digits plus a check digit)."""
    body = f"{seed:013d}"
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable: one check digit always fits")


def sign_up(client: falcon.testing.TestClient, seed: int, email: str | None = None) -> Any:
    """Register an organisation; returns {"id", "token", "headers"}."""
    body = {
        "siret": valid_siret(seed),
        "name": f"Company {seed}",
        "contact_email": email or f"hr{seed}@company.example",
    }
    created = post(client, "/api/v1/organisations", body, {})
    return {**created, "headers": {"Authorization": f"Bearer {created['token']}"}}


def employees(count: int, hours: int, prefix: str = "E") -> list[dict[str, Any]]:
    return [
        {
            "external_id": f"{prefix}{i}",
            "first_name": "Grace",
            "last_name": "Hopper",
            "email": f"{prefix.lower()}{i}@company.example",
            "hours": hours,
        }
        for i in range(count)
    ]


def request_body(step_id: int, people: list[dict[str, Any]], reference: str = "R1") -> Any:
    return {
        "reference": reference,
        "step_id": step_id,
        "academic_year": YEAR,
        "start_date": "2026-09-01",
        "employees": people,
    }


def rule(effective_from: str = "2026-08-01", **overrides: Any) -> dict[str, Any]:
    return {
        "effective_from": effective_from,
        "max_hours_per_employee": 10_000,
        "max_employees_per_request": 5_000,
        "max_total_hours_per_organisation": 100_000_000,
        **overrides,
    }
