"""The Locust load generator in `campus-load`: one master, N workers, scenarios from
loadtests/ mounted as a ConfigMap. Created only when `loadgen.enabled` is on (the surge
profile pre-scales without it, and sizes its workers when a rehearsal turns it on).

The scenario comes from `loadgen.scenario` (LOADTEST_SCENARIO for locustfile.py); the staff
token and prepared data (loadtests/prepare.py) are files of the optional Secret
`campus-loadtest` (keys `staff-token` and `scenario.json`, mounted on /data, never as
environment variables). Without it the pods start and the scenario refuses to run, naming
what is missing."""

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from campus_infra import charts, policy_files
from campus_infra import k8s as n
from campus_infra.config import PROJECT, ConfigError, StackConfig

ENTRY_POINT = "locustfile.py"
MASTER = "locust-master"
TARGET = f"http://{n.APP_NAME}.{n.NS_APP}.svc"
HOME = "/tmp"  # noqa: S108 (a path in the container, the emptyDir)
# Made by the operator before a rehearsal (loadtests/README.md): the staff token and the
# data loadtests/prepare.py wrote. Optional, so the pods start without it.
DATA_SECRET = "campus-loadtest"  # noqa: S105 (the Secret's name, not a secret)
DATA_DIR = "/data"
SKIPS = n.checkov_skips(**n.DIGEST_SKIP)


def _container(config: StackConfig, role: str) -> dict[str, Any]:
    _, tmp_mount = n.tmp_volume()
    # The token is read from its file (an argument: no secret-looking environment variable).
    args = [
        "-f",
        f"/scenarios/{ENTRY_POINT}",
        f"--{role}",
        "--staff-token-file",
        f"{DATA_DIR}/staff-token",
    ]
    container: dict[str, Any] = {
        "name": "locust",
        "image": charts.LOCUST_IMAGE,
        "imagePullPolicy": "Always",
        "args": args,
        "env": [
            {"name": "LOCUST_HOST", "value": TARGET},
            {"name": "HOME", "value": HOME},
            {"name": "LOADTEST_SCENARIO", "value": config.loadgen.scenario},
            {"name": "LOADTEST_DATA", "value": f"{DATA_DIR}/scenario.json"},
        ],
        "resources": config.loadgen.resources.to_k8s(),
        "securityContext": n.restricted_container_security(),
        "volumeMounts": [
            tmp_mount,
            {"name": "scenarios", "mountPath": "/scenarios", "readOnly": True},
            {"name": "data", "mountPath": DATA_DIR, "readOnly": True},
        ],
    }
    if role == "master":
        container["args"] = [*args, "--expect-workers", str(config.loadgen.workers)]
        container["ports"] = [
            {"name": "web", "containerPort": 8089},
            {"name": "master", "containerPort": 5557},
        ]
        probe = {"httpGet": {"path": "/", "port": "web"}, "periodSeconds": 10}
        container["livenessProbe"] = probe
        container["readinessProbe"] = probe
    else:
        container["args"] = [*args, "--master-host", MASTER]
        # A worker is only useful while it reaches its master; restart it otherwise.
        reach_master = {
            "exec": {
                "command": [
                    "python",
                    "-c",
                    f"import socket; socket.create_connection(('{MASTER}', 5557), 3).close()",
                ]
            },
            "periodSeconds": 15,
            "timeoutSeconds": 5,
        }
        container["livenessProbe"] = {**reach_master, "failureThreshold": 4}
        container["readinessProbe"] = reach_master
    return container


class LoadGenerator(pulumi.ComponentResource):
    """Locust master Deployment and Service, worker Deployment, scenarios ConfigMap."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        depends: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("campus:platform:LoadGenerator", name, None, opts)
        scenarios = policy_files.loadtest_files()
        if ENTRY_POINT not in scenarios:
            raise ConfigError(
                f"{PROJECT}:loadgen.enabled is on but loadtests/{ENTRY_POINT} does not exist"
            )
        child = pulumi.ResourceOptions(parent=self, depends_on=depends)
        ns = n.NS_LOAD
        k8s.core.v1.ConfigMap(
            "locust-scenarios",
            metadata={
                "name": "locust-scenarios",
                "namespace": ns,
                "labels": n.labels("locust", "scenarios"),
            },
            data=scenarios,
            opts=child,
        )
        tmp, _ = n.tmp_volume()
        for role, replicas in (("master", 1), ("worker", config.loadgen.workers)):
            role_labels = n.labels("locust", role)
            k8s.apps.v1.Deployment(
                f"locust-{role}",
                metadata={
                    "name": f"locust-{role}",
                    "namespace": ns,
                    "labels": role_labels,
                    "annotations": SKIPS,
                },
                spec={
                    "replicas": replicas,
                    "selector": {
                        "matchLabels": {
                            "app.kubernetes.io/name": "locust",
                            "app.kubernetes.io/component": role,
                        }
                    },
                    "template": {
                        "metadata": {"labels": role_labels},
                        "spec": {
                            "automountServiceAccountToken": False,
                            "securityContext": n.restricted_pod_security(),
                            "containers": [_container(config, role)],
                            "volumes": [
                                tmp,
                                {"name": "scenarios", "configMap": {"name": "locust-scenarios"}},
                                {
                                    "name": "data",
                                    "secret": {"secretName": DATA_SECRET, "optional": True},
                                },
                            ],
                        },
                    },
                },
                opts=child,
            )
        if config.loadgen.workers > 1:
            # A node drain during a rehearsal takes workers away a few at a time.
            k8s.policy.v1.PodDisruptionBudget(
                "locust-worker",
                metadata={
                    "name": "locust-worker",
                    "namespace": ns,
                    "labels": n.labels("locust", "worker"),
                },
                spec={
                    "maxUnavailable": "25%",
                    "selector": {
                        "matchLabels": {
                            "app.kubernetes.io/name": "locust",
                            "app.kubernetes.io/component": "worker",
                        }
                    },
                },
                opts=child,
            )
        k8s.core.v1.Service(
            MASTER,
            metadata={"name": MASTER, "namespace": ns, "labels": n.labels("locust", "master")},
            spec={
                "selector": {
                    "app.kubernetes.io/name": "locust",
                    "app.kubernetes.io/component": "master",
                },
                "ports": [
                    {"name": "web", "port": 8089, "targetPort": "web"},
                    {"name": "master", "port": 5557, "targetPort": "master"},
                ],
            },
            opts=child,
        )
        self.register_outputs({"workers": config.loadgen.workers, "scenarios": sorted(scenarios)})
