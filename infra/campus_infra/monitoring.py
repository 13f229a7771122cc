"""Monitoring: kube-prometheus-stack, the OpenTelemetry Collector, our alert rules and
Grafana dashboards (both read from policies/)."""

import re

import pulumi
import pulumi_kubernetes as k8s

from campus_infra import charts, policy_files
from campus_infra import k8s as n
from campus_infra.config import StackConfig
from campus_infra.helm import release

RULE_NAME = "campus-platform"
# Where the node exporter reads textfile metrics inside its pod (the host's
# n.TEXTFILE_DIR, mounted read-only).
TEXTFILE_MOUNT = "/host/textfile"
# kube-prometheus-stack scrapes these control-plane components by default. On kubeadm
# nodes (ours: playbooks/roles/k8s_node) they serve metrics on 127.0.0.1 only, so no pod
# can reach them and their default alerts (TargetDown, KubeSchedulerDown, ...) would
# fire for ever: off, deliberately, scrape and rules alike. The control plane stays
# watched through the API server's and the kubelets' own metrics.
DISABLED_SCRAPES = {
    "kubeControllerManager": "binds 127.0.0.1:10257 on kubeadm control planes",
    "kubeScheduler": "binds 127.0.0.1:10259 on kubeadm control planes",
    "kubeEtcd": "metrics on 127.0.0.1:2381 on kubeadm control planes",
    "kubeProxy": "metricsBindAddress 127.0.0.1:10249 by default",
}
DISABLED_DEFAULT_RULES = (
    "etcd",
    "kubeControllerManager",
    "kubeProxy",
    "kubeSchedulerAlerting",
    "kubeSchedulerRecording",
)
# The chart's own node exporter arguments (kube-prometheus-stack values.yaml): a list
# value replaces the parent's, so they are repeated here before ours.
NODE_EXPORTER_DEFAULT_ARGS = [
    "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run/containerd/.+"
    "|var/lib/docker/.+|var/lib/kubelet/.+)($|/)",
    "--collector.filesystem.fs-types-exclude=^(autofs|binfmt_misc|bpf|cgroup2?|configfs"
    "|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs"
    "|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs|erofs)$",
]


def node_exporter_values() -> dict:
    """The node exporter reads the textfile metrics the kube-bench gate (and the ops tools
    on hosts) write into n.TEXTFILE_DIR."""
    return {
        "extraArgs": [
            *NODE_EXPORTER_DEFAULT_ARGS,
            f"--collector.textfile.directory={TEXTFILE_MOUNT}",
        ],
        "extraHostVolumeMounts": [
            {
                "name": "textfile",
                "hostPath": n.TEXTFILE_DIR,
                "type": "Directory",
                "mountPath": TEXTFILE_MOUNT,
                "readOnly": True,
                "mountPropagation": "HostToContainer",
            }
        ],
    }


# kube-prometheus-stack's Prometheus Service (release kube-prometheus-stack: its fullname
# is the release name, templates/prometheus/service.yaml).
PROMETHEUS_URL = f"http://kube-prometheus-stack-prometheus.{n.NS_MONITORING}.svc"
PROMETHEUS_PORT = 9090


def in_flight_rule() -> dict:
    """The adapter rule serving the app's in-flight gauge as a per-pod custom metric."""
    return {
        "seriesQuery": f'{n.IN_FLIGHT_METRIC}{{namespace!="",pod!=""}}',
        "resources": {
            "overrides": {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}
        },
        "name": {"matches": f"^{n.IN_FLIGHT_METRIC}$", "as": n.IN_FLIGHT_METRIC},
        # The gauge is already one value per pod (gunicorn workers summed, livesum); max over
        # the pod's series guards against a duplicate scrape of the same pod.
        "metricsQuery": "max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
    }


def dashboard_configmap_name(file_name: str) -> str:
    """`API overview.json` -> `dashboard-api-overview` (a valid object name)."""
    stem = re.sub(r"[^a-z0-9]+", "-", file_name.rsplit(".", 1)[0].lower()).strip("-")
    return f"dashboard-{stem}"[:63].rstrip("-")


