"""The Pulumi program under mocks: what each stack declares, and how it refuses bad input."""

import collections
from pathlib import Path

import pytest
from campus_infra.app import migration_job_name
from campus_infra.k8s import APP_UID
from campus_infra.namespaces import NAMESPACES

from tests.infra.conftest import REPO_ROOT, STACKS, Rendered, capture_cli, load_capture

COMPONENTS = {
    "campus:platform:Namespaces",
    "campus:platform:NetworkPolicies",
    "campus:platform:Monitoring",
    "campus:platform:Database",
    "campus:platform:Security",
    "campus:platform:GitOps",
}
EXPECTED_KINDS = {
    "Namespace", "NetworkPolicy", "ServiceAccount", "Job", "Deployment", "Service", "Ingress",
    "HorizontalPodAutoscaler", "ServiceMonitor", "PodMonitor", "PrometheusRule", "Cluster",
    "ScheduledBackup", "ObjectStore", "Application", "CronJob", "ConfigMap",
    "PersistentVolumeClaim",
}  # fmt: skip


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_composes_one_component_per_concern(rendered: dict[str, Rendered], stack):
    types = {r["type"] for r in rendered[stack].records if not r["custom"]}
    assert types == COMPONENTS


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_declares_the_whole_platform(rendered: dict[str, Rendered], stack):
    kinds = {m["kind"] for m in rendered[stack].manifests()}
    assert kinds >= EXPECTED_KINDS
    assert len(rendered[stack].releases()) == 7


def _app_pod(r: Rendered) -> dict:
    return r.one("Deployment", "campus-app")["spec"]["template"]["spec"]


