"""Helm releases from the pinned charts of charts.py."""

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from campus_infra.charts import HelmChart


def release(
    name: str,
    chart: HelmChart,
    namespace: str,
    values: dict[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    """One Helm release; Pulumi waits for its resources to be ready (CRDs included)."""
    return k8s.helm.v3.Release(
        name,
        name=name,
        chart=chart.chart,
        version=chart.version,
        repository_opts={"repo": chart.repo},
        namespace=namespace,
        create_namespace=False,
        atomic=True,
        values=values,
        opts=opts,
    )
