"""One Kubernetes release for the whole platform, and pins that say when they were checked."""

import re

import pytest
import yaml
from campus_infra import charts
from campus_infra.namespaces import PSA_VERSION
from campus_infra.versions import KUBERNETES_VERSION_FILE, kubernetes_minor, kubernetes_version

from tests.infra.conftest import REPO_ROOT, STACKS, Rendered
from tests.infra.upstream import sources, vendored

PLAYBOOKS = REPO_ROOT / "playbooks"


def test_the_nodes_kubelet_is_the_release_every_stack_targets(rendered: dict[str, Rendered]):
    node_defaults = yaml.safe_load((PLAYBOOKS / "roles/k8s_node/defaults/main.yml").read_text())
    assert node_defaults["k8s_node_version"] == "{{ campus_kubernetes_version }}"
    shared = yaml.safe_load(KUBERNETES_VERSION_FILE.read_text())["campus_kubernetes_version"]
    assert shared == kubernetes_version()
    assert f"v{kubernetes_minor()}" == PSA_VERSION
    for stack in STACKS:
        for namespace in rendered[stack].of_kind("Namespace"):
            labels = namespace["metadata"]["labels"]
            assert labels["pod-security.kubernetes.io/enforce-version"] == PSA_VERSION


def test_no_inventory_or_stack_sets_its_own_kubernetes_version():
    for path in (PLAYBOOKS / "inventories").rglob("*.yml"):
        text = path.read_text()
        assert "k8s_node_version" not in text, path
        assert not re.search(r"\b1\.3[0-9]\.[0-9]+\b", text), path
    for path in REPO_ROOT.glob("Pulumi.*.yaml"):
        assert "kubernetesVersion" not in path.read_text(), path


def test_benchmark_table_agrees_with_kube_bench_own_mapping():
    mapping = vendored("kube-bench/version_mapping.json")
    table = yaml.safe_load((REPO_ROOT / "policies/kube-bench/benchmarks.yaml").read_text())
    (entry,) = [e for e in sources()["files"] if e["file"] == "kube-bench/version_mapping.json"]
    assert table["kube_bench_image"].endswith(f":{entry['tag']}")
    for version, benchmark in table["benchmarks"].items():
        assert mapping[version] == benchmark, version
    assert kubernetes_minor() in table["benchmarks"]


@pytest.mark.parametrize("chart", charts.ALL_CHARTS, ids=lambda c: c.chart)
def test_every_chart_pin_names_its_source_tag_and_the_day_it_was_checked(chart):
    assert chart.tag.endswith(chart.version)
    assert re.fullmatch(r"20[0-9]{2}-[01][0-9]-[0-3][0-9]", chart.checked)


def test_postgres_image_is_a_current_standard_image_not_the_deprecated_system_type():
    tag = charts.POSTGRES_IMAGE.rsplit(":", 1)[1]
    assert re.fullmatch(r"1[6-9]\.[0-9]+-(standard|minimal)-(bookworm|trixie)", tag)
    assert int(tag.split(".")[1].split("-")[0]) >= 15
    assert charts.POSTGRES_IMAGE_CHECKED
