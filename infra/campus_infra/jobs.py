"""The app's scheduled commands as CronJobs: the outbox dispatcher (`platform-tools outbox
dispatch`, messages to employers over SMTP) and the automatic validator of employer requests
(`platform-tools requests validate`).

Their pods are the app's pods in all but the command: the same image, service account,
environment (the database Secret, the exam-token Secret), security context, volumes (the
dispatcher adds its journal's) and resource shape (from `campus-platform:jobs.resources`).
`concurrencyPolicy: Forbid` keeps one run at a time; a run that outlives its deadline is
stopped with SIGTERM, which the ops CLI turns into a clean end. Argo CD applies them with the
app (GitOps, AppProject `campus-app`).

The dispatcher's journal of accepted Message-IDs lives on the PersistentVolumeClaim
`campus-outbox-journal` (`jobs.journalStorageSize`, `jobs.journalStorageClass`), which every
run mounts: a run killed between the relay's 250 and the mark leaves the ID there, and the
next run marks the message sent instead of sending it again, within the dedup window
(platform_tools/README.md). Argo CD applies the claim with the CronJobs.
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
JOURNAL_CLAIM = "campus-outbox-journal"
# A folder, not the file: the journal is compacted by writing a copy next to it and renaming.
JOURNAL_DIR = "/var/lib/campus/outbox"
JOURNAL = f"{JOURNAL_DIR}/outbox-sent.journal"


def job_labels(name: str) -> dict[str, str]:
    """Labels of a scheduled command's pods: a database client, owned by Argo CD."""
    labels = n.labels(name, COMPONENT, **{"campus.example.org/db-client": "true"})
    labels["app.kubernetes.io/managed-by"] = "argocd"
    return labels


def journal_claim(config: StackConfig) -> dict[str, Any]:
    """The dispatcher's journal volume, owned by Argo CD like the CronJob that mounts it.

    ReadWriteOnce is enough: `concurrencyPolicy: Forbid` means at most one pod of the
    dispatcher exists at a time, so one node attaches the volume at a time. When the next run
    lands on another node, the attach/detach controller detaches the volume from the node of
    the finished pod before attaching it to the new one; the new pod waits in
    ContainerCreating meanwhile (its start counts against the run's deadline, the next tick
    retries). Only a node lost with the volume attached holds it longer, until Kubernetes
    detaches it by force: runs fail meanwhile and messages wait, none goes twice.

    The claim keeps the default sync wave: with a WaitForFirstConsumer class it stays Pending
    until a run mounts it, which Argo CD reports as Progressing and an earlier wave would wait
    on forever.
    """
    jobs = config.jobs
    labels = n.labels(OUTBOX_JOB, "outbox-journal")
    labels["app.kubernetes.io/managed-by"] = "argocd"
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": jobs.journal_storage_size}},
    }
    if jobs.journal_storage_class:
        spec["storageClassName"] = jobs.journal_storage_class
    return _object("v1", "PersistentVolumeClaim", JOURNAL_CLAIM, labels, spec=spec)


def _cron_job(
    config: StackConfig,
    name: str,
    schedule: str,
    args: list[str],
    env: dict[str, str],
    claims: dict[str, str] | None = None,
) -> dict[str, Any]:
    """`claims` maps a PersistentVolumeClaim to the folder the command writes it at."""
    app = config.app
    labels = job_labels(name)
    container = _container(config, args, probes=False)
    container["command"] = ["platform-tools"]
    container["env"] = container["env"] + [{"name": k, "value": v} for k, v in env.items()]
    container["resources"] = config.jobs.resources.to_k8s()
    pod = _pod_spec(app, [container], "Never")
    # The app's pod security context already sets fsGroup to the app's group: the kubelet
    # gives a volume that supports ownership (block-backed ones do) to that group, writable,
    # so the app's user can write it although the root filesystem is read-only.
    for claim, path in (claims or {}).items():
        pod["volumes"].append({"name": claim, "persistentVolumeClaim": {"claimName": claim}})
        container["volumeMounts"].append({"name": claim, "mountPath": path})
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
                        "spec": pod,
                    },
                },
            },
        },
    )


def job_manifests(config: StackConfig) -> list[dict[str, Any]]:
    """The CronJobs of the app's scheduled commands and the dispatcher's journal volume, in
    namespace `campus`."""
    jobs = config.jobs
    relay = f"{jobs.smtp_relay_host}:{config.network.smtp_relay_port}"
    return [
        journal_claim(config),
        _cron_job(
            config,
            OUTBOX_JOB,
            jobs.outbox_schedule,
            ["outbox", "dispatch"],
            {"OUTBOX_SMTP": relay, "OUTBOX_SENDER": jobs.sender, "OUTBOX_JOURNAL": JOURNAL},
            claims={JOURNAL_CLAIM: JOURNAL_DIR},
        ),
        _cron_job(config, VALIDATE_JOB, jobs.validate_schedule, ["requests", "validate"], {}),
    ]
