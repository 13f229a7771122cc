"""Marks every test with the area it lives in, so `pytest -m <area>` selects one part."""

import logging
from pathlib import Path

import pytest
import structlog

AREAS = {"app", "infra", "playbooks", "policies", "platform_tools", "loadtests", "bench"}
TESTS_ROOT = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(item.fspath).relative_to(TESTS_ROOT).parts
        if parts and parts[0] in AREAS:
            item.add_marker(getattr(pytest.mark, parts[0]))


@pytest.fixture(autouse=True)
def default_logging():
    """Each test starts from the default logging set-up: a test that pointed the logs at a
    stream its runner has since closed must not break the tests after it."""
    yield
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()
