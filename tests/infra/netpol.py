"""A small NetworkPolicy evaluator (Kubernetes semantics, TCP/UDP ports, matchLabels,
ipBlock) over rendered policies: is a connection from one endpoint to another allowed?

Stand-in for a CNI: there is no cluster here. It follows the API's rules: a pod is isolated
in a direction when a policy selecting it lists that direction; then only what some rule of
those policies allows gets through, and both ends must allow it. Pods of namespaces we do not
own have no policies here, so their side allows everything.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Endpoint:
    """A pod (namespace and labels) or an address outside the pod network."""

    name: str
    namespace: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    ip: str | None = None


def _selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return True
    assert not selector.get("matchExpressions"), "evaluator handles matchLabels only"
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def _peer_matches(peer: dict[str, Any], policy_ns: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        if other.ip is None:
            return False
        address = ipaddress.ip_address(other.ip)
        block = peer["ipBlock"]
        inside = address in ipaddress.ip_network(block["cidr"])
        return inside and not any(
            address in ipaddress.ip_network(e) for e in block.get("except") or []
        )
    if other.namespace is None:
        return False
    if "namespaceSelector" in peer:
        ns_labels = {"kubernetes.io/metadata.name": other.namespace}
        if not _selects(peer["namespaceSelector"], ns_labels):
            return False
    elif other.namespace != policy_ns:
        return False
    return _selects(peer.get("podSelector"), other.labels)


def _port_matches(ports: list[dict[str, Any]] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    return any(p.get("port") == port and p.get("protocol", "TCP") == protocol for p in ports)


def _side_allows(
    policies: list[dict[str, Any]],
    pod: Endpoint,
    other: Endpoint,
    port: int,
    protocol: str,
    direction: str,
) -> bool:
    if pod.namespace is None:
        return True
    kind = "Egress" if direction == "egress" else "Ingress"
    peers_key = "to" if direction == "egress" else "from"
    selecting = [
        p
        for p in policies
        if p["metadata"]["namespace"] == pod.namespace
        and kind in p["spec"].get("policyTypes", [])
        and _selects(p["spec"]["podSelector"], pod.labels)
    ]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get(direction) or []:
            peers = rule.get(peers_key)
            peer_ok = not peers or any(
                _peer_matches(peer, policy["metadata"]["namespace"], other) for peer in peers
            )
            if peer_ok and _port_matches(rule.get("ports"), port, protocol):
                return True
    return False


def allowed(
    policies: list[dict[str, Any]],
    source: Endpoint,
    target: Endpoint,
    port: int,
    protocol: str = "TCP",
) -> bool:
    """Whether `source` may open a connection to `target` on `port`."""
    return _side_allows(policies, source, target, port, protocol, "egress") and _side_allows(
        policies, target, source, port, protocol, "ingress"
    )
