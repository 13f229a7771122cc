"""Default-deny NetworkPolicies in every namespace we own, plus one allow policy per flow.

Each flow is written once as data: who talks to whom on which ports. Both ends get a
policy (egress at the client's namespace, ingress at the server's), because default-deny
covers both directions.
"""

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from campus_infra import k8s as n
from campus_infra.config import StackConfig
from campus_infra.namespaces import NAMESPACES

ANYWHERE = "0.0.0.0/0"
# The API server's address differs per cluster and is often a node IP or a load balancer:
# allow its usual ports to anywhere, for pods that genuinely talk to the API.
API_PORTS = (443, 6443)
PROMETHEUS = {"app.kubernetes.io/name": "prometheus"}
APP_PODS = {"app.kubernetes.io/part-of": n.PART_OF, "campus.example.org/db-client": "true"}
DB_PODS = {"cnpg.io/cluster": n.DB_CLUSTER}
OTEL_PODS = {"app.kubernetes.io/name": "opentelemetry-collector"}


@dataclass(frozen=True)
class Peer:
    """The other end of a flow: pods of a namespace, or an address block."""

    namespace: str | None = None
    pods: dict[str, str] = field(default_factory=dict)
    cidr: str | None = None

    def to_k8s(self) -> dict[str, Any]:
        """A NetworkPolicyPeer."""
        if self.cidr:
            return {"ipBlock": {"cidr": self.cidr}}
        peer: dict[str, Any] = {"podSelector": {"matchLabels": dict(self.pods)}}
        if self.namespace:
            peer["namespaceSelector"] = {
                "matchLabels": {"kubernetes.io/metadata.name": self.namespace}
            }
        return peer


@dataclass(frozen=True)
class Flow:
    """Pods `source` in `source_ns` reach `target` on `ports` over TCP.

    A `cidr` stands for the far end outside the cluster: the target when `target_ns` is
    None, the source when `source_ns` is None.
    """

    name: str
    source_ns: str | None
    source: dict[str, str]
    target_ns: str | None
    target: dict[str, str]
    ports: tuple[int, ...]
    cidr: str | None = None

    def port_list(self) -> list[dict[str, Any]]:
        """The NetworkPolicyPort list (every flow of ours is TCP; DNS has its own policy)."""
        return [{"protocol": "TCP", "port": port} for port in self.ports]


def flows(ingress_namespace: str = "ingress-nginx") -> list[Flow]:
    """Every flow the platform needs; anything else is denied. The ingress controller
    lives in `ingress_namespace` (campus-platform:app.ingressNamespace)."""
    metrics = n.NS_MONITORING
    result = [
        Flow(
            "ingress-to-app",
            ingress_namespace,
            {},
            n.NS_APP,
            {"app.kubernetes.io/name": n.APP_NAME},
            (n.APP_PORT,),
        ),
        Flow(
            "loadgen-to-app",
            n.NS_LOAD,
            {"app.kubernetes.io/name": "locust"},
            n.NS_APP,
            {"app.kubernetes.io/name": n.APP_NAME},
            (n.APP_PORT,),
        ),
        Flow("app-to-database", n.NS_APP, APP_PODS, n.NS_DB, DB_PODS, (5432,)),
        Flow("app-to-otel-collector", n.NS_APP, APP_PODS, metrics, OTEL_PODS, (4317, 4318)),
        Flow(
            "prometheus-to-app-metrics",
            metrics,
            PROMETHEUS,
            n.NS_APP,
            {"app.kubernetes.io/name": n.APP_NAME},
            (n.APP_PORT,),
        ),
        Flow("prometheus-to-database-metrics", metrics, PROMETHEUS, n.NS_DB, DB_PODS, (9187,)),
        Flow(
            "prometheus-to-falco-metrics",
            metrics,
            PROMETHEUS,
            n.NS_FALCO,
            {"app.kubernetes.io/name": "falco"},
            (8765,),
        ),
        Flow(
            "prometheus-to-operator-metrics",
            metrics,
            PROMETHEUS,
            n.NS_CNPG,
            {"app.kubernetes.io/name": "cloudnative-pg"},
            (8080,),
        ),
        # Streaming replication and the instance manager's status port between instances.
        Flow("database-replication", n.NS_DB, DB_PODS, n.NS_DB, DB_PODS, (5432, 8000)),
        Flow("operator-to-database", n.NS_CNPG, {}, n.NS_DB, DB_PODS, (8000, 9090)),
        Flow(
            "locust-workers-to-master",
            n.NS_LOAD,
            {"app.kubernetes.io/name": "locust"},
            n.NS_LOAD,
            {"app.kubernetes.io/name": "locust", "app.kubernetes.io/component": "master"},
            (5557,),
        ),
        # The Barman plugin's sidecar in each instance talks to the plugin over gRPC.
        Flow("database-to-barman-plugin", n.NS_DB, DB_PODS, n.NS_CNPG, {}, (9090,)),
    ]
    # Pods that read or watch the API server (operators, Prometheus discovery, Falco's
    # metadata, Argo CD, the instance manager).
    for ns in (n.NS_CNPG, n.NS_DB, n.NS_MONITORING, n.NS_FALCO, n.NS_ARGOCD):
        result.append(Flow(f"{ns}-to-api-server", ns, {}, None, {}, API_PORTS, cidr=ANYWHERE))
    # Backups leave the cluster for S3-compatible storage; Argo CD fetches Git over HTTPS/SSH.
    result.append(
        Flow("database-to-object-storage", n.NS_DB, DB_PODS, None, {}, (443,), cidr=ANYWHERE)
    )
    result.append(Flow("argocd-to-git", n.NS_ARGOCD, {}, None, {}, (22,), cidr=ANYWHERE))
    # The admission webhooks are called by the API server, whose address we cannot name.
    result.append(
        Flow("api-server-to-operator-webhook", None, {}, n.NS_CNPG, {}, (9443,), cidr=ANYWHERE)
    )
    return result


