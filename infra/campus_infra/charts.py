"""Helm charts the platform installs, each pinned to one version, and the images the
program runs itself.

Chart versions are code, not site config: a bump is reviewed and rendered like any change.
Each pin says where its version was read and when (`checked`); `make refresh-schemas`
brings the pinned charts' values schemas and CRDs into infra/schemas/ (see SOURCES.yaml
there), and the tests check every release's values and custom resource against them.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class HelmChart:
    """One chart from one repository at one exact version.

    `source` and `tag` name the chart's source repository and release tag on GitHub, where
    its templates, values and CRDs can be read at exactly this version.
    """

    chart: str
    repo: str
    version: str
    source: str
    tag: str
    checked: str


CLOUDNATIVE_PG = HelmChart(
    chart="cloudnative-pg",
    repo="https://cloudnative-pg.github.io/charts",
    version="0.29.0",  # operator 1.30.0
    source="cloudnative-pg/charts",
    tag="cloudnative-pg-v0.29.0",
    checked="2026-11-30",
)
# The Barman Cloud plugin carries backups since CloudNativePG 1.26 deprecated in-tree Barman.
# 0.7.0 is the newest chart release (plugin v0.13.0); the 0.8.1 pinned before never existed.
BARMAN_CLOUD_PLUGIN = HelmChart(
    chart="plugin-barman-cloud",
    repo="https://cloudnative-pg.github.io/charts",
    version="0.7.0",
    source="cloudnative-pg/charts",
    tag="plugin-barman-cloud-v0.7.0",
    checked="2026-11-30",
)
KUBE_PROMETHEUS_STACK = HelmChart(
    chart="kube-prometheus-stack",
    repo="https://prometheus-community.github.io/helm-charts",
    version="88.5.3",  # prometheus-operator v0.93.1
    source="prometheus-community/helm-charts",
    tag="kube-prometheus-stack-88.5.3",
    checked="2026-11-30",
)
# The node exporter chart kube-prometheus-stack 88.5.3 depends on (its values are set
# through the parent's `prometheus-node-exporter` key).
PROMETHEUS_NODE_EXPORTER = HelmChart(
    chart="prometheus-node-exporter",
    repo="https://prometheus-community.github.io/helm-charts",
    version="4.56.1",
    source="prometheus-community/helm-charts",
    tag="prometheus-node-exporter-4.56.1",
    checked="2026-11-30",
)
OPENTELEMETRY_COLLECTOR = HelmChart(
    chart="opentelemetry-collector",
    repo="https://open-telemetry.github.io/opentelemetry-helm-charts",
    version="0.170.0",  # collector 0.158.0
    source="open-telemetry/opentelemetry-helm-charts",
    tag="opentelemetry-collector-0.170.0",
    checked="2026-11-30",
)
# Serves custom.metrics.k8s.io from Prometheus: the app's requests in flight per pod, which
# the app's HPA scales on (app.py, monitoring.py).
PROMETHEUS_ADAPTER = HelmChart(
    chart="prometheus-adapter",
    repo="https://prometheus-community.github.io/helm-charts",
    version="5.3.0",  # prometheus-adapter v0.12.0
    source="prometheus-community/helm-charts",
    tag="prometheus-adapter-5.3.0",
    checked="2026-11-30",
)
FALCO = HelmChart(
    chart="falco",
    repo="https://falcosecurity.github.io/charts",
    version="9.1.0",  # Falco 0.44.1
    source="falcosecurity/charts",
    tag="falco-9.1.0",
    checked="2026-11-30",
)
ARGO_CD = HelmChart(
    chart="argo-cd",
    repo="https://argoproj.github.io/argo-helm",
    version="10.1.1",  # Argo CD v3.4.4
    source="argoproj/argo-helm",
    tag="argo-cd-10.1.1",
    checked="2026-11-30",
)

# The ingress controllers in front of the app, one per entry (ingresses.py): installed by ops
# with the values `ingresses.controller_values` gives, not by this program. Pinned all the
# same: the Ingresses' annotations and the controllers' values are checked against this
# release's docs and values.yaml (infra/schemas/ingress-nginx/, charts/ingress-nginx/).
# 4.15.1 (controller v1.15.1) is the newest release on the project's tags, checked 2026-11-30.
INGRESS_NGINX = HelmChart(
    chart="ingress-nginx",
    repo="https://kubernetes.github.io/ingress-nginx",
    version="4.15.1",  # controller v1.15.1
    source="kubernetes/ingress-nginx",
    tag="helm-chart-4.15.1",
    checked="2026-11-30",
)
INGRESS_NGINX_CONTROLLER_TAG = "controller-v1.15.1"

ALL_CHARTS = (
    CLOUDNATIVE_PG,
    BARMAN_CLOUD_PLUGIN,
    KUBE_PROMETHEUS_STACK,
    PROMETHEUS_ADAPTER,
    OPENTELEMETRY_COLLECTOR,
    FALCO,
    ARGO_CD,
)

# Images the program runs itself (the app's comes from stack config).
# CloudNativePG's `standard` image type, the one meant for backup plugins (the `system`
# type, with Barman built in, is deprecated); 16.15 is the newest 16.x in CloudNativePG's
# image catalog (cloudnative-pg/postgres-containers, Debian/ClusterImageCatalog-bookworm.yaml,
# catalog of 2026-08-17), checked 2026-11-30. An existing cluster cannot switch from a
# `system` image in place: it is restored into a new cluster.
POSTGRES_IMAGE = "ghcr.io/cloudnative-pg/postgresql:16.15-standard-bookworm"
POSTGRES_IMAGE_CHECKED = "2026-11-30"
# The Locust release uv.lock pins (2.47.0, the newest on PyPI, checked 2026-11-30).
LOCUST_IMAGE = "docker.io/locustio/locust:2.47.0"
