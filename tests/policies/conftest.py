"""Fixtures of the policies tests."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="session")
def promtool() -> str:
    """The real promtool (Debian package `prometheus`, installed by mk/policies.mk)."""
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is not installed: run `make policies-setup` (apt package prometheus)")
    return path
