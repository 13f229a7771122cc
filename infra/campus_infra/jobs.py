"""The app's scheduled commands as CronJobs: the outbox dispatcher (`platform-tools outbox
dispatch`, messages to employers over SMTP) and the automatic validator of employer requests
(`platform-tools requests validate`).

Their pods are the app's pods in all but the command: the same image, service account,
environment (the database Secret, the exam-token Secret), security context, volumes and
resource shape (from `campus-platform:jobs.resources`). `concurrencyPolicy: Forbid` keeps
one run at a time; a run that outlives its deadline is stopped with SIGTERM, which the ops
CLI turns into a clean end. Argo CD applies them with the app (GitOps, AppProject
`campus-app`).

The dispatcher's journal of accepted Message-IDs lives in the pod's /tmp: a run killed
between the relay's 250 and the mark sends the message again on the next run, with the same
Message-ID, which the receiving side deduplicates (platform_tools/README.md).
"""

from __future__ import annotations

from typing import Any

from campus_infra import k8s as n
from campus_infra.app import _container, _object, _pod_spec
from campus_infra.config import StackConfig

OUTBOX_JOB = "campus-outbox-dispatch"
VALIDATE_JOB = "campus-requests-validate"
COMPONENT = "scheduled-job"
# A run that has not started this long after its time is skipped (the next tick comes).
STARTING_DEADLINE_SECONDS = 50
# Longest a run may take: the dispatcher claims its batch for 300 s (its --lease).
ACTIVE_DEADLINE_SECONDS = 240
JOURNAL = "/tmp/outbox-sent.journal"  # noqa: S108 (a path in the container)


def job_labels(name: str) -> dict[str, str]:
    """Labels of a scheduled command's pods: a database client, owned by Argo CD."""
    labels = n.labels(name, COMPONENT, **{"campus.example.org/db-client": "true"})
    labels["app.kubernetes.io/managed-by"] = "argocd"
    return labels


def _cron_job(
    config: StackConfig, name: str, schedule: str, args: list[str], env: dict[str, str]
) -> dict[str, Any]:
    app = config.app
    labels = job_labels(name)
    container = _container(config, args, probes=False)
    container["command"] = ["platform-tools"]
    container["env"] = container["env"] + [{"name": k, "value": v} for k, v in env.items()]
    container["resources"] = config.jobs.resources.to_k8s()
    skips = n.checkov_skips(
        **n.DIGEST_SKIP,
        CKV_K8S_35="the app reads DATABASE_URL from env; the value stays in its Secret",
    )
    return _object(
        "batch/v1",
        "CronJob",
        name,
        labels,
        annotations=skips,
        spec={
            "schedule": schedule,
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": STARTING_DEADLINE_SECONDS,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": labels},
                "spec": {
                    # The next tick is the retry: a failed run is not repeated at once.
                    "backoffLimit": 0,
                    "activeDeadlineSeconds": ACTIVE_DEADLINE_SECONDS,
                    "ttlSecondsAfterFinished": 3600,
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": _pod_spec(app, [container], "Never"),
                    },
                },
            },
        },
    )


def job_manifests(config: StackConfig) -> list[dict[str, Any]]:
    """The CronJobs of the app's scheduled commands, in namespace `campus`."""
    jobs = config.jobs
    relay = f"{jobs.smtp_relay_host}:{config.network.smtp_relay_port}"
    return [
        _cron_job(
            config,
            OUTBOX_JOB,
            jobs.outbox_schedule,
            ["outbox", "dispatch"],
            {"OUTBOX_SMTP": relay, "OUTBOX_SENDER": jobs.sender, "OUTBOX_JOURNAL": JOURNAL},
        ),
        _cron_job(config, VALIDATE_JOB, jobs.validate_schedule, ["requests", "validate"], {}),
    ]
