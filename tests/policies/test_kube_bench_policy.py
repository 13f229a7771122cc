"""The kube-bench files infra/ consumes: a valid Job, a pinned benchmark table, an allow-list
the gate accepts."""

from __future__ import annotations

import re
from pathlib import Path

import kubernetes_validate
import pytest
from typer.testing import CliRunner

from platform_tools.cli import app
from platform_tools.kube_bench.allowlist import load_allowlist
from tests.policies.policy_files import POLICIES, load_yaml

KUBE_BENCH = POLICIES / "kube-bench"
# The gate's only writable mounts: kube-bench's results and the textfile collector directory.
WRITABLE_MOUNTS = {("kube-bench", "results"), ("gate", "textfile")}
FIXTURES = Path(__file__).resolve().parents[1] / "platform_tools" / "fixtures" / "kube_bench"


def job() -> dict:
    return load_yaml(KUBE_BENCH / "job.yaml")


def pod_spec() -> dict:
    return job()["spec"]["template"]["spec"]


def containers() -> list[dict]:
    spec = pod_spec()
    return [*spec.get("initContainers", []), *spec["containers"]]


@pytest.mark.parametrize("version", ["1.30", "1.33"])
def test_job_is_a_valid_kubernetes_job(version: str) -> None:
    kubernetes_validate.validate(job(), version, strict=True)


def test_job_reads_the_host_read_only_in_its_pid_namespace() -> None:
    spec = pod_spec()
    assert spec["hostPID"] is True
    assert spec["automountServiceAccountToken"] is False
    host_volumes = {volume["name"] for volume in spec["volumes"] if "hostPath" in volume}
    for container in containers():
        for mount in container["volumeMounts"]:
            writable = (container["name"], mount["name"]) in WRITABLE_MOUNTS
            if mount["name"] in host_volumes and not writable:
                assert mount.get("readOnly") is True, f"{container['name']}: {mount['name']}"
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]


def test_job_runs_the_pinned_image_with_a_benchmark_from_the_table() -> None:
    benchmarks = load_yaml(KUBE_BENCH / "benchmarks.yaml")
    bench = next(c for c in containers() if c["name"] == "kube-bench")
    assert bench["image"] == benchmarks["kube_bench_image"]
    assert re.fullmatch(r"[\w./-]+:v\d+\.\d+\.\d+", bench["image"])
    env = {item["name"]: item["value"] for item in bench["env"]}
    assert env["KUBE_BENCH_BENCHMARK"] in set(benchmarks["benchmarks"].values())
    assert "$(KUBE_BENCH_BENCHMARK)" in bench["args"]
    assert "--json" in bench["args"]


def test_benchmark_table_maps_kubernetes_minor_versions_to_cis_benchmarks() -> None:
    table = load_yaml(KUBE_BENCH / "benchmarks.yaml")["benchmarks"]
    assert table
    for version, benchmark in table.items():
        assert re.fullmatch(r"1\.\d+", version), version
        assert re.fullmatch(r"cis-1\.\d+", benchmark), benchmark
    minors = sorted(int(version.split(".")[1]) for version in table)
    assert minors == list(range(minors[0], minors[-1] + 1)), "a minor version is missing"


def test_gate_container_runs_the_gate_on_kube_bench_output() -> None:
    bench = next(c for c in containers() if c["name"] == "kube-bench")
    gate = next(c for c in pod_spec()["containers"] if c["name"] == "gate")
    results = bench["args"][bench["args"].index("--outputfile") + 1]
    assert gate["command"][:4] == ["platform-tools", "kube-bench", "gate", results]
    args = gate["args"]
    assert args[args.index("--metrics-file") + 1].endswith(".prom")
    assert gate["securityContext"]["runAsUser"] == 10001


def test_the_gate_accepts_the_job_arguments(tmp_path: Path) -> None:
    allowlist = tmp_path / "allowlist.yaml"
    allowlist.write_text((KUBE_BENCH / "allowlist.yaml").read_text())
    result = CliRunner().invoke(
        app,
        [
            "kube-bench",
            "gate",
            str(FIXTURES / "all_passing_with_totals.json"),
            "--allowlist",
            str(allowlist),
            "--metrics-file",
            str(tmp_path / "kube_bench.prom"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "kube_bench.prom").is_file()


def test_shipped_allowlist_is_valid_and_every_entry_has_reason_owner_and_expiry() -> None:
    allowlist = load_allowlist(KUBE_BENCH / "allowlist.yaml")
    assert allowlist.entries
    for entry in allowlist.entries.values():
        assert entry.reason and entry.owner
        # Shipped acceptances are reviewed: each one carries an end date.
        assert entry.expires is not None, entry.id