class Monitoring(pulumi.ComponentResource):
    """Prometheus, Grafana, Alertmanager and the Collector, with the platform's own rules."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        depends: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("campus:platform:Monitoring", name, None, opts)
        mon = config.monitoring
        child = pulumi.ResourceOptions(parent=self, depends_on=depends)
        self.stack = release(
            "kube-prometheus-stack",
            charts.KUBE_PROMETHEUS_STACK,
            n.NS_MONITORING,
            {
                "prometheus": {
                    "prometheusSpec": {
                        # Pick up every ServiceMonitor, PodMonitor and PrometheusRule, not only
                        # those labelled with this release.
                        "ruleSelectorNilUsesHelmValues": False,
                        "serviceMonitorSelectorNilUsesHelmValues": False,
                        "podMonitorSelectorNilUsesHelmValues": False,
                        "retention": mon.prometheus_retention,
                        "storageSpec": {
                            "volumeClaimTemplate": {
                                "spec": {
                                    "accessModes": ["ReadWriteOnce"],
                                    "resources": {
                                        "requests": {"storage": mon.prometheus_storage_size}
                                    },
                                }
                            }
                        },
                    }
                },
                **{key: {"enabled": False} for key in DISABLED_SCRAPES},
                "defaultRules": {"rules": dict.fromkeys(DISABLED_DEFAULT_RULES, False)},
                "prometheus-node-exporter": node_exporter_values(),
                "grafana": {
                    "admin": {
                        "existingSecret": mon.grafana_admin_secret,
                        "userKey": "admin-user",
                        "passwordKey": "admin-password",
                    },
                    "sidecar": {
                        "dashboards": {
                            "enabled": True,
                            "label": "grafana_dashboard",
                            "labelValue": "1",
                            "searchNamespace": n.NS_MONITORING,
                        }
                    },
                },
            },
            child,
        )
        self.collector = release(
            "otel-collector",
            charts.OPENTELEMETRY_COLLECTOR,
            n.NS_MONITORING,
            {
                "mode": "deployment",
                # The Service is `otel-collector`, the name the app's OTLP endpoint uses.
                "fullnameOverride": n.OTEL_SERVICE,
                "replicaCount": mon.collector_replicas,
                "image": {"repository": "otel/opentelemetry-collector-contrib"},
                "ports": {
                    "otlp": {"enabled": True},
                    "otlp-http": {"enabled": True},
                    "jaeger-compact": {"enabled": False},
                    "jaeger-thrift": {"enabled": False},
                    "jaeger-grpc": {"enabled": False},
                    "zipkin": {"enabled": False},
                },
                "securityContext": {
                    "runAsNonRoot": True,
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
                "resources": {
                    "requests": {"cpu": "100m", "memory": "128Mi"},
                    "limits": {"cpu": "500m", "memory": "512Mi"},
                },
            },
            child,
        )
        # custom.metrics.k8s.io for the app's HPA: requests in flight per pod, read from the
        # ServiceMonitor's series (which carry namespace and pod). Only this rule: the
        # chart's default rules expose every series Prometheus has.
        self.adapter = release(
            "prometheus-adapter",
            charts.PROMETHEUS_ADAPTER,
            n.NS_MONITORING,
            {
                "prometheus": {"url": PROMETHEUS_URL, "port": PROMETHEUS_PORT},
                "rules": {"default": False, "custom": [in_flight_rule()]},
                "resources": {
                    "requests": {"cpu": "50m", "memory": "128Mi"},
                    "limits": {"cpu": "500m", "memory": "256Mi"},
                },
            },
            pulumi.ResourceOptions(parent=self, depends_on=[*depends, self.stack]),
        )
        self.crds = [self.stack]
        crd_opts = pulumi.ResourceOptions(parent=self, depends_on=[*depends, self.stack])

        self.rule_groups = policy_files.prometheus_rule_groups()
        if self.rule_groups:
            k8s.apiextensions.CustomResource(
                "campus-platform-rules",
                api_version="monitoring.coreos.com/v1",
                kind="PrometheusRule",
                metadata={
                    "name": RULE_NAME,
                    "namespace": n.NS_MONITORING,
                    "labels": {"app.kubernetes.io/part-of": n.PART_OF},
                },
                spec={"groups": self.rule_groups},
                opts=crd_opts,
            )
        else:
            pulumi.log.warn("policies/prometheus/rules/*.yml: no rule files, no alerts deployed")

        self.dashboards = policy_files.dashboards()
        for file_name, text in self.dashboards.items():
            cm_name = dashboard_configmap_name(file_name)
            k8s.core.v1.ConfigMap(
                cm_name,
                metadata={
                    "name": cm_name,
                    "namespace": n.NS_MONITORING,
                    "labels": {"grafana_dashboard": "1", "app.kubernetes.io/part-of": n.PART_OF},
                },
                data={file_name: text},
                opts=child,
            )
        self.register_outputs(
            {"rule_groups": len(self.rule_groups), "dashboards": sorted(self.dashboards)}
        )
