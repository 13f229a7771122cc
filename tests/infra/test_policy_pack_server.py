"""The policy pack as the Pulumi engine meets it: `infra/policy/__main__.py` serves the
analyzer gRPC protocol, lists our policies and judges resources sent to it.

Stand-in: no Pulumi CLI here, so this test plays the engine's side of the protocol with the
generated client stubs that ship in the pulumi package.
"""

import copy
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from tests.infra.conftest import INFRA, Rendered


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    server = subprocess.Popen(
        [sys.executable, "__main__.py"], cwd=INFRA / "policy", stdout=subprocess.PIPE, text=True
    )
    try:
        port = server.stdout.readline().strip()  # the pack prints its port first
        assert port.isdigit(), f"policy pack did not start: {port!r}"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _analyze(stub, type_: str, name: str, props: dict[str, Any]) -> list[tuple[str, str]]:
    struct = struct_pb2.Struct()
    struct.update(props)
    request = analyzer_pb2.AnalyzeRequest(
        type=type_, properties=struct, name=name,
        urn=f"urn:pulumi:test::campus-platform::{type_}::{name}",
        options=analyzer_pb2.AnalyzerResourceOptions(),
    )  # fmt: skip
    response = stub.Analyze(request, timeout=20)
    return [(d.policyName, d.message) for d in response.diagnostics]


def test_pack_announces_every_policy(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=20)
    assert info.name == "campus-platform"
    assert {p.name for p in info.policies} == {
        "pod-security-restricted", "probes-and-resources", "no-latest-tag",
        "secrets-never-inline", "pods-selected-by-default-deny", "pdb-when-replicated",
    }  # fmt: skip


def test_pack_passes_the_app_deployment_and_stops_a_latest_image(analyzer, rendered):
    prod: Rendered = rendered["prod"]
    (shared,) = [r for r in prod.records if r["type"] == "kubernetes:apps/v1:Deployment"]
    record = copy.deepcopy(shared)  # the capture is shared by every test of the session
    assert _analyze(analyzer, record["type"], record["name"], record["inputs"]) == []
    container = record["inputs"]["spec"]["template"]["spec"]["containers"][0]
    container["image"] = "registry.example.org/campus/app:latest"
    found = _analyze(analyzer, record["type"], record["name"], record["inputs"])
    assert [policy for policy, _ in found] == ["no-latest-tag"]
    assert "uses the latest tag" in found[0][1]
