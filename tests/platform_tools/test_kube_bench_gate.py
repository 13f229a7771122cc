"""The kube-bench gate, driven through the real CLI over fixtures of every JSON shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from platform_tools.cli import app
from platform_tools.kube_bench.results import parse_results

FIXTURES = Path(__file__).parent / "fixtures" / "kube_bench"
TWO_TARGET_SHAPES = [
    "current_with_totals.json",
    "list_without_totals.json",
    "concatenated_per_target.json",
]
# The fixtures' scored failures: 1.1.12 and 1.2.16 (control plane), 4.2.1 (kubelet).
SCORED_FAILURES = {"1.1.12", "1.2.16", "4.2.1"}

runner = CliRunner()


def run_gate(*args: str):
    result = runner.invoke(app, ["kube-bench", "gate", *args], terminal_width=200)
    assert "Traceback" not in result.output
    return result


def write_allowlist(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "allowlist.yaml"
    path.write_text(body)
    return path


FULL_ALLOWLIST = """\
accepted:
  - {id: "1.1.12", reason: etcd runs as root on kubeadm, owner: platform-team}
  - {id: "1.2.16", reason: profiling needed for the surge study, owner: sre, expires: 2999-12-31}
  - {id: "4.2.1", reason: kubelet anonymous auth behind firewall, owner: sre}