@pytest.mark.parametrize("stack", STACKS)
def test_app_pods_are_hardened(rendered: dict[str, Rendered], stack):
    pod = _app_pod(rendered[stack])
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == APP_UID
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    # Writable: /tmp only; the database CA is a read-only Secret volume.
    assert {v["name"] for v in pod["volumes"]} == {"tmp", "db-ca"}
    writable = [m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")]
    assert writable == ["/tmp"]


@pytest.mark.parametrize("stack", STACKS)
def test_app_probes_drain_and_rollout(rendered: dict[str, Rendered], stack):
    deployment = rendered[stack].one("Deployment", "campus-app")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    wait = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > wait > 0
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert container["args"] == ["serve", "--host", "0.0.0.0", "--port", "8000"]  # noqa: S104
    for key in ("requests", "limits"):
        assert set(container["resources"][key]) == {"cpu", "memory"}


@pytest.mark.parametrize("stack", STACKS)
def test_the_app_runs_in_production_with_its_own_exam_notice_key(rendered, stack):
    pod = _app_pod(rendered[stack])
    (container,) = pod["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["APP_ENV"]["value"] == "production"
    # Never a value in the manifests (they are published): the prerequisite Secret's key.
    assert "value" not in env["EXAM_TOKEN_KEY"]
    assert env["EXAM_TOKEN_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "campus-exam-token",
        "key": "key",
    }


@pytest.mark.parametrize("stack", STACKS)
def test_database_url_comes_from_the_operator_secret_and_verifies_the_server(rendered, stack):
    from campus_infra.database_client import CA_DIR, CA_FILE

    r = rendered[stack]
    pod = _app_pod(r)
    (container,) = pod["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert "value" not in env["DATABASE_URL"]
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "campus-db-app",
                                                                "key": "uri"}  # fmt: skip
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == (
        "http://otel-collector.monitoring.svc:4318"
    )
    # The CA certificate alone is mounted where the URL says.
    (volume,) = [v for v in pod["volumes"] if v["name"] == "db-ca"]
    assert volume["secret"]["items"] == [{"key": "ca.crt", "path": "ca.crt"}]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "db-ca"]
    assert mount == {"name": "db-ca", "mountPath": CA_DIR, "readOnly": True}
    # Pulumi reads the operator's own Secrets (after the Cluster is Ready) and writes the
    # app's copy; credentials are never rendered to a file.
    reads = {rec["read"] for rec in r.records if "read" in rec}
    assert reads == {"campus-db/campus-db-app", "campus-db/campus-db-ca"}
    (copy,) = [rec for rec in r.records if rec["type"] == "kubernetes:core/v1:Secret"
               and "read" not in rec]  # fmt: skip
    url = copy["inputs"]["stringData"]["uri"]
    assert url.startswith("postgresql://campus:")
    assert "@campus-db-rw.campus-db.svc:5432/campus?" in url
    assert url.endswith(f"sslmode=verify-full&sslrootcert={CA_FILE}")
    assert set(copy["inputs"]["stringData"]) == {"uri", "ca.crt"}
    assert any(d.endswith("Cluster::campus-db") for d in copy["dependencies"])
    cluster = r.one("Cluster", "campus-db")
    assert cluster["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Ready"
    assert not r.of_kind("Secret")
    assert not [p for p in r.files() if p.name.startswith("secret-")]


@pytest.mark.parametrize("stack", STACKS)
def test_migration_job_runs_migrate_with_the_app_image(rendered: dict[str, Rendered], stack):
    r = rendered[stack]
    image = _app_pod(r)["containers"][0]["image"]
    job = r.one("Job", migration_job_name(image))
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["migrate"] and container["image"] == image
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_a_new_image_gets_a_new_migration_job():
    assert migration_job_name("r/app:1.0.0") != migration_job_name("r/app:1.0.1")


@pytest.mark.parametrize("stack", STACKS)
def test_pdb_exists_only_when_more_than_one_replica(rendered: dict[str, Rendered], stack):
    r = rendered[stack]
    replicas = r.one("Deployment", "campus-app")["spec"]["replicas"]
    assert bool(r.of_kind("PodDisruptionBudget")) == (replicas > 1)


def test_dev_runs_one_replica_without_pdb_and_prod_several_with_one(rendered):
    assert rendered["dev"].one("Deployment", "campus-app")["spec"]["replicas"] == 1
    assert rendered["prod"].one("PodDisruptionBudget", "campus-app")["spec"]["maxUnavailable"] == 1


@pytest.mark.parametrize("stack", STACKS)
def test_namespaces_carry_pod_security_levels(rendered: dict[str, Rendered], stack):
    levels = {
        m["metadata"]["name"]: m["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        for m in rendered[stack].of_kind("Namespace")
    }
    assert levels["campus"] == levels["campus-db"] == levels["campus-load"] == "restricted"
    privileged = {name for name, level in levels.items() if level == "privileged"}
    assert privileged == {"falco", "kube-bench", "monitoring"}
    assert set(levels) == {spec.name for spec in NAMESPACES}


@pytest.mark.parametrize("stack", STACKS)
def test_every_owned_namespace_denies_by_default_and_allows_dns(rendered, stack):
    policies = collections.defaultdict(set)
    for policy in rendered[stack].of_kind("NetworkPolicy"):
        policies[policy["metadata"]["namespace"]].add(policy["metadata"]["name"])
    for spec in NAMESPACES:
        assert {"default-deny", "allow-dns"} <= policies[spec.name], spec.name


def test_app_to_database_flow_is_allowed_at_both_ends(rendered: dict[str, Rendered]):
    r = rendered["prod"]
    egress = r.one("NetworkPolicy", "allow-app-to-database-egress")
    ingress = r.one("NetworkPolicy", "allow-app-to-database-ingress")
    assert egress["metadata"]["namespace"] == "campus"
    assert ingress["metadata"]["namespace"] == "campus-db"
    assert egress["spec"]["egress"][0]["ports"] == [{"protocol": "TCP", "port": 5432}]
    assert ingress["spec"]["ingress"][0]["from"][0]["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "campus"}
    }
    # The app's own pods carry the label the flow selects.
    labels = r.one("Deployment", "campus-app")["spec"]["template"]["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in egress["spec"]["podSelector"]["matchLabels"].items())


@pytest.mark.parametrize("stack", STACKS)
def test_load_generator_is_off_by_default(rendered: dict[str, Rendered], stack):
    assert not [m for m in rendered[stack].manifests() if m["metadata"].get("namespace")
                == "campus-load" and m["kind"] == "Deployment"]  # fmt: skip


def test_surge_prescales_without_the_load_generator(surge):
    # Pre-scaling for real traffic needs no scenario and starts no Locust pod.
    assert surge.returncode == 0, surge.stderr
    from campus_infra import render

    manifests = render.manifests(load_capture(surge.out))
    assert not [m for m in manifests if m["metadata"].get("namespace") == "campus-load"
                and m["kind"] in ("Deployment", "ConfigMap")]  # fmt: skip
    (hpa,) = [m for m in manifests if m["kind"] == "HorizontalPodAutoscaler"]
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (20, 40)


def test_a_rehearsal_on_this_checkout_mounts_the_loadtests_folder(tmp_path):
    scenarios = REPO_ROOT / "loadtests"
    out = tmp_path / "rehearsal.json"
    done = capture_cli("prod", "campus-platform:profile=surge",
                       "campus-platform:loadgen.enabled=true", out=out)  # fmt: skip
    assert done.returncode == 0, done.stderr
    from campus_infra import render

    manifests = render.manifests(load_capture(out))
    (config_map,) = [m for m in manifests if m["metadata"]["name"] == "locust-scenarios"]
    assert config_map["data"] == {p.name: p.read_text() for p in scenarios.glob("*.py")}


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("campus-platform:app.image=registry.example.org/campus/app:latest", "app.image"),
        ("campus-platform:database.instances=2", "database.instances"),
        ("campus-platform:security.kubernetesVersion=1.33", "security.kubernetesVersion"),
        ("campus-platform:network.nodeCidrs=[0.0.0.0/0]", "network.nodeCidrs"),
        ("campus-platform:network.gitCidrs=[github]", "network.gitCidrs"),
        ("campus-platform:databse={}", "databse is not a known setting"),
    ],
)
def test_bad_config_stops_the_program_with_one_line_naming_the_key(tmp_path: Path, override, key):
    done = capture_cli("dev", override, out=tmp_path / "out.json")
    assert done.returncode == 2
    assert f"campus-platform:{key}" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out.json").exists()


def test_each_connection_is_opened_at_every_end_we_own(rendered: dict[str, Rendered]):
    from campus_infra.config import parse_stack_config
    from campus_infra.connections import connections

    from tests.infra.conftest import stack_getter

    owned = {spec.name for spec in NAMESPACES}
    names = {(p["metadata"]["namespace"], p["metadata"]["name"])
             for p in rendered["prod"].of_kind("NetworkPolicy")}  # fmt: skip
    config = parse_stack_config(stack_getter("prod"))
    for connection in connections(config.network):
        if connection.source.namespace in owned:
            assert (connection.source.namespace, f"allow-{connection.name}-egress") in names
        if connection.target.namespace in owned:
            assert (connection.target.namespace, f"allow-{connection.name}-ingress") in names


def test_nothing_opens_the_app_namespace_to_falco_or_kube_bench(rendered: dict[str, Rendered]):
    for policy in rendered["prod"].of_kind("NetworkPolicy"):
        if policy["metadata"]["namespace"] != "campus":
            continue
        for rule in policy["spec"].get("ingress", []):
            for peer in rule["from"]:
                selector = peer.get("namespaceSelector", {}).get("matchLabels", {})
                assert selector.get("kubernetes.io/metadata.name") not in ("falco", "kube-bench")


def test_main_only_composes_components():
    import ast

    tree = ast.parse((REPO_ROOT / "infra" / "__main__.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "pulumi_kubernetes" not in imported
    assert all(m == "pulumi" or m.startswith("campus_infra.") for m in imported), imported


def test_render_refuses_an_unknown_stack_in_one_line(tmp_path: Path):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "campus_infra.render", "--stack", "moon", "--out", str(tmp_path)],
        capture_output=True, text=True, check=False, cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT / "infra"), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == (f"error: no Pulumi.moon.yaml (stacks: {', '.join(STACKS)})")


def test_ingress_controller_namespace_comes_from_config(tmp_path: Path):
    from campus_infra import render

    done = capture_cli("dev", "campus-platform:app.ingressNamespace=traefik", out=tmp_path / "c")
    assert done.returncode == 0, done.stderr
    (policy,) = [m for m in render.manifests(load_capture(tmp_path / "c"))
                 if m["metadata"]["name"] == "allow-ingress-to-app-ingress"]  # fmt: skip
    peer = policy["spec"]["ingress"][0]["from"][0]
    assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "traefik"}
