"""The one catalogue of metric names that the alert rules and dashboards may rely on, besides
the app's own `/metrics`.

Two kinds of entries live here:

- the ops tools' own metrics (backups, exam-period archives, the kube-bench gate): the tools
  create their prometheus_client objects from these specs with `create_metric`, so a rename
  here renames the exported series and breaks the rules' tests at the same time;
- the third-party exporters' metrics the rules read (CloudNativePG, postgres_exporter, Falco,
  kube-state-metrics, the node exporter, Prometheus itself), each with the exporter that
  publishes it.

Names are written as they appear in PromQL: counters carry their `_total` suffix; histograms are
listed once under their base name and `sample_names` expands `_bucket`, `_sum` and `_count`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

MetricKind = Literal["counter", "gauge", "histogram"]

# Who publishes a metric: the ops CLI commands for ours, the exporter for third-party ones.
SOURCE_BACKUP = "platform-tools backup"
SOURCE_ARCHIVE = "platform-tools exam-period archive"
SOURCE_KUBE_BENCH = "platform-tools kube-bench gate"
SOURCE_EXAM_DOCUMENTS = "platform-tools exams documents"
SOURCE_OUTBOX = "platform-tools outbox dispatch"
SOURCE_VALIDATE = "platform-tools requests validate"
SOURCE_OPS_COMMANDS = "platform-tools year, curriculum and runbook commands"
SOURCE_CNPG = "CloudNativePG instance manager exporter (port 9187, default monitoring queries)"
SOURCE_BARMAN_CLOUD = (
    "CloudNativePG Barman Cloud plugin, through the primary's instance manager exporter "
    "(port 9187; plugin-barman-cloud internal/cnpgi/instance/metrics.go)"
)
SOURCE_POSTGRES_EXPORTER = "prometheus-community/postgres_exporter (single hosts)"
SOURCE_MTAIL = (
    "mtail counting nginx's log of refusals (single hosts: app_host role, the monitoring "
    "role's job campus-proxy)"
)
SOURCE_FALCO = "Falco native metrics (webserver.prometheus_metrics_enabled, rules_counters_enabled)"
SOURCE_KSM = "kube-state-metrics (kube-prometheus-stack)"
SOURCE_PROMETHEUS = "Prometheus scrape loop (synthetic series)"
SOURCE_NODE_EXPORTER = (
    "prometheus/node_exporter filesystem collector (hosts: the monitoring role's job node, "
    "its own host and the database servers; Kubernetes: kube-prometheus-stack's "
    "prometheus-node-exporter)"
)


@dataclass(frozen=True)
class MetricSpec:
    """A metric the platform depends on: its PromQL name, type, help text, labels and source."""

    name: str
    kind: MetricKind
    help: str
    labels: tuple[str, ...]
    source: str

    @property
    def ours(self) -> bool:
        """True when one of the ops tools exports this metric (so it is built from this spec)."""
        return self.source.startswith("platform-tools")

    def sample_names(self) -> frozenset[str]:
        """Every series name a query may use for this metric (histograms expand to 3 series)."""
        if self.kind == "histogram":
            return frozenset(f"{self.name}{suffix}" for suffix in ("_bucket", "_sum", "_count"))
        return frozenset({self.name})


def _spec(
    name: str, kind: MetricKind, help_text: str, source: str, labels: Iterable[str] = ()
) -> MetricSpec:
    return MetricSpec(name=name, kind=kind, help=help_text, labels=tuple(labels), source=source)


OPS_METRICS: tuple[MetricSpec, ...] = (
    # Backups: one series per logical database backed up.
    _spec(
        "campus_backup_last_success_timestamp_seconds",
        "gauge",
        "Unix time at which the last successful backup of the database finished.",
        SOURCE_BACKUP,
        ["database"],
    ),
    _spec(
        "campus_backup_last_duration_seconds",
        "gauge",
        "Wall-clock duration of the last backup run, successful or not.",
        SOURCE_BACKUP,
        ["database"],
    ),
    _spec(
        "campus_backup_last_size_bytes",
        "gauge",
        "Size in bytes of the last successful backup artefact.",
        SOURCE_BACKUP,
        ["database"],
    ),
    _spec(
        "campus_backup_last_verify_success",
        "gauge",
        "1 when the last verification of the newest backup (checksums, test restore) passed, "
        "0 when it failed.",
        SOURCE_BACKUP,
        ["database"],
    ),
    _spec(
        "campus_backup_last_verify_timestamp_seconds",
        "gauge",
        "Unix time at which the last backup verification finished.",
        SOURCE_BACKUP,
        ["database"],
    ),
    _spec(
        "campus_backup_last_restore_duration_seconds",
        "gauge",
        "Seconds the restore drill of the last verification took to restore the backup into a "
        "scratch database (the recovery time objective measured).",
        SOURCE_BACKUP,
        ["database"],
    ),
    # Exam-period archives: the frozen copy of a period taken before the next one opens.
    _spec(
        "campus_archive_last_run_timestamp_seconds",
        "gauge",
        "Unix time at which the last exam-period archive run finished.",
        SOURCE_ARCHIVE,
        ["academic_year", "period"],
    ),
    _spec(
        "campus_archive_last_run_success",
        "gauge",
        "1 when the last exam-period archive run succeeded and verified, 0 when it failed.",
        SOURCE_ARCHIVE,
        ["academic_year", "period"],
    ),
    _spec(
        "campus_archive_last_duration_seconds",
        "gauge",
        "Wall-clock duration of the last exam-period archive run.",
        SOURCE_ARCHIVE,
        ["academic_year", "period"],
    ),
    _spec(
        "campus_archive_last_size_bytes",
        "gauge",
        "Size in bytes of the last exam-period archive.",
        SOURCE_ARCHIVE,
        ["academic_year", "period"],
    ),
    # kube-bench gate: what the last gate run over the CIS benchmark results decided.
    _spec(
        "campus_kube_bench_checks",
        "gauge",
        "Number of kube-bench checks in the last results, by status (pass, fail, warn, info).",
        SOURCE_KUBE_BENCH,
        ["status"],
    ),
    _spec(
        "campus_kube_bench_blocking_failures",
        "gauge",
        "Scored FAIL results of the last kube-bench run that no valid allow-list entry excuses.",
        SOURCE_KUBE_BENCH,
    ),
    _spec(
        "campus_kube_bench_allowlisted_failures",
        "gauge",
        "FAIL results of the last kube-bench run excused by a valid allow-list entry.",
        SOURCE_KUBE_BENCH,
    ),
    _spec(
        "campus_kube_bench_gate_last_run_timestamp_seconds",
        "gauge",
        "Unix time at which the kube-bench gate last evaluated a results file.",
        SOURCE_KUBE_BENCH,
    ),
    # Exam documents in batch: notices or attendance sheets of a period.
    _spec(
        "campus_exam_documents_last_success_timestamp_seconds",
        "gauge",
        "Unix time at which the last successful batch of exam documents of this kind finished.",
        SOURCE_EXAM_DOCUMENTS,
        ["kind"],
    ),
    _spec(
        "campus_exam_documents_last_duration_seconds",
        "gauge",
        "Wall-clock duration of the last batch of exam documents of this kind, successful or not.",
        SOURCE_EXAM_DOCUMENTS,
        ["kind"],
    ),
    _spec(
        "campus_exam_documents_last_count",
        "gauge",
        "Number of documents the last successful batch of this kind wrote.",
        SOURCE_EXAM_DOCUMENTS,
        ["kind"],
    ),
    # Outbox dispatcher: what is still unsent after each run, and when it last ran. The app's
    # /metrics reads the backlog at each scrape under names of its own
    # (app/observability/metrics.py), so every deployment has it without this textfile.
    _spec(
        "campus_outbox_backlog_messages",
        "gauge",
        "Outbox messages not yet accepted by the SMTP server, after the last dispatch run.",
        SOURCE_OUTBOX,
    ),
    _spec(
        "campus_outbox_oldest_unsent_age_seconds",
        "gauge",
        "Age of the oldest outbox message not yet sent, after the last dispatch run (0 when "
        "none is waiting).",
        SOURCE_OUTBOX,
    ),
    _spec(
        "campus_outbox_last_run_messages",
        "gauge",
        "Messages of the last dispatch run, by outcome (sent, already_accepted, failed).",
        SOURCE_OUTBOX,
        ["outcome"],
    ),
    _spec(
        "campus_outbox_dispatch_last_run_timestamp_seconds",
        "gauge",
        "Unix time at which the last dispatch run finished, successful or not.",
        SOURCE_OUTBOX,
    ),
    _spec(
        "campus_outbox_dispatch_last_success_timestamp_seconds",
        "gauge",
        "Unix time at which the last dispatch run that sent everything due finished.",
        SOURCE_OUTBOX,
    ),
    # Employer request validator runs from the CLI (the API's runs count in the app's metrics).
    _spec(
        "campus_requests_validate_last_run_requests",
        "gauge",
        "Requests judged by the last `platform-tools requests validate` run, by outcome.",
        SOURCE_VALIDATE,
        ["outcome"],
    ),
    _spec(
        "campus_requests_validate_last_success_timestamp_seconds",
        "gauge",
        "Unix time at which the last successful validator run from the CLI finished.",
        SOURCE_VALIDATE,
    ),
    # Rollovers and runbooks: one series per command (e.g. "year rollover", "runbook drain").
    _spec(
        "campus_ops_last_run_timestamp_seconds",
        "gauge",
        "Unix time at which the command last finished, successfully or not.",
        SOURCE_OPS_COMMANDS,
        ["command"],
    ),
    _spec(
        "campus_ops_last_success_timestamp_seconds",
        "gauge",
        "Unix time at which the command last finished successfully (exit 0).",
        SOURCE_OPS_COMMANDS,
        ["command"],
    ),
    _spec(
        "campus_ops_last_run_success",
        "gauge",
        "1 when the last run of the command exited 0, 0 otherwise.",
        SOURCE_OPS_COMMANDS,
        ["command"],
    ),
    _spec(
        "campus_ops_last_duration_seconds",
        "gauge",
        "Wall-clock duration of the last run of the command.",
        SOURCE_OPS_COMMANDS,
        ["command"],
    ),
    _spec(
        "campus_ops_last_changed_objects",
        "gauge",
        "Objects the last run changed (activities created, versions published, pods evicted); "
        "0 for a dry run.",
        SOURCE_OPS_COMMANDS,
        ["command"],
    ),
)

EXPORTER_METRICS: tuple[MetricSpec, ...] = (
    _spec("up", "gauge", "1 when the last scrape of the target succeeded.", SOURCE_PROMETHEUS),
    # CloudNativePG (Kubernetes clusters).
    _spec(
        "cnpg_collector_up",
        "gauge",
        "1 if PostgreSQL is up and the exporter could query it, 0 otherwise.",
        SOURCE_CNPG,
        ["cluster"],
    ),
    _spec(
        "cnpg_pg_replication_lag",
        "gauge",
        "Replication lag behind the primary, in seconds (0 on the primary).",
        SOURCE_CNPG,
    ),
    _spec(
        "cnpg_backends_total",
        "gauge",
        "Number of backends (connections) by database, user, application and state.",
        SOURCE_CNPG,
        ["datname", "usename", "application_name", "state"],
    ),
    _spec(
        "cnpg_pg_settings_setting",
        "gauge",
        "PostgreSQL settings, one series per setting name (e.g. max_connections).",
        SOURCE_CNPG,
        ["name"],
    ),
    # CloudNativePG backups through the Barman Cloud plugin: 0 until a first backup exists.
    _spec(
        "barman_cloud_cloudnative_pg_io_last_available_backup_timestamp",
        "gauge",
        "The last available backup as a unix timestamp.",
        SOURCE_BARMAN_CLOUD,
    ),
    _spec(
        "barman_cloud_cloudnative_pg_io_last_failed_backup_timestamp",
        "gauge",
        "The last failed backup as a unix timestamp.",
        SOURCE_BARMAN_CLOUD,
    ),
    # mtail on the single hosts (playbooks/roles/app_host/files/campus-refused.mtail).
    _spec(
        "campus_proxy_requests_refused_total",
        "counter",
        "Requests nginx refused itself past app_host_max_in_flight (never seen by the app).",
        SOURCE_MTAIL,
    ),
    # postgres_exporter (single hosts provisioned by the playbooks).
    _spec(
        "pg_up", "gauge", "1 if the last scrape could reach PostgreSQL.", SOURCE_POSTGRES_EXPORTER
    ),
    _spec(
        "pg_replication_lag_seconds",
        "gauge",
        "Replication lag behind the primary, in seconds (standbys only).",
        SOURCE_POSTGRES_EXPORTER,
    ),
    _spec(
        "pg_stat_activity_count",
        "gauge",
        "Connections by database and state (pg_stat_activity).",
        SOURCE_POSTGRES_EXPORTER,
        ["datname", "state"],
    ),
    _spec(
        "pg_settings_max_connections",
        "gauge",
        "The max_connections server setting.",
        SOURCE_POSTGRES_EXPORTER,
    ),
    # Falco: rule match counters; priority is Falco's numeric level, 0 (EMERGENCY) to 7 (DEBUG).
    _spec(
        "falcosecurity_falco_rules_matches_total",
        "counter",
        "Number of events that matched a rule, by rule, priority and source.",
        SOURCE_FALCO,
        ["rule_name", "priority", "source"],
    ),
    # kube-state-metrics: the HorizontalPodAutoscaler of the app.
    _spec(
        "kube_horizontalpodautoscaler_spec_max_replicas",
        "gauge",
        "Upper limit for the number of pods the autoscaler can set.",
        SOURCE_KSM,
        ["namespace", "horizontalpodautoscaler"],
    ),
    _spec(
        "kube_horizontalpodautoscaler_status_current_replicas",
        "gauge",
        "Current number of replicas of pods managed by this autoscaler.",
        SOURCE_KSM,
        ["namespace", "horizontalpodautoscaler"],
    ),
    _spec(
        "kube_horizontalpodautoscaler_status_desired_replicas",
        "gauge",
        "Desired number of replicas of pods managed by this autoscaler.",
        SOURCE_KSM,
        ["namespace", "horizontalpodautoscaler"],
    ),
    _spec(
        "kube_cronjob_status_last_successful_time",
        "gauge",
        "LastSuccessfulTime keeps information of when was the last time the job was completed "
        "successfully.",
        SOURCE_KSM,
        ["namespace", "cronjob"],
    ),
    # The node exporter's filesystem collector. The disk alerts read avail, not free: the
    # blocks reserved for root are no use to PostgreSQL or the app.
    _spec(
        "node_filesystem_avail_bytes",
        "gauge",
        "Bytes of the filesystem that unprivileged users may still write.",
        SOURCE_NODE_EXPORTER,
        ["device", "fstype", "mountpoint"],
    ),
    _spec(
        "node_filesystem_size_bytes",
        "gauge",
        "Total size of the filesystem in bytes.",
        SOURCE_NODE_EXPORTER,
        ["device", "fstype", "mountpoint"],
    ),
    _spec(
        "node_filesystem_readonly",
        "gauge",
        "1 when the filesystem is mounted read-only, 0 otherwise.",
        SOURCE_NODE_EXPORTER,
        ["device", "fstype", "mountpoint"],
    ),
)

CATALOGUE: dict[str, MetricSpec] = {spec.name: spec for spec in OPS_METRICS + EXPORTER_METRICS}


def spec_for(name: str) -> MetricSpec:
    """The catalogue entry for `name`; KeyError names the metric when it is not declared."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KeyError(
            f"metric {name!r} is not declared in platform_tools.metrics_catalogue"
        ) from None


def catalogue_sample_names() -> frozenset[str]:
    """Every series name a rule or dashboard may use on the catalogue's authority."""
    names: set[str] = set()
    for spec in CATALOGUE.values():
        names |= spec.sample_names()
    return frozenset(names)


def create_metric(name: str, registry: CollectorRegistry) -> Counter | Gauge | Histogram:
    """Build the prometheus_client metric for one of the ops tools' catalogue entries.

    The object is registered in `registry` (tools use a fresh registry per run and write it
    as a textfile for the node exporter's textfile collector).
    """
    spec = spec_for(name)
    if not spec.ours:
        raise ValueError(f"{name} is exported by {spec.source}, not by the ops tools")
    if spec.kind == "gauge":
        return Gauge(spec.name, spec.help, spec.labels, registry=registry)
    if spec.kind == "counter":
        # prometheus_client appends `_total` itself.
        return Counter(spec.name.removesuffix("_total"), spec.help, spec.labels, registry=registry)
    return Histogram(spec.name, spec.help, spec.labels, registry=registry)