"""


@pytest.mark.parametrize("shape", TWO_TARGET_SHAPES)
def test_every_two_target_shape_reads_the_same_checks(shape: str) -> None:
    reference = parse_results((FIXTURES / TWO_TARGET_SHAPES[0]).read_text())
    results = parse_results((FIXTURES / shape).read_text())
    assert [(c.id, c.status, c.scored) for c in results.checks] == [
        (c.id, c.status, c.scored) for c in reference.checks
    ]
    assert results.counts() == {"PASS": 2, "FAIL": 4, "WARN": 2, "INFO": 1}


@pytest.mark.parametrize("shape", TWO_TARGET_SHAPES)
def test_unaccepted_scored_failures_block_in_every_shape(shape: str) -> None:
    result = run_gate(str(FIXTURES / shape))
    assert result.exit_code == 1
    assert "BLOCKED: 3 blocking" in result.output
    for check_id in SCORED_FAILURES:
        assert check_id in result.output


def test_single_controls_object_of_old_node_runs_is_read() -> None:
    result = run_gate(str(FIXTURES / "single_controls.json"))
    assert result.exit_code == 1
    assert "BLOCKED: 1 blocking" in result.output
    assert "4.2.1" in result.output


@pytest.mark.parametrize("shape", [*TWO_TARGET_SHAPES, "single_controls.json"])
def test_accepting_every_scored_failure_lets_the_gate_pass(shape: str, tmp_path: Path) -> None:
    allowlist = write_allowlist(tmp_path, FULL_ALLOWLIST)
    result = run_gate(str(FIXTURES / shape), "--allowlist", str(allowlist))
    assert result.exit_code == 0, result.output
    assert "PASSED: 0 blocking" in result.output


def test_all_passing_results_pass_without_an_allowlist() -> None:
    result = run_gate(str(FIXTURES / "all_passing_with_totals.json"))
    assert result.exit_code == 0
    assert "PASSED" in result.output


def test_warnings_and_unscored_failures_are_reported_but_never_block(tmp_path: Path) -> None:
    allowlist = write_allowlist(tmp_path, FULL_ALLOWLIST)
    result = run_gate(str(FIXTURES / "current_with_totals.json"), "--allowlist", str(allowlist))
    assert result.exit_code == 0
    assert "Warnings" in result.output
    assert "1.2.1" in result.output and "4.2.10" in result.output
    assert "Unscored failures" in result.output and "4.2.6" in result.output
    assert "2 warn" in result.output


def test_a_partial_allowlist_blocks_on_the_failures_it_does_not_cover(tmp_path: Path) -> None:
    allowlist = write_allowlist(
        tmp_path, 'accepted:\n  - {id: "1.1.12", reason: etcd as root, owner: platform-team}\n'
    )
    result = run_gate(str(FIXTURES / "current_with_totals.json"), "--allowlist", str(allowlist))
    assert result.exit_code == 1
    assert "BLOCKED: 2 blocking, 1 accepted" in result.output
    assert "etcd as root" in result.output


def test_an_expired_entry_no_longer_excuses_its_failure(tmp_path: Path) -> None:
    allowlist = write_allowlist(
        tmp_path,
        'accepted:\n  - {id: "4.2.1", reason: old waiver, owner: sre, expires: 2001-01-31}\n',
    )
    result = run_gate(str(FIXTURES / "single_controls.json"), "--allowlist", str(allowlist))
    assert result.exit_code == 1
    assert "expired on 2001-01-31" in result.output
    assert "BLOCKED: 1 blocking, 0 accepted" in result.output


def test_totals_that_disagree_with_the_results_are_reported() -> None:
    result = run_gate(str(FIXTURES / "totals_disagree.json"))
    assert result.exit_code == 1
    assert "differ" in result.output


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("truncated.json", "malformed JSON at line"),
        ("not_kube_bench.json", "not kube-bench output"),
        ("bad_status.json", "status (check 4.2.1): expected one of PASS, FAIL, WARN, INFO"),
        ("no_checks.json", "no check results found"),
        ("does_not_exist.json", "no such file"),
        (".", "is a directory"),
    ],
)
def test_unusable_results_exit_2_with_a_readable_reason(fixture: str, message: str) -> None:
    result = run_gate(str(FIXTURES / fixture))
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('accepted:\n  - {id: "4.2.1", owner: sre}\n', "accepted[0].reason: required"),
        ('accepted:\n  - {id: "4.2.1", reason: x}\n', "accepted[0].owner: required"),
        ("accepted:\n  - {id: 4.2, reason: x, owner: y}\n", "accepted[0].id: expected a quoted"),
        (
            'accepted:\n  - {id: "4.2.1", reason: x, owner: y, until: 2030-01-01}\n',
            "unknown field(s) until",
        ),
        (
            'accepted:\n  - {id: "4.2.1", reason: x, owner: y}\n'
            '  - {id: "4.2.1", reason: z, owner: y}\n',
            "check 4.2.1 is listed twice",
        ),
        (
            'accepted:\n  - {id: "4.2.1", reason: x, owner: y, expires: next year}\n',
            "expires: expected a date",
        ),
        ("entries: []\n", "single key 'accepted'"),
        ("accepted: [unclosed\n", "not valid YAML"),
    ],
)
def test_an_invalid_allowlist_exits_2_naming_the_field(
    body: str, message: str, tmp_path: Path
) -> None:
    allowlist = write_allowlist(tmp_path, body)
    result = run_gate(str(FIXTURES / "single_controls.json"), "--allowlist", str(allowlist))
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_metrics_are_written_as_a_textfile_with_catalogue_names(tmp_path: Path) -> None:
    allowlist = write_allowlist(
        tmp_path, 'accepted:\n  - {id: "1.1.12", reason: etcd as root, owner: platform-team}\n'
    )
    metrics = tmp_path / "kube_bench.prom"
    result = run_gate(
        str(FIXTURES / "current_with_totals.json"),
        "--allowlist",
        str(allowlist),
        "--metrics-file",
        str(metrics),
    )
    assert result.exit_code == 1
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics.read_text())
        for sample in family.samples
    }
    assert samples[("campus_kube_bench_blocking_failures", ())] == 2
    assert samples[("campus_kube_bench_allowlisted_failures", ())] == 1
    assert samples[("campus_kube_bench_checks", (("status", "fail"),))] == 4
    assert samples[("campus_kube_bench_checks", (("status", "warn"),))] == 2
    assert samples[("campus_kube_bench_gate_last_run_timestamp_seconds", ())] > 1.7e9
    # Written through a temporary file and a rename: nothing else is left in the directory.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["allowlist.yaml", "kube_bench.prom"]


@pytest.mark.parametrize(
    ("name", "message"),
    [("kube_bench.txt", "only reads files ending in .prom"), ("missing/k.prom", "does not exist")],
)
def test_an_unusable_metrics_path_exits_2(name: str, message: str, tmp_path: Path) -> None:
    result = run_gate(
        str(FIXTURES / "all_passing_with_totals.json"), "--metrics-file", str(tmp_path / name)
    )
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_a_missing_allowlist_file_exits_2(tmp_path: Path) -> None:
    result = run_gate(
        str(FIXTURES / "single_controls.json"), "--allowlist", str(tmp_path / "absent.yaml")
    )
    assert result.exit_code == 2
    assert "no such allow-list file" in " ".join(result.output.split())


def test_results_with_a_byte_order_mark_are_read(tmp_path: Path) -> None:
    results = tmp_path / "bom.json"
    results.write_bytes(b"\xef\xbb\xbf" + (FIXTURES / "all_passing_with_totals.json").read_bytes())
    assert run_gate(str(results)).exit_code == 0


def test_json_output_carries_the_decision_and_the_exit_code_still_blocks() -> None:
    result = run_gate(str(FIXTURES / "single_controls.json"), "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["passed"] is False
    assert [check["id"] for check in document["blocking"]] == ["4.2.1"]
