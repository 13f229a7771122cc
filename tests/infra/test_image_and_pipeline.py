"""The app's Containerfile (hadolint, pinned base, non-root, no build tools at run time)
and the GitOps pipeline (GitLab CI schema, offline; stage order)."""

import itertools
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.infra.conftest import REPO_ROOT

BIN = REPO_ROOT / ".venv" / "bin"
CONTAINERFILE = REPO_ROOT / "Containerfile"
PIPELINE = REPO_ROOT / ".gitlab-ci.yml"
PINNED_PYTHON = re.compile(r"^python:3\.(\d+)\.\d+-slim-bookworm$")


def _stages() -> list[list[str]]:
    """Containerfile instructions grouped by stage (continuation lines joined)."""
    text = CONTAINERFILE.read_text().replace("\\\n", " ")
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        stages[-1].append(line)
    return stages


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO_ROOT)


def test_hadolint_passes_on_the_containerfile():
    done = _run(str(BIN / "hadolint"), "--failure-threshold", "info", str(CONTAINERFILE))
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_does_flag_an_unpinned_base(tmp_path: Path):
    bad = tmp_path / "Containerfile"
    bad.write_text("FROM python\nRUN pip install uv\n")
    assert _run(str(BIN / "hadolint"), str(bad)).returncode != 0


def test_every_stage_starts_from_the_same_exactly_pinned_python():
    bases = [stage[0].split()[1] for stage in _stages()]
    assert len(bases) >= 2 and len(set(bases)) == 1
    match = PINNED_PYTHON.match(bases[0])
    assert match, bases[0]
    requires = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert requires["requires-python"] == ">=3.11" and int(match.group(1)) >= 11


def test_dependencies_come_from_the_lock_without_dev_groups():
    build = " ".join(_stages()[0])
    syncs = re.findall(r"uv sync[^&]*", build)
    assert syncs
    for sync in syncs:
        for flag in ("--frozen", "--no-dev", "--no-default-groups"):
            assert flag in sync, sync


def test_final_stage_runs_as_uid_10001_with_no_build_tools():
    final = _stages()[-1]
    text = "\n".join(final)
    assert "USER 10001:10001" in final
    assert re.search(r"useradd .*--uid 10001", text)
    assert not re.search(r"\b(uv|pip install|apt-get|gcc|build-essential)\b", text)
    assert 'ENTRYPOINT ["python", "-m", "app"]' in final
    assert 'CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]' in final
    assert "EXPOSE 8000" in final


def test_build_context_holds_only_what_the_image_needs():
    ignore = (REPO_ROOT / ".containerignore").read_text()
    assert (REPO_ROOT / ".dockerignore").read_text() == ignore
    lines = [line for line in ignore.splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*"
    assert {"!app/", "!platform_tools/", "!uv.lock", "!pyproject.toml"} <= set(lines)


def test_pipeline_matches_the_gitlab_ci_schema_offline():
    done = _run(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci",
                str(PIPELINE))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_schema_check_does_reject_a_broken_pipeline(tmp_path: Path):
    bad = tmp_path / ".gitlab-ci.yml"
    bad.write_text("stages: [test]\nunit:\n  stage: test\n  script: 42\n  when: sometimes\n")
    done = _run(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(bad))
    assert done.returncode != 0


def test_pipeline_tests_then_builds_then_renders_then_publishes():
    pipeline = yaml.safe_load(PIPELINE.read_text())
    assert pipeline["stages"] == ["test", "build", "render", "publish"]
    assert pipeline["test"]["script"] == ["bash .ci/run"]
    render = pipeline["render-manifests"]
    assert any("make render IMAGE=" in line for line in render["script"])
    assert "build/manifests/" in render["artifacts"]["paths"]
    needs = {n["job"] for n in pipeline["publish-dev"]["needs"]}
    assert needs == {"build-image", "render-manifests"}
    # The image is referenced by digest in what Argo CD deploys.
    assert any("@$(cat image.digest)" in line for line in pipeline["build-image"]["script"])


PROMOTION = ["dev", "staging", "prod", "site-b"]


def test_stacks_are_published_one_at_a_time_in_promotion_order():
    pipeline = yaml.safe_load(PIPELINE.read_text())
    publishers = {name: job for name, job in pipeline.items()
                  if name.startswith("publish-")}  # fmt: skip
    assert set(publishers) == {f"publish-{stack}" for stack in PROMOTION}
    for before, stack in itertools.pairwise(PROMOTION):
        needs = {n["job"] for n in publishers[f"publish-{stack}"]["needs"]}
        assert f"publish-{before}" in needs, stack
    template = pipeline[".publish-stack"]
    for stack in PROMOTION:
        job = publishers[f"publish-{stack}"]
        assert job["extends"] == ".publish-stack" and job["variables"] == {"STACK": stack}
        manual = [rule.get("when") == "manual" for rule in job["rules"]]
        assert all(manual) == (stack in ("prod", "site-b")), stack
    # Each job touches its own stack's folder only.
    script = "\n".join(template["script"])
    assert '"build/manifests/$STACK/."' in script and 'git add --all "manifests/$STACK"' in script
    assert "build/manifests/." not in script


def test_the_deploy_token_is_never_in_a_url_or_a_file():
    pipeline = yaml.safe_load(PIPELINE.read_text())
    for name, job in pipeline.items():
        for line in job.get("script", []) if isinstance(job, dict) else []:
            assert not re.search(r"https://[^\s\"']*\$\{?GITOPS_TOKEN", line), (name, line)
            if "GITOPS_TOKEN" in line:
                # Only the credential helper reads it, at run time (single-quoted: the
                # variable is expanded by the helper, not written into ~/.gitconfig).
                assert line.startswith("git config --global credential.helper '!f()"), line


@pytest.mark.parametrize(
    "path", [".gitlab-ci.yml", "Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.staging.yaml",
             "Pulumi.prod.yaml", "Pulumi.site-b.yaml", "infra/policy/PulumiPolicy.yaml"],
)  # fmt: skip
def test_our_yaml_passes_yamllint_strict(path: str):
    done = _run(str(BIN / "yamllint"), "--strict", path)
    assert done.returncode == 0, done.stdout
