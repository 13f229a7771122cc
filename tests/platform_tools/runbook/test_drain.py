"""`runbook drain NODE`: cordon, evictions through the Eviction API, budgets respected."""

from __future__ import annotations

from pathlib import Path

from tests.platform_tools.kube_api_standin import KubeApiStandIn
from tests.platform_tools.kube_objects import pod
from tests.platform_tools.runbook.invoke import document, runbook


def budget_controller(server: KubeApiStandIn) -> None:
    """The disruption controller: the budget is back once evicted app pods are replaced."""
    budget = server.get("PodDisruptionBudget", "campus", "campus-app")
    running = [
        key
        for key in server.objects
        if key[0] == "Pod" and key[1] == "campus" and key[2].startswith("campus-app")
    ]
    # Three replicas, maxUnavailable 1: two must stay healthy.
    budget["status"]["disruptionsAllowed"] = max(0, len(running) - 2)


def test_dry_run_lists_what_goes_and_what_stays(standin: KubeApiStandIn, kubeconfig: Path):
    standin.add(pod("falco-x1", namespace="falco", owner="DaemonSet", labels={}))
    result = runbook(kubeconfig, "drain", "node-a", "--json")
    assert result.exit_code == 0, result.output
    plan = document(result)
    assert plan["evict"] == ["campus/campus-app-0", "campus-db/campus-db-1"]
    assert plan["skipped"] == [
        {"pod": "falco/falco-x1", "reason": "DaemonSet pod (it runs on every node)"}
    ]
    assert standin.writes() == []
    assert standin.get("Node", None, "node-a")["spec"]["unschedulable"] is False


def test_drain_cordons_then_evicts_every_pod_of_the_node(standin: KubeApiStandIn, kubeconfig: Path):
    standin.add(pod("falco-x1", namespace="falco", owner="DaemonSet", labels={}))
    result = runbook(kubeconfig, "drain", "node-a", "--yes", "--interval", "0", "--json")
    assert result.exit_code == 0, result.output
    assert standin.get("Node", None, "node-a")["spec"]["unschedulable"] is True
    assert standin.get("Pod", "campus", "campus-app-0") is None
    assert standin.get("Pod", "campus-db", "campus-db-1") is None
    assert standin.get("Pod", "falco", "falco-x1") is not None
    writes = [(r.method, r.path) for r in standin.writes()]
    assert writes[0] == ("PATCH", "/api/v1/nodes/node-a")
    assert ("POST", "/api/v1/namespaces/campus/pods/campus-app-0/eviction") in writes
    assert document(result)["evicted"] == ["campus/campus-app-0", "campus-db/campus-db-1"]


def test_a_budget_that_says_429_is_waited_out_then_honoured(
    standin: KubeApiStandIn, kubeconfig: Path
):
    # Two of the three app pods on node-a: the budget (maxUnavailable 1) lets one go at a time.
    standin.add(pod("campus-app-2", node="node-a"))
    gone_at: list[int] = []

    def replace_evicted(server: KubeApiStandIn) -> None:
        # The ReplicaSet starts a replacement on another node three requests after the first
        # eviction: until then, the second eviction is refused with 429.
        if server.get("Pod", "campus", "campus-app-0") is None and not gone_at:
            gone_at.append(len(server.requests))
        due = gone_at and len(server.requests) >= gone_at[0] + 3
        if due and server.get("Pod", "campus", "campus-app-0b") is None:
            server.add(pod("campus-app-0b", node="node-b"))

    standin.controllers.extend([replace_evicted, budget_controller])
    result = runbook(kubeconfig, "drain", "node-a", "--yes", "--interval", "0", "--json")
    assert result.exit_code == 0, result.output
    outcome = document(result)
    assert outcome["budget_refusals"] >= 1
    # The held pod goes last: the others were evicted while its budget said no.
    assert outcome["evicted"] == [
        "campus/campus-app-0",
        "campus-db/campus-db-1",
        "campus/campus-app-2",
    ]
    evictions = [r.path for r in standin.requests if r.path.endswith("/eviction")]
    # The second app pod was asked for again after each refusal, never deleted behind the
    # budget's back.
    assert evictions.count("/api/v1/namespaces/campus/pods/campus-app-2/eviction") >= 2
    assert not [r for r in standin.requests if r.method == "DELETE"]


def test_a_budget_that_never_allows_it_ends_with_exit_1_and_the_node_cordoned(
    standin: KubeApiStandIn, kubeconfig: Path
):
    standin.get("PodDisruptionBudget", "campus", "campus-app")["status"]["disruptionsAllowed"] = 0
    result = runbook(kubeconfig, "drain", "node-a", "--yes", "--interval", "0", "--timeout", "0")
    assert result.exit_code == 1
    assert "node node-a is cordoned" in result.stderr
    assert "campus/campus-app-0" in result.stderr
    assert standin.get("Pod", "campus", "campus-app-0") is not None
    assert standin.get("Node", None, "node-a")["spec"]["unschedulable"] is True


def test_a_pod_already_gone_404_is_not_an_error(standin: KubeApiStandIn, kubeconfig: Path):
    standin.fail_next("POST", r"/pods/campus-app-0/eviction$", 404)
    result = runbook(kubeconfig, "drain", "node-a", "--yes", "--interval", "0", "--json")
    assert result.exit_code == 0, result.output
    assert document(result)["evicted"] == ["campus-db/campus-db-1"]


def test_unmanaged_pods_block_the_drain_unless_forced(standin: KubeApiStandIn, kubeconfig: Path):
    standin.add(pod("debug-shell", owner=None, labels={}))
    result = runbook(kubeconfig, "drain", "node-a", "--yes")
    assert result.exit_code == 2
    assert "campus/debug-shell" in result.stderr and "--force" in result.stderr
    assert standin.writes() == []
    forced = runbook(kubeconfig, "drain", "node-a", "--yes", "--force", "--interval", "0")
    assert forced.exit_code == 0, forced.output
    assert standin.get("Pod", "campus", "debug-shell") is None


def test_an_unknown_node_exits_2_naming_it(standin: KubeApiStandIn, kubeconfig: Path):
    result = runbook(kubeconfig, "drain", "node-z", "--yes")
    assert result.exit_code == 2
    assert "NODE" in result.stderr and "node-z" in result.stderr
    assert standin.writes() == []
