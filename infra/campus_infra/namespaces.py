"""The namespaces we own, each with its Pod Security Admission level."""

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from campus_infra import k8s as names
from campus_infra.versions import kubernetes_minor

# Pod Security standards are pinned to the cluster's release (shared with the playbooks),
# so a cluster upgrade cannot silently tighten or loosen what is admitted.
PSA_VERSION = f"v{kubernetes_minor()}"


@dataclass(frozen=True)
class NamespaceSpec:
    """A namespace and the Pod Security level it enforces."""

    name: str
    enforce: str
    why: str


NAMESPACES = (
    NamespaceSpec(names.NS_APP, "restricted", "the app runs as uid 10001 with nothing extra"),
    NamespaceSpec(names.NS_DB, "restricted", "CloudNativePG instances need no host access"),
    NamespaceSpec(names.NS_CNPG, "restricted", "the operator and Barman plugin are non-root"),
    NamespaceSpec(names.NS_LOAD, "restricted", "Locust only opens sockets"),
    # Argo CD's chart sets restricted-compatible contexts, but its repo-server runs
    # custom tooling that upstream does not promise to keep restricted: enforce baseline,
    # warn and audit at restricted so a regression shows up.
    NamespaceSpec(names.NS_ARGOCD, "baseline", "repo-server tooling; restricted is audited"),
    # node-exporter (part of kube-prometheus-stack) reads host /proc and /sys on the host
    # network and PID namespace: privileged is the only level that admits it.
    NamespaceSpec(names.NS_MONITORING, "privileged", "node-exporter needs host PID and paths"),
    # Falco loads an eBPF probe and reads every host syscall: it cannot run unprivileged.
    NamespaceSpec(names.NS_FALCO, "privileged", "Falco's eBPF driver needs host access"),
    # kube-bench inspects kubelet and control-plane files and processes on the node
    # (host PID, read-only host paths), exactly what the CIS benchmark asks it to check.
    NamespaceSpec(names.NS_KUBE_BENCH, "privileged", "CIS checks read host files and PIDs"),
)


class Namespaces(pulumi.ComponentResource):
    """Creates every namespace of the platform; `.by_name` maps names to resources."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("campus:platform:Namespaces", name, None, opts)
        self.by_name: dict[str, k8s.core.v1.Namespace] = {}
        for spec in NAMESPACES:
            self.by_name[spec.name] = k8s.core.v1.Namespace(
                spec.name,
                metadata={
                    "name": spec.name,
                    "labels": {
                        "app.kubernetes.io/part-of": names.PART_OF,
                        "pod-security.kubernetes.io/enforce": spec.enforce,
                        "pod-security.kubernetes.io/enforce-version": PSA_VERSION,
                        "pod-security.kubernetes.io/audit": "restricted",
                        "pod-security.kubernetes.io/audit-version": PSA_VERSION,
                        "pod-security.kubernetes.io/warn": "restricted",
                        "pod-security.kubernetes.io/warn-version": PSA_VERSION,
                    },
                    "annotations": {"campus.example.org/pod-security-reason": spec.why},
                },
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"namespaces": [spec.name for spec in NAMESPACES]})

    def depends(self) -> list[pulumi.Resource]:
        """Resources that namespaced objects must wait for."""
        return list(self.by_name.values())
