"""The enrolment app's own manifests: migration Job, Deployment, Service, Ingress, HPA, PDB
and ServiceMonitor.

Argo CD owns these objects (GitOps, AppProject `campus-app`): `make render` writes them to
build/manifests/<stack>/, the pipeline publishes them to the deploy repository, and Argo CD
applies them. Pulumi never creates them, so no two controllers own the same object.
"""

import hashlib
from typing import Any

from campus_infra import k8s as n
from campus_infra.config import AppConfig, StackConfig
from campus_infra.database_client import APP_DB_SECRET, CA_DIR
from campus_infra.ingresses import MAX_BODY_BYTES, REQUEST_TIMEOUT_SECONDS, ingresses

# Seconds a stopping pod keeps serving after it is removed from the Service endpoints:
# longer than the ingress controller and kube-proxy take to notice, so no request is sent
# to a process that has already closed its socket.
PRESTOP_WAIT_SECONDS = 10
# gunicorn's graceful timeout plus the preStop wait, with margin.
TERMINATION_GRACE_SECONDS = 45
# Inside the pod the server must listen on every interface for the Service to reach it.
SERVE_ARGS = ["serve", "--host", "0.0.0.0", "--port", str(n.APP_PORT)]  # noqa: S104
OTEL_ENDPOINT = f"http://{n.OTEL_SERVICE}.{n.NS_MONITORING}.svc:4318"
# The key that signs exam-notice QR codes: a prerequisite Secret made by ops (like the TLS
# one), never in the deploy repository; production refuses to start without it.
EXAM_TOKEN_SECRET = "campus-exam-token"  # noqa: S105 (an object name)


