"""The surge profile with scenarios present: pre-scaled app and database, Locust master
and workers running the scenario folder, all passing the same checks as every stack."""

import kubernetes_validate
import pytest

from tests.infra.conftest import Rendered
from tests.infra.test_checkov import _scan
from tests.infra.test_manifests import CUSTOM_KINDS, KUBERNETES_VERSION
from tests.infra.test_policies import violations


def test_surge_prescales_app_and_database(surge_with_scenarios: Rendered):
    r = surge_with_scenarios
    hpa = r.one("HorizontalPodAutoscaler", "campus-app")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (20, 40)
    assert r.one("Deployment", "campus-app")["spec"]["replicas"] == 20
    cluster = r.one("Cluster", "campus-db")["spec"]
    assert cluster["postgresql"]["parameters"]["max_connections"] == "800"


def test_scenarios_are_mounted_with_locustfile_as_entry_point(surge_with_scenarios: Rendered):
    r = surge_with_scenarios
    assert set(r.one("ConfigMap", "locust-scenarios")["data"]) == {"locustfile.py", "shapes.py"}
    master = r.one("Deployment", "locust-master")["spec"]
    worker = r.one("Deployment", "locust-worker")["spec"]
    assert master["replicas"] == 1 and worker["replicas"] == 40
    master_args = master["template"]["spec"]["containers"][0]["args"]
    worker_args = worker["template"]["spec"]["containers"][0]["args"]
    assert master_args[:3] == ["-f", "/scenarios/locustfile.py", "--master"]
    assert master_args[-2:] == ["--expect-workers", "40"]
    assert worker_args[2:] == ["--worker", "--staff-token-file", "/data/staff-token",
                               "--master-host", "locust-master"]  # fmt: skip
    env = {e["name"]: e for e in worker["template"]["spec"]["containers"][0]["env"]}
    assert env["LOCUST_HOST"]["value"] == "http://campus-app.campus.svc"
    assert env["LOADTEST_SCENARIO"]["value"] == "rentree_wave"
    assert env["LOADTEST_DATA"]["value"] == "/data/scenario.json"
    volumes = {v["name"]: v for v in worker["template"]["spec"]["volumes"]}
    assert volumes["data"]["secret"] == {"secretName": "campus-loadtest", "optional": True}
    r.one("Service", "locust-master")


def test_load_generator_manifests_pass_strict_schemas(surge_with_scenarios: Rendered):
    load = [m for m in surge_with_scenarios.manifests()
            if m["metadata"].get("namespace") == "campus-load"
            and (m["apiVersion"], m["kind"]) not in CUSTOM_KINDS]  # fmt: skip
    assert {m["kind"] for m in load} >= {"Deployment", "Service", "ConfigMap"}
    for manifest in load:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_surge_stack_passes_every_policy(surge_with_scenarios: Rendered):
    assert violations(surge_with_scenarios.records) == []


def test_surge_stack_passes_checkov(surge_with_scenarios: Rendered):
    report = _scan(surge_with_scenarios.platform / "campus-load")
    assert report["results"]["failed_checks"] == []
    assert report["summary"]["passed"] > 50


def test_load_generator_needs_a_locustfile(tmp_path):
    from tests.infra.conftest import capture_cli

    empty = tmp_path / "loadtests"
    empty.mkdir()
    done = capture_cli("dev", "campus-platform:loadgen.enabled=true", out=tmp_path / "o.json",
                       env={"CAMPUS_LOADTESTS_DIR": str(empty)})  # fmt: skip
    assert done.returncode == 2
    assert "campus-platform:loadgen.enabled" in done.stderr
    assert "locustfile.py" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("stack", ["dev"])
def test_load_generator_stays_off_without_surge(rendered, stack):
    assert not [m for m in rendered[stack].manifests() if m["kind"] == "Deployment"
                and m["metadata"]["name"].startswith("locust")]  # fmt: skip
