"""The scheduled commands' CronJobs (campus_infra/jobs.py): one run at a time, the app's pod
in all but the command, the SMTP relay and cadence from stack config, a command the ops CLI
really has, and a journal that outlives the dispatcher's pods."""

from pathlib import PurePosixPath

import kubernetes_validate
import pytest
from campus_infra import k8s as n
from campus_infra.config import ConfigError, parse_stack_config
from campus_infra.jobs import OUTBOX_JOB, VALIDATE_JOB

from tests.infra.conftest import STACKS, Rendered, stack_getter
from tests.infra.test_manifests import KUBERNETES_VERSION
from tests.platform_tools.test_runbook_pages import resolves

JOBS = {OUTBOX_JOB: ["outbox", "dispatch"], VALIDATE_JOB: ["requests", "validate"]}


def _pod(cron: dict) -> dict:
    return cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]


@pytest.mark.parametrize("stack", STACKS)
def test_each_command_runs_once_at_a_time_in_the_apps_pod(rendered, stack):
    r = rendered[stack]
    config = parse_stack_config(stack_getter(stack))
    app_pod = r.one("Deployment", n.APP_NAME)["spec"]["template"]["spec"]
    (app_container,) = app_pod["containers"]
    for name, args in JOBS.items():
        cron = r.one("CronJob", name)
        assert cron["metadata"]["namespace"] == n.NS_APP
        assert cron["spec"]["concurrencyPolicy"] == "Forbid"
        pod = _pod(cron)
        assert pod["restartPolicy"] == "Never"
        for key in ("serviceAccountName", "automountServiceAccountToken", "securityContext"):
            assert pod[key] == app_pod[key], (name, key)
        # The app's volumes and mounts first, unchanged (the dispatcher adds its journal's).
        assert pod["volumes"][: len(app_pod["volumes"])] == app_pod["volumes"]
        (container,) = pod["containers"]
        assert container["image"] == app_container["image"] == config.app.image
        assert container["command"] == ["platform-tools"] and container["args"] == args
        assert resolves(args), args
        assert container["securityContext"] == app_container["securityContext"]
        app_mounts = app_container["volumeMounts"]
        assert container["volumeMounts"][: len(app_mounts)] == app_mounts
        # The app's environment (database and exam-token Secrets) comes first, unchanged.
        assert container["env"][: len(app_container["env"])] == app_container["env"]
        assert container["resources"] == config.jobs.resources.to_k8s()
        assert container["resources"]["requests"]["cpu"] and "livenessProbe" not in container
        labels = cron["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
        assert labels["campus.example.org/db-client"] == "true"
        assert labels["app.kubernetes.io/managed-by"] == "argocd"


@pytest.mark.parametrize("stack", STACKS)
def test_the_dispatcher_sends_through_the_configured_relay_every_minute(rendered, stack):
    r = rendered[stack]
    config = parse_stack_config(stack_getter(stack))
    dispatcher = r.one("CronJob", OUTBOX_JOB)
    env = {e["name"]: e.get("value") for e in _pod(dispatcher)["containers"][0]["env"]}
    relay = f"{config.jobs.smtp_relay_host}:{config.network.smtp_relay_port}"
    assert env["OUTBOX_SMTP"] == relay
    assert env["OUTBOX_SENDER"] == f"noreply@{config.app.host}"
    assert dispatcher["spec"]["schedule"] == "* * * * *"
    assert r.one("CronJob", VALIDATE_JOB)["spec"]["schedule"] == "*/5 * * * *"
    validator_env = {
        e["name"] for e in _pod(r.one("CronJob", VALIDATE_JOB))["containers"][0]["env"]
    }
    assert "OUTBOX_SMTP" not in validator_env


def _claim_mounts(cron: dict) -> dict[str, str]:
    """PersistentVolumeClaim name -> where the CronJob's container mounts it."""
    pod = _pod(cron)
    claims = {
        v["name"]: v["persistentVolumeClaim"]["claimName"]
        for v in pod["volumes"]
        if "persistentVolumeClaim" in v
    }
    (container,) = pod["containers"]
    return {
        claims[m["name"]]: m["mountPath"] for m in container["volumeMounts"] if m["name"] in claims
    }


def _journal(cron: dict) -> PurePosixPath:
    """The journal the dispatcher is given: its --journal option, else $OUTBOX_JOURNAL."""
    (container,) = _pod(cron)["containers"]
    args = container["args"]
    if "--journal" in args:
        return PurePosixPath(args[args.index("--journal") + 1])
    env = {e["name"]: e.get("value") for e in container["env"]}
    return PurePosixPath(env["OUTBOX_JOURNAL"])


@pytest.mark.parametrize("stack", STACKS)
def test_the_dispatchers_journal_is_on_a_claim_every_run_mounts(rendered, stack):
    r: Rendered = rendered[stack]
    dispatcher = r.one("CronJob", OUTBOX_JOB)
    journal = _journal(dispatcher)
    (claim_name, mount_path), *others = _claim_mounts(dispatcher).items()
    assert not others
    # The journal (and the copy it is compacted through, next to it) is on the volume.
    assert journal.parent == PurePosixPath(mount_path)
    (container,) = _pod(dispatcher)["containers"]
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == mount_path]
    assert not mount.get("readOnly") and "subPath" not in mount
    # The volume is written by the app's user on a read-only root: the kubelet hands it to
    # the pod's fsGroup, which is the group the container runs as.
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    security = _pod(dispatcher)["securityContext"]
    assert security["fsGroup"] == container["securityContext"]["runAsGroup"]

    claim = r.one("PersistentVolumeClaim", claim_name)
    config = parse_stack_config(stack_getter(stack))
    assert claim["metadata"]["namespace"] == dispatcher["metadata"]["namespace"] == n.NS_APP
    # One pod at a time (Forbid) is what makes a single-node volume enough.
    assert dispatcher["spec"]["concurrencyPolicy"] == "Forbid"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["spec"]["resources"]["requests"]["storage"] == config.jobs.journal_storage_size
    assert claim["spec"].get("storageClassName") == config.jobs.journal_storage_class
    # Applied by Argo CD with the CronJob that mounts it, never by Pulumi.
    assert claim in r.manifests(only="argocd")
    assert claim not in r.manifests(only="pulumi")
    assert claim["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "argocd"
    for manifest in (claim, dispatcher):
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("stack", STACKS)
def test_the_validator_mounts_no_claim(rendered, stack):
    r = rendered[stack]
    validator = r.one("CronJob", VALIDATE_JOB)
    assert _claim_mounts(validator) == {}
    # Exactly the app's volumes: the journal's volume is the dispatcher's alone.
    app_pod = r.one("Deployment", n.APP_NAME)["spec"]["template"]["spec"]
    assert _pod(validator)["volumes"] == app_pod["volumes"]
    assert not [v for v in app_pod["volumes"] if "persistentVolumeClaim" in v]


def test_a_journal_storage_class_from_stack_config_reaches_the_claim():
    import json

    from campus_infra.jobs import job_manifests

    flat = _flat("dev")
    jobs = json.loads(flat["campus-platform:jobs"])
    jobs.update(journalStorageSize="64Mi", journalStorageClass="fast-ssd")
    flat["campus-platform:jobs"] = json.dumps(jobs)
    (claim,) = [m for m in job_manifests(_parse(flat)) if m["kind"] == "PersistentVolumeClaim"]
    assert claim["spec"]["storageClassName"] == "fast-ssd"
    assert claim["spec"]["resources"]["requests"]["storage"] == "64Mi"


def _flat(stack: str, **changes: str) -> dict:
    from campus_infra.capture import stack_config

    flat = stack_config(stack)
    flat.update(changes)
    return flat


def _parse(flat: dict):
    return parse_stack_config(lambda key: flat.get(f"campus-platform:{key}"))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "campus-platform:jobs",
            '{"outboxSchedule": "* * * * *"}',
            "jobs.smtpRelayHost is required",
        ),
        (
            "campus-platform:jobs",
            '{"smtpRelayHost": "relay; rm -rf /", "resources": {}}',
            "jobs.smtpRelayHost must be a host name",
        ),
        (
            "campus-platform:jobs",
            '{"smtpRelayHost": "smtp.example.org", "outboxSchedule": "every minute",'
            ' "resources": {"cpuRequest": "50m", "cpuLimit": "1", "memoryRequest": "64Mi",'
            ' "memoryLimit": "128Mi"}}',
            "jobs.outboxSchedule must be a cron schedule of 5 fields",
        ),
        *(
            (
                "campus-platform:jobs",
                '{"smtpRelayHost": "smtp.example.org", "journalStorageSize": ' + size + ","
                ' "resources": {"cpuRequest": "50m", "cpuLimit": "1", "memoryRequest": "64Mi",'
                ' "memoryLimit": "128Mi"}}',
                "jobs.journalStorageSize must be a ",
            )
            for size in ('"a lot"', '"1GB"', '"500m"', '"0"', '""')
        ),
        (
            "campus-platform:jobs",
            '{"smtpRelayHost": "smtp.example.org", "journalStorageClass": "Fast SSD",'
            ' "resources": {"cpuRequest": "50m", "cpuLimit": "1", "memoryRequest": "64Mi",'
            ' "memoryLimit": "128Mi"}}',
            "jobs.journalStorageClass must be a StorageClass name",
        ),
    ],
)
def test_bad_jobs_settings_are_refused_naming_the_key(key, value, message):
    flat = _flat("dev", **{key: value})
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        _parse(flat)


def test_a_relay_port_nothing_relays_on_is_refused():
    import json

    flat = _flat("dev")
    network = json.loads(flat["campus-platform:network"])
    network["smtpRelayPort"] = 2525
    flat["campus-platform:network"] = json.dumps(network)
    with pytest.raises(ConfigError, match=r"network\.smtpRelayPort must be one of 25, 587"):
        _parse(flat)
