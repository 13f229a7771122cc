"""Default-deny NetworkPolicies in every namespace we own, plus one allow policy per end of
each connection of connections.py.

Each connection is written once as data: who talks to whom on which ports. Both ends get a
policy (egress at the client's namespace, ingress at the server's) when we own them,
because default-deny covers both directions.
"""

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from campus_infra import k8s as n
from campus_infra.config import StackConfig
from campus_infra.connections import SAME_NAMESPACE, Component, Connection, connections
from campus_infra.namespaces import NAMESPACES


def peers(component: Component) -> list[dict[str, Any]]:
    """The NetworkPolicyPeers that stand for a component."""
    if component.external:
        return [{"ipBlock": {"cidr": cidr}} for cidr in component.cidrs]
    return [
        {
            "namespaceSelector": {
                "matchLabels": {"kubernetes.io/metadata.name": component.namespace}
            },
            "podSelector": {"matchLabels": dict(component.pods)},
        }
    ]


def port_list(connection: Connection) -> list[dict[str, Any]]:
    """The NetworkPolicyPort list (every connection of ours is TCP; DNS has its own policy)."""
    return [{"protocol": "TCP", "port": port} for port in connection.ports]


def egress_spec(connection: Connection) -> dict[str, Any]:
    """The policy at the client's end."""
    return {
        "podSelector": {"matchLabels": dict(connection.source.pods)},
        "policyTypes": ["Egress"],
        "egress": [{"to": peers(connection.target), "ports": port_list(connection)}],
    }


def ingress_spec(connection: Connection) -> dict[str, Any]:
    """The policy at the server's end."""
    return {
        "podSelector": {"matchLabels": dict(connection.target.pods)},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": peers(connection.source), "ports": port_list(connection)}],
    }


DNS_SPEC = {
    "podSelector": {},
    "policyTypes": ["Egress"],
    "egress": [
        {
            "to": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                    },
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        }
    ],
}
SAME_NAMESPACE_SPEC = {
    "podSelector": {},
    "policyTypes": ["Ingress", "Egress"],
    "ingress": [{"from": [{"podSelector": {}}]}],
    "egress": [{"to": [{"podSelector": {}}]}],
}


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
    """Default deny everywhere, DNS for all, then both ends of every connection."""

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
            deny = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
            _policy("default-deny", ns, deny, self, depends)
            _policy("allow-dns", ns, DNS_SPEC, self, depends)
            if ns in SAME_NAMESPACE:
                _policy("allow-same-namespace", ns, SAME_NAMESPACE_SPEC, self, depends)
        for connection in connections(
            config.network, config.app.ingress_namespace, config.app.internal_ingress_namespace
        ):
            if connection.source.namespace in owned:
                _policy(
                    f"allow-{connection.name}-egress",
                    connection.source.namespace,
                    egress_spec(connection),
                    self,
                    depends,
                )
            if connection.target.namespace in owned:
                _policy(
                    f"allow-{connection.name}-ingress",
                    connection.target.namespace,
                    ingress_spec(connection),
                    self,
                    depends,
                )
        self.register_outputs({})
