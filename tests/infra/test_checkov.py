"""checkov (Kubernetes framework, offline) over every stack's rendered manifests: no failed
check, and every skip is an annotation on the resource with a reason."""

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import REPO_ROOT, STACKS, Rendered, shared_product

CHECKOV = REPO_ROOT / ".tools" / "checkov" / "bin" / "checkov"
# Offline: no platform key, no policy download, no mapping fetch, no update check.
OFFLINE_ENV = {
    "BC_SKIP_MAPPING": "TRUE",
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
    "BC_API_KEY": "",
    "CKV_NO_UPDATE_CHECK": "true",
}


def _scan(folder: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BC_", "CKV_", "PRISMA_"))}
    done = subprocess.run(
        [str(CHECKOV), "-d", str(folder), "--framework", "kubernetes", "--compact",
         "--skip-download", "--output", "json"],
        capture_output=True, text=True, check=False, env={**env, **OFFLINE_ENV},
    )  # fmt: skip
    # checkov exits 1 when a check fails; anything else than JSON on stdout is a crash.
    try:
        report = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"checkov did not report (exit {done.returncode}): {done.stderr[-2000:]}")
    return report[0] if isinstance(report, list) else report


@pytest.fixture(scope="session")
def checkov_reports(rendered: dict[str, Rendered], tmp_path_factory) -> dict[str, dict[str, Any]]:
    """One checkov run per stack (both owners' objects), two at a time, once per test run."""
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: run `make {CHECKOV.parent.parent}/.installed`")

    def produce(root: Path) -> None:
        # Both owners' objects in one tree per stack (file names never collide: one object
        # per file, named by kind and name).
        for stack in STACKS:
            for folder in (rendered[stack].folder, rendered[stack].platform):
                shutil.copytree(folder, root / "trees" / stack, dirs_exist_ok=True)
        with ThreadPoolExecutor(max_workers=2) as pool:
            reports = pool.map(lambda s: _scan(root / "trees" / s), STACKS)
            for stack, report in zip(STACKS, reports, strict=True):
                (root / f"{stack}.json").write_text(json.dumps(report))

    root = shared_product(tmp_path_factory, "checkov", produce)
    return {s: json.loads((root / f"{s}.json").read_text()) for s in STACKS}


@pytest.mark.parametrize("stack", STACKS)
def test_checkov_finds_no_failed_check(checkov_reports, stack):
    report = checkov_reports[stack]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['check_name']})"
        for c in report["results"]["failed_checks"]
    ]
    assert not failed, "\n".join(failed)
    assert report["summary"]["passed"] > 200
    assert report["summary"]["parsing_errors"] == 0


@pytest.mark.parametrize("stack", STACKS)
def test_every_checkov_skip_is_annotated_with_a_reason(checkov_reports, rendered, stack):
    for check in checkov_reports[stack]["results"]["skipped_checks"]:
        assert len(check["check_result"].get("suppress_comment", "").strip()) > 10, check
    for manifest in rendered[stack].manifests():
        for key, value in (manifest["metadata"].get("annotations") or {}).items():
            if key.startswith("checkov.io/skip"):
                check, _, reason = value.partition("=")
                assert check.startswith("CKV") and len(reason) > 10, (key, value)


@pytest.fixture(scope="session")
def unskipped_report(rendered: dict[str, Rendered], tmp_path_factory) -> dict[str, Any]:
    """One scan of prod's skip-annotated objects without their annotations, plus a
    deliberately weakened copy of the app Deployment."""
    import yaml

    def produce(folder: Path) -> None:
        for manifest in rendered["prod"].manifests():
            annotations = manifest["metadata"].get("annotations") or {}
            if any(k.startswith("checkov.io/skip") for k in annotations):
                manifest["metadata"]["annotations"] = {
                    k: v for k, v in annotations.items() if not k.startswith("checkov.io/skip")
                }
                name = f"{manifest['kind']}-{manifest['metadata']['name']}.yaml"
                (folder / name).write_text(yaml.safe_dump(manifest))
        weakened = rendered["dev"].one("Deployment", "campus-app")
        weakened["metadata"]["name"] = "weakened"
        container = weakened["spec"]["template"]["spec"]["containers"][0]
        container["securityContext"]["privileged"] = True
        del container["livenessProbe"]
        (folder / "weakened.yaml").write_text(yaml.safe_dump(weakened))
        (folder.parent / "infra-unskipped.json").write_text(json.dumps(_scan(folder)))

    folder = shared_product(tmp_path_factory, "unskipped", produce)
    return json.loads((folder.parent / "infra-unskipped.json").read_text())


def _failed(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]}


def test_checkov_does_flag_a_weakened_deployment(unskipped_report):
    """The scan is live: a privileged container without probes is reported."""
    failed = _failed(unskipped_report)
    for check in ("CKV_K8S_16", "CKV_K8S_8"):
        assert (check, "Deployment.campus.weakened") in failed


def test_every_skip_is_needed(checkov_reports, unskipped_report):
    """Without its annotations, each skipping object fails every check it skips."""
    skipped = {(c["check_id"], c["resource"])
               for c in checkov_reports["prod"]["results"]["skipped_checks"]}  # fmt: skip
    assert skipped
    assert skipped <= _failed(unskipped_report), sorted(skipped - _failed(unskipped_report))
