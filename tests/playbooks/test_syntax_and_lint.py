"""Every playbook parses, and the whole Ansible tree passes ansible-lint's production profile."""

import subprocess

import pytest

from .ansible_cli import BIN, PLAYBOOKS, ansible_env, run_playbook

PLAYBOOK_FILES = sorted(path.name for path in PLAYBOOKS.glob("*.yml"))


def test_every_expected_playbook_exists() -> None:
    assert {
        "database.yml",
        "single-host.yml",
        "cluster.yml",
        "monitoring.yml",
        "site.yml",
        "validate.yml",
    } <= set(PLAYBOOK_FILES)


@pytest.mark.parametrize("playbook", PLAYBOOK_FILES)
def test_playbook_passes_syntax_check(playbook: str) -> None:
    run = run_playbook(playbook, "--syntax-check", touches_machine=False)
    assert run.returncode == 0, run.tail()


def test_ansible_lint_production_profile_has_no_findings() -> None:
    proc = subprocess.run(
        [str(BIN / "ansible-lint"), "--offline", "--nocolor", "--profile", "production"],
        cwd=PLAYBOOKS,
        env=ansible_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert "0 failure(s), 0 warning(s)" in output, output[-4000:]
    assert "Profile 'production' was required, and it passed" in output, output[-4000:]


@pytest.mark.parametrize("playbook", ["database.yml", "monitoring.yml", "single-host.yml"])
def test_each_playbook_with_a_node_exporter_configures_it_once(playbook: str) -> None:
    # Listed, not run: no host is contacted.
    run = run_playbook(playbook, "--list-tasks", "--tags", "node_exporter", touches_machine=False)
    assert run.returncode == 0, run.tail()
    assert run.output.count("node_exporter : Write the node exporter command line options") == 1
