"""Runtime and node security: Falco with our rules, kube-bench as a gated CronJob."""

import copy
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from campus_infra import charts, policy_files
from campus_infra import k8s as n
from campus_infra.config import PROJECT, ConfigError, StackConfig
from campus_infra.helm import release

# job.yaml names the gate's image by this placeholder: the gate runs `platform-tools`, which
# ships in the app image, so it takes the stack's app image.
APP_IMAGE_PLACEHOLDER = "campus-app"
KUBE_BENCH_SKIPS = n.checkov_skips(
    **n.DIGEST_SKIP,
    CKV_K8S_11="CPU limits would only stretch a short nightly scan; memory is limited",
    CKV_K8S_17="CIS checks read the kubelet's and control plane's command lines (host PID)",
)


def kube_bench_pod_spec(
    config: StackConfig, spec: dict[str, Any], benchmarks: dict[str, Any]
) -> dict[str, Any]:
    """Adapt job.yaml's pod spec: benchmark for our Kubernetes version, the app image for
    the gate, results on a volume that outlives the pod, RuntimeDefault seccomp."""
    version = config.security.kubernetes_version
    benchmark = benchmarks["benchmarks"].get(version)
    if benchmark is None:
        known = ", ".join(sorted(benchmarks["benchmarks"]))
        raise ConfigError(
            f"{PROJECT}:security.kubernetesVersion {version!r} has no CIS benchmark in "
            f"policies/kube-bench/benchmarks.yaml (known: {known})"
        )
    pod = copy.deepcopy(spec)
    pod.setdefault("securityContext", {})["seccompProfile"] = {"type": "RuntimeDefault"}
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        if container.get("image") == APP_IMAGE_PLACEHOLDER:
            container["image"] = config.app.image
        elif container.get("image") != benchmarks["kube_bench_image"]:
            raise ConfigError(
                f"policies/kube-bench/job.yaml runs {container.get('image')!r} but "
                f"benchmarks.yaml was checked for {benchmarks['kube_bench_image']!r}"
            )
        container["imagePullPolicy"] = "Always"
        container.setdefault("securityContext", {})["seccompProfile"] = {"type": "RuntimeDefault"}
        for env in container.get("env", []):
            if env.get("name") == "KUBE_BENCH_BENCHMARK":
                env["value"] = benchmark
    # Keep each run's JSON on a claim: the next run's gate and ops can read it back.
    for volume in pod.get("volumes", []):
        if volume.get("name") == "results":
            volume.clear()
            volume.update(
                {"name": "results", "persistentVolumeClaim": {"claimName": "kube-bench-results"}}
            )
    return pod


class Security(pulumi.ComponentResource):
    """Falco (Helm) with policies/falco rules and metrics; kube-bench CronJob."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        depends: list[pulumi.Resource],
        monitoring_crds: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("campus:platform:Security", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=depends)
        self.falco_rules = policy_files.falco_rules()
        falco_values: dict[str, Any] = {
            "driver": {"kind": "modern_ebpf"},
            "tty": True,
            "metrics": {"enabled": True, "service": {"create": True}},
            "serviceMonitor": {"create": True},
            "resources": {
                "requests": {"cpu": "100m", "memory": "512Mi"},
                "limits": {"cpu": "1000m", "memory": "1024Mi"},
            },
        }
        if self.falco_rules is not None:
            falco_values["customRules"] = {"campus_rules.yaml": self.falco_rules}
        else:
            pulumi.log.warn("policies/falco/campus_rules.yaml is missing: upstream rules only")
        # The release creates a ServiceMonitor: on a fresh cluster it must wait for the
        # monitoring CRDs (kube-prometheus-stack), or Helm finds no such kind.
        release(
            "falco",
            charts.FALCO,
            n.NS_FALCO,
            falco_values,
            pulumi.ResourceOptions(parent=self, depends_on=[*depends, *monitoring_crds]),
        )

        pod_spec = policy_files.kube_bench_pod_spec()
        benchmarks = policy_files.kube_bench_benchmarks()
        allowlist = policy_files.kube_bench_allowlist()
        if pod_spec is None or benchmarks is None or allowlist is None:
            pulumi.log.warn("policies/kube-bench/ is incomplete: no kube-bench CronJob")
            self.register_outputs({})
            return
        bench_labels = n.labels("kube-bench", "cis-benchmark")
        k8s.core.v1.ConfigMap(
            "kube-bench-allowlist",
            metadata={
                "name": "kube-bench-allowlist",
                "namespace": n.NS_KUBE_BENCH,
                "labels": bench_labels,
            },
            data={"allowlist.yaml": allowlist},
            opts=child,
        )
        k8s.core.v1.PersistentVolumeClaim(
            "kube-bench-results",
            metadata={
                "name": "kube-bench-results",
                "namespace": n.NS_KUBE_BENCH,
                "labels": bench_labels,
            },
            spec={
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": config.security.kube_bench_results_size}},
            },
            opts=child,
        )
        k8s.batch.v1.CronJob(
            "kube-bench",
            metadata={
                "name": "kube-bench",
                "namespace": n.NS_KUBE_BENCH,
                "labels": bench_labels,
                "annotations": KUBE_BENCH_SKIPS,
            },
            spec={
                "schedule": config.security.kube_bench_schedule,
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {
                    "spec": {
                        "backoffLimit": 0,
                        "template": {
                            "metadata": {"labels": bench_labels},
                            "spec": kube_bench_pod_spec(config, pod_spec, benchmarks),
                        },
                    }
                },
            },
            opts=child,
        )
        self.register_outputs({"benchmark_version": config.security.kubernetes_version})