def _env(config: StackConfig) -> list[dict[str, Any]]:
    app = config.app
    return [
        # From the operator's credentials, brought to this namespace by Pulumi
        # (database_client.py): the URL holds the password and verifies the server's
        # certificate against the CA mounted at CA_DIR.
        {
            "name": "DATABASE_URL",
            "valueFrom": {"secretKeyRef": {"name": APP_DB_SECRET, "key": "uri"}},
        },
        {"name": "APP_ENV", "value": "production"},
        {
            "name": "EXAM_TOKEN_KEY",
            "valueFrom": {"secretKeyRef": {"name": EXAM_TOKEN_SECRET, "key": "key"}},
        },
        {"name": "APP_WORKERS", "value": str(app.workers)},
        {"name": "APP_THREADS", "value": str(app.threads)},
        {"name": "LOG_LEVEL", "value": app.log_level},
        {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": OTEL_ENDPOINT},
        {"name": "OTEL_SERVICE_NAME", "value": n.APP_NAME},
        # The limits the Ingresses' own are derived from (ingresses.py).
        {"name": "APP_MAX_BODY_BYTES", "value": str(MAX_BODY_BYTES)},
        {"name": "APP_REQUEST_TIMEOUT", "value": str(REQUEST_TIMEOUT_SECONDS)},
        # The ingress controllers: the only peers whose X-Campus-Entry the app believes.
        {"name": "APP_TRUSTED_PROXIES", "value": ",".join(config.network.ingress_controller_cidrs)},
    ]


def _container(config: StackConfig, args: list[str], probes: bool) -> dict[str, Any]:
    app = config.app
    _, tmp_mount = n.tmp_volume()
    container: dict[str, Any] = {
        "name": "app",
        "image": app.image,
        "imagePullPolicy": "Always",
        "args": args,
        "env": _env(config),
        "resources": app.resources.to_k8s(),
        "securityContext": n.restricted_container_security(),
        "volumeMounts": [tmp_mount, {"name": "db-ca", "mountPath": CA_DIR, "readOnly": True}],
    }
    if probes:
        container["ports"] = [{"name": "http", "containerPort": n.APP_PORT, "protocol": "TCP"}]
        container["livenessProbe"] = {
            "httpGet": {"path": "/healthz", "port": "http"},
            "periodSeconds": 10,
            "timeoutSeconds": 2,
            "failureThreshold": 3,
        }
        container["readinessProbe"] = {
            "httpGet": {"path": "/readyz", "port": "http"},
            "periodSeconds": 5,
            "timeoutSeconds": 2,
            "failureThreshold": 2,
        }
        # Migrations and imports at start may take a while; liveness waits for this.
        container["startupProbe"] = {
            "httpGet": {"path": "/healthz", "port": "http"},
            "periodSeconds": 2,
            "failureThreshold": 30,
        }
        container["lifecycle"] = {"preStop": {"sleep": {"seconds": PRESTOP_WAIT_SECONDS}}}
    return container


def _pod_spec(app: AppConfig, containers: list[dict[str, Any]], restart: str) -> dict[str, Any]:
    tmp, _ = n.tmp_volume()
    return {
        "serviceAccountName": n.APP_NAME,
        "automountServiceAccountToken": False,
        "securityContext": n.restricted_pod_security(),
        "containers": containers,
        "volumes": [
            tmp,
            # The database server's CA certificate only (sslmode=verify-full checks it).
            {
                "name": "db-ca",
                "secret": {
                    "secretName": APP_DB_SECRET,
                    "items": [{"key": "ca.crt", "path": "ca.crt"}],
                    "defaultMode": 0o444,
                },
            },
        ],
        "restartPolicy": restart,
    }


def migration_job_name(image: str) -> str:
    """One Job per image: a new image runs its migrations once, before the rollout."""
    return "campus-migrate-" + hashlib.sha256(image.encode()).hexdigest()[:10]


# Argo CD applies lower waves first and waits for them to be healthy: the service account,
# then the migration Job (healthy once it has succeeded), then everything else.
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
# Kinds the app's manifests use: the AppProject allows Argo CD these and nothing else.
APP_KINDS = (
    ("", "ServiceAccount"),
    ("batch", "Job"),
    ("batch", "CronJob"),  # the scheduled commands of jobs.py
    ("", "PersistentVolumeClaim"),  # the outbox dispatcher's journal (jobs.py)
    ("apps", "Deployment"),
    ("", "Service"),
    ("networking.k8s.io", "Ingress"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("policy", "PodDisruptionBudget"),
    ("monitoring.coreos.com", "ServiceMonitor"),
)


def _object(
    api_version: str,
    kind: str,
    name: str,
    labels: dict[str, str],
    spec: dict[str, Any] | None = None,
    annotations: dict[str, str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": n.NS_APP, "labels": dict(labels)}
    if annotations:
        metadata["annotations"] = dict(annotations)
    manifest: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": metadata}
    if spec is not None:
        manifest["spec"] = spec
    manifest.update(fields)
    return manifest


def app_manifests(config: StackConfig) -> list[dict[str, Any]]:
    """Every object of the app, in namespace `campus`, as Argo CD applies them."""
    app = config.app
    app_labels = n.labels(n.APP_NAME, "api", **{"campus.example.org/db-client": "true"})
    app_labels["app.kubernetes.io/managed-by"] = "argocd"
    skips = n.checkov_skips(
        **n.DIGEST_SKIP,
        CKV_K8S_35="the app reads DATABASE_URL from env; the value stays in its Secret",
    )
    job_labels = n.labels("campus-migrate", "migration", **{"campus.example.org/db-client": "true"})
    job_labels["app.kubernetes.io/managed-by"] = "argocd"
    result = [
        _object(
            "v1",
            "ServiceAccount",
            n.APP_NAME,
            app_labels,
            annotations={SYNC_WAVE: "-2"},
            automountServiceAccountToken=False,
        ),
        _object(
            "batch/v1",
            "Job",
            migration_job_name(app.image),
            job_labels,
            annotations={**skips, SYNC_WAVE: "-1"},
            spec={
                "backoffLimit": 3,
                "activeDeadlineSeconds": 600,
                "template": {
                    "metadata": {"labels": job_labels},
                    "spec": _pod_spec(
                        app, [_container(config, ["migrate"], probes=False)], "Never"
                    ),
                },
            },
        ),
        _object(
            "apps/v1",
            "Deployment",
            n.APP_NAME,
            app_labels,
            annotations=skips,
            spec={
                "replicas": app.min_replicas,
                "selector": {"matchLabels": n.selector(n.APP_NAME)},
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"},
                },
                "template": {
                    "metadata": {"labels": app_labels},
                    "spec": {
                        **_pod_spec(app, [_container(config, SERVE_ARGS, probes=True)], "Always"),
                        "terminationGracePeriodSeconds": TERMINATION_GRACE_SECONDS,
                        "topologySpreadConstraints": [
                            {
                                "maxSkew": 1,
                                "topologyKey": "kubernetes.io/hostname",
                                "whenUnsatisfiable": "ScheduleAnyway",
                                "labelSelector": {"matchLabels": n.selector(n.APP_NAME)},
                            }
                        ],
                    },
                },
            },
        ),
        _object(
            "v1",
            "Service",
            n.APP_NAME,
            app_labels,
            spec={
                "selector": n.selector(n.APP_NAME),
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
            },
        ),
        # One Ingress per entry, from the route table (ingresses.py).
        *ingresses(config, app_labels),
        _object(
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            n.APP_NAME,
            app_labels,
            spec={
                "scaleTargetRef": {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": n.APP_NAME,
                },
                "minReplicas": app.min_replicas,
                "maxReplicas": app.max_replicas,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {
                                "type": "Utilization",
                                "averageUtilization": app.target_cpu_percent,
                            },
                        },
                    },
                    # Under a rush the pods wait on the database and on each other before
                    # their CPU rises: requests in flight per pod (through the Prometheus
                    # adapter, monitoring.py) move first. The HPA follows whichever of the
                    # two asks for more pods.
                    {
                        "type": "Pods",
                        "pods": {
                            "metric": {"name": n.IN_FLIGHT_METRIC},
                            "target": {
                                "type": "AverageValue",
                                "averageValue": str(app.target_in_flight),
                            },
                        },
                    },
                ],
                # Scale up at once for a rush; scale down slowly so a lull between two
                # waves does not throw away warm pods.
                "behavior": {
                    "scaleUp": {"stabilizationWindowSeconds": 0},
                    "scaleDown": {"stabilizationWindowSeconds": 300},
                },
            },
        ),
    ]
    # A PDB on a single replica would block every node drain; podinfo's rule.
    if app.min_replicas > 1:
        result.append(
            _object(
                "policy/v1",
                "PodDisruptionBudget",
                n.APP_NAME,
                app_labels,
                spec={"maxUnavailable": 1, "selector": {"matchLabels": n.selector(n.APP_NAME)}},
            )
        )
    result.append(
        _object(
            "monitoring.coreos.com/v1",
            "ServiceMonitor",
            n.APP_NAME,
            app_labels,
            spec={
                "selector": {"matchLabels": n.selector(n.APP_NAME)},
                "namespaceSelector": {"matchNames": [n.NS_APP]},
                "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}],
            },
        )
    )
    return result
