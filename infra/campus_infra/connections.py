"""The connections each component of the platform needs, as data.

Read from the charts' templates and the operators' documentation at the pinned versions
(charts.py): who opens a connection to whom, on which ports, and what listens there.
network.py turns `connections()` into NetworkPolicies (one allow policy per end we own,
under a default deny); the tests check that the rendered policies allow exactly these
connections and that every port is one that `LISTENERS` says something listens on.

A component is a set of pods (namespace and the labels its chart or operator puts on
them) or a set of addresses outside the pod network (CIDRs from stack config).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from campus_infra import k8s as n
from campus_infra.config import NetworkConfig
from campus_infra.jobs import OUTBOX_JOB

API_PORTS = (443, 6443)


@dataclass(frozen=True)
class Component:
    """Pods of one namespace selected by labels, or addresses outside the cluster."""

    name: str
    namespace: str | None = None
    pods: dict[str, str] = field(default_factory=dict)
    cidrs: tuple[str, ...] = ()

    @property
    def external(self) -> bool:
        """True for addresses outside the pod network (API server, nodes, S3, Git)."""
        return self.namespace is None


@dataclass(frozen=True)
class Connection:
    """`source` opens TCP connections to `target` on `ports`; `why` says who needs it."""

    name: str
    source: Component
    target: Component
    ports: tuple[int, ...]
    why: str


@dataclass(frozen=True)
class Listener:
    """A port a component listens on, and where that is written upstream."""

    component: str
    port: int
    what: str
    source: str


def components(
    network: NetworkConfig,
    ingress_namespace: str,
    internal_ingress_namespace: str = "ingress-nginx-internal",
) -> dict[str, Component]:
    """Every component by name; external ones carry the stack's CIDRs."""
    found = [
        # One controller per entry (ingresses.py): the public one and the intranet one.
        Component("ingress-controller", ingress_namespace, {}),
        Component("intranet-ingress-controller", internal_ingress_namespace, {}),
        Component("app", n.NS_APP, {"app.kubernetes.io/name": n.APP_NAME}),
        # The app and its migration Job: every pod of ours that opens database connections.
        Component("db-clients", n.NS_APP, dict(n.DB_CLIENT_PODS)),
        Component("locust", n.NS_LOAD, {"app.kubernetes.io/name": "locust"}),
        Component(
            "locust-master",
            n.NS_LOAD,
            {"app.kubernetes.io/name": "locust", "app.kubernetes.io/component": "master"},
        ),
        Component("database", n.NS_DB, {"cnpg.io/cluster": n.DB_CLUSTER}),
        Component("database-namespace", n.NS_DB, {}),
        Component("cnpg-operator", n.NS_CNPG, {"app.kubernetes.io/name": "cloudnative-pg"}),
        Component(
            "barman-cloud-plugin", n.NS_CNPG, {"app.kubernetes.io/name": "plugin-barman-cloud"}
        ),
        Component("prometheus", n.NS_MONITORING, {"app.kubernetes.io/name": "prometheus"}),
        Component(
            "prometheus-operator",
            n.NS_MONITORING,
            {"app.kubernetes.io/name": "kube-prometheus-stack-prometheus-operator"},
        ),
        Component(
            "otel-collector", n.NS_MONITORING, {"app.kubernetes.io/name": "opentelemetry-collector"}
        ),
        Component(
            "prometheus-adapter", n.NS_MONITORING, {"app.kubernetes.io/name": "prometheus-adapter"}
        ),
        Component("monitoring", n.NS_MONITORING, {}),
        Component("falco", n.NS_FALCO, {"app.kubernetes.io/name": "falco"}),
        Component("argocd", n.NS_ARGOCD, {}),
        Component("coredns", "kube-system", {"k8s-app": "kube-dns"}),
        Component("api-server", cidrs=network.control_plane_cidrs),
        Component("nodes", cidrs=network.node_cidrs),
        Component("object-storage", cidrs=network.object_storage_cidrs),
        Component("git", cidrs=network.git_cidrs),
        Component("artifact-registry", cidrs=network.artifact_registry_cidrs),
        # The outbox dispatcher's CronJob pods (jobs.py) and the relay they send through.
        Component("outbox-dispatcher", n.NS_APP, {"app.kubernetes.io/name": OUTBOX_JOB}),
        Component("smtp-relay", cidrs=network.smtp_relay_cidrs),
    ]
    return {c.name: c for c in found}


