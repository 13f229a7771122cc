"""Each runbook test gets a fresh API stand-in holding a healthy campus cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.platform_tools.kube_api_standin import KubeApiStandIn, running_standin
from tests.platform_tools.kube_objects import campus_cluster


@pytest.fixture
def standin() -> Iterator[KubeApiStandIn]:
    with running_standin() as server:
        campus_cluster(server)
        yield server


@pytest.fixture
def kubeconfig(standin: KubeApiStandIn, tmp_path: Path) -> Path:
    return standin.write_kubeconfig(tmp_path / "kubeconfig")
