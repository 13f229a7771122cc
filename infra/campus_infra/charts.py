"""Helm charts the platform installs, each pinned to one version.

Chart versions are code, not site config: a bump is reviewed and rendered like any change.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class HelmChart:
    """One chart from one repository at one exact version."""

    chart: str
    repo: str
    version: str


CLOUDNATIVE_PG = HelmChart(
    chart="cloudnative-pg", repo="https://cloudnative-pg.github.io/charts", version="0.28.3"
)
# The Barman Cloud plugin carries backups since CloudNativePG 1.26 deprecated in-tree Barman.
BARMAN_CLOUD_PLUGIN = HelmChart(
    chart="plugin-barman-cloud", repo="https://cloudnative-pg.github.io/charts", version="0.8.1"
)
KUBE_PROMETHEUS_STACK = HelmChart(
    chart="kube-prometheus-stack",
    repo="https://prometheus-community.github.io/helm-charts",
    version="79.5.0",
)
OPENTELEMETRY_COLLECTOR = HelmChart(
    chart="opentelemetry-collector",
    repo="https://open-telemetry.github.io/opentelemetry-helm-charts",
    version="0.108.0",
)
FALCO = HelmChart(chart="falco", repo="https://falcosecurity.github.io/charts", version="4.8.0")
ARGO_CD = HelmChart(chart="argo-cd", repo="https://argoproj.github.io/argo-helm", version="7.6.8")

ALL_CHARTS = (
    CLOUDNATIVE_PG,
    BARMAN_CLOUD_PLUGIN,
    KUBE_PROMETHEUS_STACK,
    OPENTELEMETRY_COLLECTOR,
    FALCO,
    ARGO_CD,
)

# Images the program runs itself (the app's comes from stack config).
POSTGRES_IMAGE = "ghcr.io/cloudnative-pg/postgresql:16.9-bookworm"
LOCUST_IMAGE = "docker.io/locustio/locust:2.47.0"
