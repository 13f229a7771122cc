"""Playbooks that must not change this machine run in check mode: every task resolves.

cluster.yml prepares Kubernetes nodes and the baseline of site.yml hardens SSH
and the clock; neither belongs on a build machine, so they are dry runs here.
"""

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from .ansible_cli import run_playbook

# apt in check mode reads the package lists the converge tests write.
pytestmark = pytest.mark.xdist_group("ansible-converge")


def make_standin_bundle(path: Path) -> str:
    """A bundle of the shape k8s_node expects, returning its sha256 checksum.

    Stand-in: the real Kubernetes bundle comes from an artifact store this
    machine cannot reach, and check mode only reads it.
    """
    with tarfile.open(path, "w:gz") as bundle:
        for name in ("kubelet", "kubeadm", "kubectl"):
            data = b"#!/bin/sh\nexit 0\n"
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            bundle.addfile(info, io.BytesIO(data))
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_cluster_playbook_runs_in_check_mode_and_changes_nothing(tmp_path: Path) -> None:
    bundle = tmp_path / "kubernetes-node-bundle.tar.gz"
    checksum = make_standin_bundle(bundle)
    # Stand-in: falco.org is out of this machine's reach; check mode only reads the key.
    falco_key = tmp_path / "falcosecurity-packages.asc"
    falco_key.write_text(
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n-----END PGP PUBLIC KEY BLOCK-----\n"
    )
    kubelet_config = Path("/var/lib/kubelet/config.yaml")
    existed_before = kubelet_config.exists()

    run = run_playbook(
        "cluster.yml",
        "--check",
        "-e",
        f"k8s_node_bundle_url=file://{bundle}",
        "-e",
        f"k8s_node_bundle_checksum={checksum}",
        "-e",
        f"falco_node_apt_key_url=file://{falco_key}",
    )

    assert run.returncode == 0, run.tail()
    assert run.recap()["failed"] == 0
    # Both plays ran their roles, not only the validation.
    assert "TASK [k8s_node : Write the kubelet configuration]" in run.output
    assert "TASK [falco_node : Install the platform's rules]" in run.output
    assert kubelet_config.exists() == existed_before


def test_cluster_playbook_refuses_a_real_run_without_systemd(tmp_path: Path) -> None:
    bundle = tmp_path / "kubernetes-node-bundle.tar.gz"
    checksum = make_standin_bundle(bundle)
    run = run_playbook(
        "cluster.yml",
        "-e",
        f"k8s_node_bundle_url=file://{bundle}",
        "-e",
        f"k8s_node_bundle_checksum={checksum}",
        "-e",
        "campus_service_manager=sysvinit",
    )
    assert run.returncode != 0
    assert "k8s_node needs systemd" in run.output
    assert run.recap()["changed"] == 0


def test_baseline_of_site_playbook_runs_in_check_mode() -> None:
    sshd_hardening = Path("/etc/ssh/sshd_config.d/60-campus.conf")
    existed_before = sshd_hardening.exists()

    run = run_playbook("site.yml", "--check", "--tags", "common")

    assert run.returncode == 0, run.tail()
    assert run.recap()["failed"] == 0
    assert "TASK [common : Write the SSH hardening]" in run.output
    assert "TASK [common : Apply the sysctl baseline]" in run.output
    assert sshd_hardening.exists() == existed_before