# What listens where. Our own workloads' ports are also checked against the rendered
# containerPorts; the others are read from the upstream sources named here.
LISTENERS = (
    Listener("app", n.APP_PORT, "gunicorn (API, /metrics)", "infra/campus_infra/app.py"),
    Listener("locust-master", 5557, "Locust master (workers' ZeroMQ)", "loadgen.py"),
    Listener("database", 5432, "PostgreSQL", "cloudnative-pg docs: architecture"),
    Listener(
        "database", 8000, "instance manager status (operator, replicas)",
        "cloudnative-pg docs: instance_manager; pkg/management/url (StatusPort 8000)",
    ),
    Listener(
        "database", 9187, "instance manager metrics exporter",
        "cloudnative-pg docs: monitoring (port 9187, named metrics)",
    ),
    Listener(
        "cnpg-operator", 8080, "operator metrics",
        "cloudnative-pg/charts@cloudnative-pg-v0.29.0 templates/deployment.yaml (metrics)",
    ),
    Listener(
        "cnpg-operator", 9443, "admission webhooks",
        "cloudnative-pg/charts@cloudnative-pg-v0.29.0 values.yaml webhook.port",
    ),
    Listener(
        "barman-cloud-plugin", 9090, "CNPG-I gRPC (Service barman-cloud)",
        "cloudnative-pg/charts@plugin-barman-cloud-v0.7.0 templates/deployment.yaml "
        "--server-address=:9090, templates/service.yaml",
    ),
    Listener(
        "prometheus-operator", 10250, "admission webhook and metrics (TLS)",
        "prometheus-community/helm-charts@kube-prometheus-stack-88.5.3 values.yaml "
        "prometheusOperator.tls.internalPort",
    ),
    Listener(
        "prometheus-adapter", 6443, "custom.metrics.k8s.io (aggregated API, TLS)",
        "prometheus-community/helm-charts@prometheus-adapter-5.3.0 values.yaml listenPort",
    ),
    Listener(
        "otel-collector", 4317, "OTLP gRPC",
        "open-telemetry/opentelemetry-helm-charts@opentelemetry-collector-0.170.0 values.yaml",
    ),
    Listener(
        "otel-collector", 4318, "OTLP HTTP",
        "open-telemetry/opentelemetry-helm-charts@opentelemetry-collector-0.170.0 values.yaml",
    ),
    Listener(
        "falco", 8765, "Falco web server (/metrics)",
        "falcosecurity/charts@falco-9.1.0 values.yaml falco.webserver.listen_port",
    ),
    Listener("coredns", 9153, "CoreDNS prometheus plugin", "kube-prometheus-stack coreDns.service"),
    Listener("nodes", 9100, "node exporter (host network)", "prometheus-node-exporter values"),
    Listener("nodes", 10250, "kubelet (metrics, cAdvisor)", "kube-prometheus-stack kubelet"),
    Listener("api-server", 443, "API server (kubernetes Service)", "Kubernetes"),
    Listener("api-server", 6443, "API server (endpoint address)", "Kubernetes"),
    Listener("object-storage", 443, "S3 over HTTPS", "campus-platform:database.backup"),
    Listener("git", 443, "Git over HTTPS", "campus-platform:gitops.repoUrl"),
    Listener("git", 22, "Git over SSH", "campus-platform:gitops.repoUrl"),
    Listener("artifact-registry", 443, "OCI registry (Falco rules and plugins)", "falcoctl"),
    Listener("smtp-relay", 25, "SMTP relay", "campus-platform:network.smtpRelayPort"),
    Listener("smtp-relay", 587, "SMTP relay (submission)", "campus-platform:network.smtpRelayPort"),
)  # fmt: skip

# Namespaces whose chart-installed pods talk among themselves on ports the charts choose
# (Argo CD's server, repo-server, controller and Redis; Prometheus, Alertmanager, Grafana,
# kube-state-metrics and the operator): one policy opens the namespace to itself.
SAME_NAMESPACE = (n.NS_ARGOCD, n.NS_MONITORING)