def _policy(
    name: str,
    namespace: str,
    spec: dict[str, Any],
    parent: pulumi.Resource,
    depends: list[pulumi.Resource],
) -> k8s.networking.v1.NetworkPolicy:
    return k8s.networking.v1.NetworkPolicy(
        f"{namespace}-{name}",
        metadata={
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": n.PART_OF},
        },
        spec=spec,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends),
    )


class NetworkPolicies(pulumi.ComponentResource):
    """Default deny everywhere, DNS for all, then the flows of `flows()`."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        depends: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("campus:platform:NetworkPolicies", name, None, opts)
        owned = [spec.name for spec in NAMESPACES]
        for ns in owned:
            _policy(
                "default-deny",
                ns,
                {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
                self,
                depends,
            )
            _policy(
                "allow-dns",
                ns,
                {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [
                        {
                            "to": [
                                {
                                    "namespaceSelector": {
                                        "matchLabels": {
                                            "kubernetes.io/metadata.name": "kube-system"
                                        }
                                    },
                                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                                }
                            ],
                            "ports": [
                                {"protocol": "UDP", "port": 53},
                                {"protocol": "TCP", "port": 53},
                            ],
                        }
                    ],
                },
                self,
                depends,
            )
            # Components of one namespace installed by a chart (Argo CD, the monitoring
            # stack) talk among themselves on ports the charts choose.
            if ns in (n.NS_ARGOCD, n.NS_MONITORING):
                _policy(
                    "allow-same-namespace",
                    ns,
                    {
                        "podSelector": {},
                        "policyTypes": ["Ingress", "Egress"],
                        "ingress": [{"from": [{"podSelector": {}}]}],
                        "egress": [{"to": [{"podSelector": {}}]}],
                    },
                    self,
                    depends,
                )
        # Prometheus scrapes kubelets and node-exporters on node addresses.
        _policy(
            "allow-prometheus-to-nodes",
            n.NS_MONITORING,
            {
                "podSelector": {"matchLabels": PROMETHEUS},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [{"ipBlock": {"cidr": ANYWHERE}}],
                        "ports": [{"protocol": "TCP", "port": p} for p in (9100, 10250)],
                    }
                ],
            },
            self,
            depends,
        )
        for flow in flows(config.app.ingress_namespace):
            if flow.source_ns in owned:
                target = Peer(cidr=flow.cidr) if flow.cidr else Peer(flow.target_ns, flow.target)
                _policy(
                    f"allow-{flow.name}-egress",
                    flow.source_ns,
                    {
                        "podSelector": {"matchLabels": dict(flow.source)},
                        "policyTypes": ["Egress"],
                        "egress": [{"to": [target.to_k8s()], "ports": flow.port_list()}],
                    },
                    self,
                    depends,
                )
            if flow.target_ns in owned:
                source = (
                    Peer(cidr=flow.cidr)
                    if flow.source_ns is None
                    else Peer(flow.source_ns, flow.source)
                )
                _policy(
                    f"allow-{flow.name}-ingress",
                    flow.target_ns,
                    {
                        "podSelector": {"matchLabels": dict(flow.target)},
                        "policyTypes": ["Ingress"],
                        "ingress": [{"from": [source.to_k8s()], "ports": flow.port_list()}],
                    },
                    self,
                    depends,
                )
        self.register_outputs({})
