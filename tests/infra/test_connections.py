"""NetworkPolicies allow exactly the connections of the model (campus_infra.connections), and
every port of the model is one something listens on.

The rendered policies of each stack are evaluated (tests/infra/netpol.py) between
representative pods carrying the labels their charts and operators really put on them (read
from the pinned charts' templates), and addresses of the stack's CIDRs.
"""

import ipaddress
import itertools

import pytest
from campus_infra import k8s as n
from campus_infra.config import parse_stack_config
from campus_infra.connections import LISTENERS, SAME_NAMESPACE, Component, connections
from campus_infra.namespaces import NAMESPACES

from tests.infra.conftest import STACKS, Rendered, stack_getter
from tests.infra.netpol import Endpoint, allowed

INTERNET = "203.0.113.9"


def _first_host(cidrs: tuple[str, ...]) -> str:
    return str(next(ipaddress.ip_network(cidrs[0]).hosts()))


def endpoints(stack: str, r: Rendered) -> list[Endpoint]:
    """A pod of every workload on the platform (and around it), and external addresses."""
    config = parse_stack_config(stack_getter(stack))
    net = config.network
    app_pod = r.one("Deployment", n.APP_NAME)["spec"]["template"]["metadata"]["labels"]
    (job,) = r.of_kind("Job")
    job_pod = job["spec"]["template"]["metadata"]["labels"]
    return [
        Endpoint("ingress-controller", "ingress-nginx", {"app.kubernetes.io/name": "nginx"}),
        Endpoint("intranet-ingress-controller", "ingress-nginx-internal",
                 {"app.kubernetes.io/name": "ingress-nginx"}),
        Endpoint("app", n.NS_APP, app_pod),
        Endpoint("migration-job", n.NS_APP, job_pod),
        *[Endpoint(cron["metadata"]["name"], n.NS_APP,
                   cron["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"])
          for cron in r.of_kind("CronJob")],
        Endpoint("locust-worker", n.NS_LOAD, {"app.kubernetes.io/name": "locust",
                                              "app.kubernetes.io/component": "worker"}),
        Endpoint("locust-master", n.NS_LOAD, {"app.kubernetes.io/name": "locust",
                                              "app.kubernetes.io/component": "master"}),
        Endpoint("database", n.NS_DB, {"cnpg.io/cluster": n.DB_CLUSTER,
                                       "cnpg.io/instanceRole": "primary"}),
        Endpoint("cnpg-operator", n.NS_CNPG, {"app.kubernetes.io/name": "cloudnative-pg",
                                              "app.kubernetes.io/instance": "cnpg"}),
        Endpoint("barman-cloud-plugin", n.NS_CNPG, {
            "app.kubernetes.io/name": "plugin-barman-cloud",
            "app.kubernetes.io/instance": "barman-cloud"}),
        Endpoint("prometheus", n.NS_MONITORING, {"app.kubernetes.io/name": "prometheus",
                                                 "operator.prometheus.io/name": "x"}),
        Endpoint("prometheus-operator", n.NS_MONITORING, {
            "app.kubernetes.io/name": "kube-prometheus-stack-prometheus-operator",
            "app": "kube-prometheus-stack-operator"}),
        Endpoint("grafana", n.NS_MONITORING, {"app.kubernetes.io/name": "grafana"}),
        Endpoint("otel-collector", n.NS_MONITORING, {
            "app.kubernetes.io/name": "opentelemetry-collector"}),
        Endpoint("prometheus-adapter", n.NS_MONITORING, {
            "app.kubernetes.io/name": "prometheus-adapter"}),
        Endpoint("falco", n.NS_FALCO, {"app.kubernetes.io/name": "falco"}),
        Endpoint("kube-bench", n.NS_KUBE_BENCH, {"app.kubernetes.io/name": "kube-bench"}),
        Endpoint("argocd-repo-server", n.NS_ARGOCD, {"app.kubernetes.io/name": "repo-server"}),
        Endpoint("argocd-server", n.NS_ARGOCD, {"app.kubernetes.io/name": "argocd-server"}),
        Endpoint("coredns", "kube-system", {"k8s-app": "kube-dns"}),
        Endpoint("api-server", ip=_first_host(net.control_plane_cidrs)),
        Endpoint("node", ip=str(list(ipaddress.ip_network(net.node_cidrs[0]).hosts())[-1])),
        Endpoint("object-storage", ip=_first_host(net.object_storage_cidrs)),
        Endpoint("git", ip=_first_host(net.git_cidrs)),
        Endpoint("artifact-registry", ip=_first_host(net.artifact_registry_cidrs)),
        Endpoint("smtp-relay", ip=_first_host(net.smtp_relay_cidrs)),
        Endpoint("internet", ip=INTERNET),
    ]  # fmt: skip