def connections(
    network: NetworkConfig,
    ingress_namespace: str = "ingress-nginx",
    internal_ingress_namespace: str = "ingress-nginx-internal",
) -> list[Connection]:
    """Every connection the platform needs; anything else is denied."""
    c = components(network, ingress_namespace, internal_ingress_namespace)
    return [
        Connection("ingress-to-app", c["ingress-controller"], c["app"], (n.APP_PORT,),
                   "the public entry's controller proxies extranet requests to the app"),
        Connection("intranet-ingress-to-app", c["intranet-ingress-controller"], c["app"],
                   (n.APP_PORT,),
                   "the intranet entry's controller proxies staff requests to the app"),
        Connection("loadgen-to-app", c["locust"], c["app"], (n.APP_PORT,),
                   "Locust workers send the rehearsal's requests"),
        Connection("app-to-database", c["db-clients"], c["database"], (5432,),
                   "the app and its migration Job use PostgreSQL"),
        Connection("app-to-otel-collector", c["db-clients"], c["otel-collector"], (4317, 4318),
                   "the app exports traces over OTLP"),
        Connection("prometheus-to-app-metrics", c["prometheus"], c["app"], (n.APP_PORT,),
                   "ServiceMonitor campus-app"),
        Connection("prometheus-to-database-metrics", c["prometheus"], c["database"], (9187,),
                   "PodMonitor campus-db"),
        Connection("prometheus-to-falco-metrics", c["prometheus"], c["falco"], (8765,),
                   "Falco's ServiceMonitor"),
        Connection("prometheus-to-operator-metrics", c["prometheus"], c["cnpg-operator"], (8080,),
                   "the CloudNativePG operator's metrics"),
        Connection("prometheus-to-coredns", c["prometheus"], c["coredns"], (9153,),
                   "kube-prometheus-stack's coreDns ServiceMonitor (on by default)"),
        Connection("prometheus-to-nodes", c["prometheus"], c["nodes"], (9100, 10250),
                   "node exporter (host network) and kubelet/cAdvisor scrapes"),
        Connection("database-replication", c["database"], c["database"], (5432, 8000),
                   "streaming replication and the instance manager's status between instances"),
        Connection("operator-to-database", c["cnpg-operator"], c["database"], (8000,),
                   "the operator polls each instance manager's status"),
        Connection("operator-to-barman-plugin", c["cnpg-operator"], c["barman-cloud-plugin"],
                   (9090,), "the operator calls the plugin's Service before creating instances"),
        Connection("locust-workers-to-master", c["locust"], c["locust-master"], (5557,),
                   "Locust workers report to the master"),
        Connection("database-to-object-storage", c["database"], c["object-storage"], (443,),
                   "the plugin's sidecar in each instance archives WALs and base backups"),
        Connection("outbox-to-smtp-relay", c["outbox-dispatcher"], c["smtp-relay"],
                   (network.smtp_relay_port,),
                   "the outbox dispatcher CronJob hands messages to employers to the relay"),
        Connection("argocd-to-git", c["argocd"], c["git"], (443, 22),
                   "the repo-server fetches the deploy repository"),
        Connection("falco-to-artifact-registry", c["falco"], c["artifact-registry"], (443,),
                   "falcoctl installs and follows the rules and the container plugin"),
        Connection("cnpg-system-to-api-server", Component("cnpg-system", n.NS_CNPG),
                   c["api-server"], API_PORTS, "the operator and the plugin are controllers"),
        Connection("database-to-api-server", c["database-namespace"], c["api-server"], API_PORTS,
                   "the instance manager reads its Cluster and writes status"),
        Connection("monitoring-to-api-server", c["monitoring"], c["api-server"], API_PORTS,
                   "service discovery, the operator, kube-state-metrics, Grafana's sidecar, "
                   "and the API server's own scrape"),
        Connection("argocd-to-api-server", c["argocd"], c["api-server"], API_PORTS,
                   "Argo CD applies and watches the app's manifests"),
        Connection("api-server-to-prometheus-adapter", c["api-server"],
                   c["prometheus-adapter"], (6443,),
                   "the aggregated custom metrics API the app's HPA reads"),
        Connection("api-server-to-cnpg-webhook", c["api-server"], c["cnpg-operator"], (9443,),
                   "CloudNativePG's admission webhooks"),
        Connection("api-server-to-prometheus-operator-webhook", c["api-server"],
                   c["prometheus-operator"], (10250,),
                   "the PrometheusRule admission webhook"),
    ]  # fmt: skip
