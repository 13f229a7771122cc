"""The Kubernetes API stand-in answers the official client the way an API server does.

Other tests trust it to stand for a cluster, so its own behaviour is pinned here: the client's
exceptions carry the statuses a real server sends, and writes follow the API's rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from tests.platform_tools.kube_api_standin import KubeApiStandIn, merge_patch, running_standin
from tests.platform_tools.kube_objects import campus_cluster, pod

MERGE = "application/merge-patch+json"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[KubeApiStandIn, client.ApiClient]]:
    with running_standin() as standin:
        campus_cluster(standin)
        api = config.new_client_from_config(
            config_file=str(standin.write_kubeconfig(tmp_path / "kubeconfig"))
        )
        yield standin, api
        api.close()


def test_reading_a_missing_object_raises_404_with_the_servers_message(cluster):
    _, api = cluster
    with pytest.raises(ApiException) as caught:
        client.AppsV1Api(api).read_namespaced_deployment("nope", "campus")
    assert caught.value.status == 404
    body = json.loads(caught.value.body)
    assert (body["kind"], body["reason"]) == ("Status", "NotFound")
    assert body["message"] == 'deployments "nope" not found'


def test_lists_filter_by_label_and_field_selectors(cluster):
    standin, api = cluster
    standin.add(pod("stray", namespace="campus", node="node-b", labels={"team": "x"}))
    core = client.CoreV1Api(api)
    on_b = core.list_pod_for_all_namespaces(field_selector="spec.nodeName=node-b").items
    assert sorted(p.metadata.name for p in on_b) == ["campus-app-1", "campus-db-2", "stray"]
    labelled = core.list_namespaced_pod("campus", label_selector="team=x").items
    assert [p.metadata.name for p in labelled] == ["stray"]


def test_a_patch_with_a_stale_resource_version_is_409_and_changes_nothing(cluster):
    standin, api = cluster
    autoscaling = client.AutoscalingV2Api(api)
    stale = {"metadata": {"resourceVersion": "1"}, "spec": {"minReplicas": 9}}
    with pytest.raises(ApiException) as caught:
        autoscaling.patch_namespaced_horizontal_pod_autoscaler(
            "campus-app", "campus", stale, _content_type=MERGE
        )
    assert caught.value.status == 409
    assert (
        standin.get("HorizontalPodAutoscaler", "campus", "campus-app")["spec"]["minReplicas"] == 3
    )


def test_a_spec_patch_bumps_generation_and_resource_version(cluster):
    standin, api = cluster
    before = dict(standin.get("Deployment", "campus", "campus-app")["metadata"])
    client.AppsV1Api(api).patch_namespaced_deployment(
        "campus-app", "campus", {"spec": {"replicas": 4}}, _content_type=MERGE
    )
    after = standin.get("Deployment", "campus", "campus-app")["metadata"]
    assert after["generation"] == before["generation"] + 1
    assert int(after["resourceVersion"]) > int(before["resourceVersion"])


def test_the_status_subresource_changes_status_only(cluster):
    standin, api = cluster
    client.CustomObjectsApi(api).patch_namespaced_custom_object_status(
        "postgresql.cnpg.io",
        "v1",
        "campus-db",
        "clusters",
        "campus-db",
        {"spec": {"instances": 1}, "status": {"phase": "x"}},
        _content_type=MERGE,
    )
    cnpg = standin.get("Cluster", "campus-db", "campus-db")
    assert cnpg["status"]["phase"] == "x" and cnpg["spec"]["instances"] == 3


def test_custom_resources_refuse_strategic_merge_like_a_real_server(cluster):
    _, api = cluster
    with pytest.raises(ApiException) as caught:
        client.CustomObjectsApi(api).patch_namespaced_custom_object_status(
            "postgresql.cnpg.io",
            "v1",
            "campus-db",
            "clusters",
            "campus-db",
            {"status": {}},
            _content_type="application/strategic-merge-patch+json",
        )
    assert caught.value.status == 415


def test_an_eviction_the_budget_forbids_is_429_and_the_pod_stays(cluster):
    standin, api = cluster
    standin.get("PodDisruptionBudget", "campus", "campus-app")["status"]["disruptionsAllowed"] = 0
    eviction = client.V1Eviction(
        metadata=client.V1ObjectMeta(name="campus-app-0", namespace="campus")
    )
    core = client.CoreV1Api(api)
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_pod_eviction("campus-app-0", "campus", eviction)
    assert caught.value.status == 429
    assert standin.get("Pod", "campus", "campus-app-0") is not None
    standin.get("PodDisruptionBudget", "campus", "campus-app")["status"]["disruptionsAllowed"] = 1
    core.create_namespaced_pod_eviction("campus-app-0", "campus", eviction)
    assert standin.get("Pod", "campus", "campus-app-0") is None
    with pytest.raises(ApiException) as gone:
        core.create_namespaced_pod_eviction("campus-app-0", "campus", eviction)
    assert gone.value.status == 404


def test_scripted_failures_answer_once_then_the_real_state(cluster):
    standin, api = cluster
    standin.fail_next("PATCH", r"/deployments/campus-app$", 409)
    apps = client.AppsV1Api(api)
    change = {"spec": {"replicas": 5}}
    with pytest.raises(ApiException) as caught:
        apps.patch_namespaced_deployment("campus-app", "campus", change, _content_type=MERGE)
    assert caught.value.status == 409
    assert standin.get("Deployment", "campus", "campus-app")["spec"]["replicas"] == 3
    apps.patch_namespaced_deployment("campus-app", "campus", change, _content_type=MERGE)
    assert standin.get("Deployment", "campus", "campus-app")["spec"]["replicas"] == 5


def test_merge_patch_follows_rfc_7386():
    assert merge_patch({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"c": None, "e": 4}, "f": [1]}) == {
        "a": 1,
        "b": {"d": 3, "e": 4},
        "f": [1],
    }