def belongs(endpoint: Endpoint, component: Component) -> bool:
    """Whether an endpoint is one of the component's pods or addresses."""
    if component.external:
        return endpoint.ip is not None and any(
            ipaddress.ip_address(endpoint.ip) in ipaddress.ip_network(c) for c in component.cidrs
        )
    return endpoint.namespace == component.namespace and all(
        endpoint.labels.get(k) == v for k, v in component.pods.items()
    )


def _model(stack: str):
    config = parse_stack_config(stack_getter(stack))
    return connections(
        config.network, config.app.ingress_namespace, config.app.internal_ingress_namespace
    )


def _policies(r: Rendered):
    return r.of_kind("NetworkPolicy")


PROBED_PORTS = sorted({listener.port for listener in LISTENERS} | {22, 53, 80, 3000, 9090})


@pytest.mark.parametrize("stack", STACKS)
def test_every_connection_of_the_model_is_allowed_end_to_end(rendered, stack):
    r = rendered[stack]
    found = endpoints(stack, r)
    for connection in _model(stack):
        sources = [e for e in found if belongs(e, connection.source)]
        targets = [e for e in found if belongs(e, connection.target)]
        assert sources and targets, connection.name
        for source, target, port in itertools.product(sources, targets, connection.ports):
            assert allowed(_policies(r), source, target, port), (
                f"{connection.name}: {source.name} -> {target.name}:{port} is blocked"
            )


@pytest.mark.parametrize("stack", STACKS)
def test_nothing_outside_the_model_is_allowed(rendered, stack):
    r = rendered[stack]
    found = endpoints(stack, r)
    model = _model(stack)
    owned = {spec.name for spec in NAMESPACES}
    for source, target in itertools.permutations(found, 2):
        if source.namespace not in owned and target.namespace not in owned:
            continue  # neither end is ours to police
        for port in PROBED_PORTS:
            if not allowed(_policies(r), source, target, port):
                continue
            declared = any(
                belongs(source, c.source) and belongs(target, c.target) and port in c.ports
                for c in model
            )
            same_namespace = source.namespace == target.namespace in SAME_NAMESPACE
            dns = target.name == "coredns" and port == 53
            assert declared or same_namespace or dns, (
                f"{source.name} -> {target.name}:{port} is allowed but not in the model"
            )


def test_every_port_of_the_model_is_one_something_listens_on(rendered, surge_with_scenarios):
    listening = {(listener.component, listener.port) for listener in LISTENERS}
    for connection in _model("prod"):
        for port in connection.ports:
            assert (connection.target.name, port) in listening, (connection.name, port)
    # Our own workloads: the model's ports are the ports the rendered containers declare.
    app = rendered["prod"].one("Deployment", n.APP_NAME)["spec"]["template"]["spec"]
    declared = {p["containerPort"] for c in app["containers"] for p in c.get("ports", [])}
    assert {lis.port for lis in LISTENERS if lis.component == "app"} == declared
    master = [m for m in surge_with_scenarios.manifests() if m["kind"] == "Deployment"
              and m["metadata"]["name"] == "locust-master"]  # fmt: skip
    ports = {p["containerPort"] for c in master[0]["spec"]["template"]["spec"]["containers"]
             for p in c.get("ports", [])}  # fmt: skip
    assert {lis.port for lis in LISTENERS if lis.component == "locust-master"} <= ports


def test_the_database_operator_reaches_the_barman_plugin_and_no_dead_rule_remains(rendered):
    r = rendered["prod"]
    by_name = {e.name: e for e in endpoints("prod", r)}
    policies = _policies(r)
    assert allowed(policies, by_name["cnpg-operator"], by_name["barman-cloud-plugin"], 9090)
    # The instances reach the plugin through a local socket; the operator never calls 9090
    # on them: neither connection is opened.
    assert not allowed(policies, by_name["database"], by_name["barman-cloud-plugin"], 9090)
    assert not allowed(policies, by_name["cnpg-operator"], by_name["database"], 9090)
    assert allowed(policies, by_name["cnpg-operator"], by_name["database"], 8000)


@pytest.mark.parametrize("stack", STACKS)
def test_only_the_outbox_dispatcher_reaches_the_smtp_relay_and_both_jobs_the_database(
    rendered, stack
):
    r = rendered[stack]
    by_name = {e.name: e for e in endpoints(stack, r)}
    port = parse_stack_config(stack_getter(stack)).network.smtp_relay_port
    dispatcher, validator = by_name["campus-outbox-dispatch"], by_name["campus-requests-validate"]
    policies = _policies(r)
    assert allowed(policies, dispatcher, by_name["smtp-relay"], port)
    for other in (validator, by_name["app"], by_name["migration-job"]):
        assert not allowed(policies, other, by_name["smtp-relay"], port), other.name
    assert not allowed(policies, dispatcher, by_name["internet"], port)
    for job in (dispatcher, validator):
        assert allowed(policies, job, by_name["database"], 5432), job.name


def test_the_api_server_reaches_both_admission_webhooks(rendered):
    r = rendered["prod"]
    by_name = {e.name: e for e in endpoints("prod", r)}
    api = by_name["api-server"]
    assert allowed(_policies(r), api, by_name["prometheus-operator"], 10250)
    assert allowed(_policies(r), api, by_name["cnpg-operator"], 9443)
    assert not allowed(_policies(r), by_name["internet"], by_name["prometheus-operator"], 10250)


@pytest.mark.parametrize("stack", STACKS)
def test_no_policy_opens_a_port_to_or_from_the_whole_internet(rendered, stack):
    r = rendered[stack]
    for policy in _policies(r):
        for rule in [*policy["spec"].get("egress", []), *policy["spec"].get("ingress", [])]:
            for peer in [*rule.get("to", []), *rule.get("from", [])]:
                if "ipBlock" in peer:
                    assert ipaddress.ip_network(peer["ipBlock"]["cidr"]).prefixlen > 0, policy
    by_name = {e.name: e for e in endpoints(stack, r)}
    owned = {spec.name for spec in NAMESPACES}
    for source in by_name.values():
        if source.namespace in owned:
            for port in (22, 443, 6443):
                assert not allowed(_policies(r), source, by_name["internet"], port), source.name


def test_external_addresses_come_from_stack_config(tmp_path):
    from campus_infra import render

    from tests.infra.conftest import capture_cli, load_capture

    done = capture_cli(
        "dev", 'campus-platform:network.objectStorageCidrs=["192.0.2.64/26"]', out=tmp_path / "c"
    )
    assert done.returncode == 0, done.stderr
    (policy,) = [m for m in render.manifests(load_capture(tmp_path / "c"))
                 if m["metadata"]["name"] == "allow-database-to-object-storage-egress"]  # fmt: skip
    assert policy["spec"]["egress"][0]["to"] == [{"ipBlock": {"cidr": "192.0.2.64/26"}}]
