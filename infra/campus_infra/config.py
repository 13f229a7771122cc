"""Typed stack configuration: every `campus-platform:*` key of a Pulumi.<stack>.yaml, checked.

Stack files are hand-edited by ops, so each value is treated as hostile until checked and
every error names the full config key (`campus-platform:app.hpa.maxReplicas`), which is
what ops type in `pulumi config set --path`.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from campus_infra.versions import kubernetes_minor

PROJECT = "campus-platform"

# Kubernetes resource quantities (cpu "250m", memory "512Mi", storage "20Gi").
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$")
# An image reference pinned by tag or digest; `latest` is refused separately.
_IMAGE = re.compile(
    r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$"
)
_DNS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_HOSTNAME = re.compile(r"^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# Six-field cron (seconds first) as CloudNativePG's ScheduledBackup wants, or five-field.
_CRON_FIELD = re.compile(r"^[0-9*/,\-]+$")
_RETENTION = re.compile(r"^[1-9][0-9]*[dwm]$")
_PROM_DURATION = re.compile(r"^[1-9][0-9]*(h|d|w|y)$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_PROFILES = ("normal", "surge")
# The scenarios loadtests/locustfile.py can run (LOADTEST_SCENARIO).
LOADTEST_SCENARIOS = ("rentree_wave", "furlough_surge", "exam_rush")
# Connections each app pod may hold: the app sizes its pool with its worker and thread
# counts; PostgreSQL keeps a few for superuser and replication, CloudNativePG's own tools.
RESERVED_DB_CONNECTIONS = 10


class ConfigError(ValueError):
    """A stack config value is missing or invalid; the message names the key."""


class _Section:
    """Reads one structured config value, naming `campus-platform:<path>` in every error."""

    def __init__(self, data: Any, path: str, separator: str = ".") -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(f"{path} must be an object, got {type(data).__name__}")
        self._data = dict(data)
        self._path = path
        self._separator = separator
        self._seen: set[str] = set()

    def has(self, name: str) -> bool:
        """Whether the config sets `name` (for values that are optional as a whole)."""
        return name in self._data

    def key(self, name: str) -> str:
        """The full config key of `name`, as ops would type it."""
        return f"{self._path}{self._separator}{name}"

    def _raw(self, name: str, default: Any) -> Any:
        self._seen.add(name)
        if name in self._data:
            return self._data[name]
        if default is _REQUIRED:
            raise ConfigError(f"{self.key(name)} is required")
        return default

    def string(
        self,
        name: str,
        default: Any = None,
        pattern: re.Pattern[str] | None = None,
        what: str = "",
    ) -> str:
        value = self._raw(name, _REQUIRED if default is None else default)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{self.key(name)} must be a non-empty string, got {value!r}")
        if pattern is not None and not pattern.match(value):
            raise ConfigError(f"{self.key(name)} must be {what}, got {value!r}")
        return value

    def optional_string(self, name: str, pattern: re.Pattern[str], what: str) -> str | None:
        value = self._raw(name, None)
        if value is None:
            return None
        if not isinstance(value, str) or not pattern.match(value):
            raise ConfigError(f"{self.key(name)} must be {what}, got {value!r}")
        return value

    def integer(self, name: str, default: Any = None, low: int = 0, high: int = 10**6) -> int:
        value = self._raw(name, _REQUIRED if default is None else default)
        # YAML may hand us "3" or 3.0 (Pulumi passes structured config through JSON).
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ConfigError(f"{self.key(name)} must be an integer, got {value!r}")
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"{self.key(name)} must be an integer, got {value!r}") from None
        if not number.is_integer():
            raise ConfigError(f"{self.key(name)} must be an integer, got {value!r}")
        if not low <= number <= high:
            raise ConfigError(f"{self.key(name)} must be between {low} and {high}, got {value!r}")
        return int(number)

    def boolean(self, name: str, default: bool) -> bool:
        value = self._raw(name, default)
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            raise ConfigError(f"{self.key(name)} must be true or false, got {value!r}")
        return value

    def quantity(self, name: str, default: Any = None) -> str:
        # `cpuLimit: 1` is a valid quantity that YAML reads as a number.
        if isinstance(self._data.get(name), int) and not isinstance(self._data[name], bool):
            self._data[name] = str(self._data[name])
        return self.string(name, default, _QUANTITY, "a Kubernetes quantity such as 500m or 2Gi")

    def section(self, name: str) -> _Section:
        return _Section(self._raw(name, _REQUIRED), self.key(name))

    def done(self) -> None:
        """Refuse keys nobody reads: a typo must not silently fall back to a default."""
        unknown = sorted(set(self._data) - self._seen)
        if unknown:
            raise ConfigError(f"{self.key(unknown[0])} is not a known setting")


_REQUIRED = object()
# Top-level keys whose values are objects.
STRUCTURED_KEYS = (
    "app",
    "database",
    "monitoring",
    "security",
    "gitops",
    "loadgen",
    "surge",
    "network",
    "jobs",
)


def _image(section: _Section, name: str) -> str:
    value = section.string(name)
    if not _IMAGE.match(value) or ("@" not in value and ":" not in value.rsplit("/", 1)[-1]):
        raise ConfigError(
            f"{section.key(name)} must be an image pinned by tag or digest, got {value!r}"
        )
    if value.split("@")[0].rsplit("/", 1)[-1].endswith(":latest"):
        raise ConfigError(f"{section.key(name)} must not use the 'latest' tag, got {value!r}")
    return value


def _cron(section: _Section, name: str, fields: tuple[int, ...]) -> str:
    value = section.string(name)
    parts = value.split()
    if len(parts) not in fields or not all(_CRON_FIELD.match(p) for p in parts):
        raise ConfigError(
            f"{section.key(name)} must be a cron schedule of {' or '.join(map(str, fields))} "
            f"fields, got {value!r}"
        )
    return value


@dataclass(frozen=True)
class Resources:
    """Requests and limits of one container."""

    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str

    def to_k8s(self) -> dict[str, dict[str, str]]:
        """The `resources` block of a container spec."""
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


def _resources(parent: _Section, name: str) -> Resources:
    section = parent.section(name)
    result = Resources(
        cpu_request=section.quantity("cpuRequest"),
        cpu_limit=section.quantity("cpuLimit"),
        memory_request=section.quantity("memoryRequest"),
        memory_limit=section.quantity("memoryLimit"),
    )
    section.done()
    return result


@dataclass(frozen=True)
class SecretRef:
    """A key of a Secret that ops create out of band (never a value in stack config)."""

    name: str
    key: str


@dataclass(frozen=True)
class AppConfig:
    """The enrolment app: image, sizes, autoscaling and how it is exposed."""

    image: str
    min_replicas: int
    max_replicas: int
    target_cpu_percent: int
    # Requests in flight per pod (campus_http_requests_in_flight, summed over its workers)
    # the HPA keeps the average at: the signal that moves first under a rush.
    target_in_flight: int
    workers: int
    threads: int
    resources: Resources
    host: str
    tls_secret: str
    ingress_class: str
    ingress_namespace: str
    log_level: str
    # The intranet entry (staff and admins): its own host, ingress class and controller
    # namespace, and optionally the only client addresses it accepts.
    internal_host: str = ""
    internal_ingress_class: str = "nginx-internal"
    internal_ingress_namespace: str = "ingress-nginx-internal"
    internal_source_ranges: tuple[str, ...] = ()


@dataclass(frozen=True)
class BackupConfig:
    """Barman Cloud backups to S3-compatible object storage."""

    destination_path: str
    endpoint_url: str
    credentials_secret: str
    schedule: str
    retention: str


@dataclass(frozen=True)
class DatabaseConfig:
    """The CloudNativePG cluster `campus-db`."""

    instances: int
    storage_size: str
    wal_storage_size: str
    storage_class: str | None
    max_connections: int
    resources: Resources
    backup: BackupConfig


@dataclass(frozen=True)
class MonitoringConfig:
    """kube-prometheus-stack and the OpenTelemetry Collector."""

    prometheus_retention: str
    prometheus_storage_size: str
    grafana_admin_secret: str
    collector_replicas: int


@dataclass(frozen=True)
class SecurityConfig:
    """Falco and kube-bench."""

    kube_bench_schedule: str
    kube_bench_results_size: str
    kubernetes_version: str


@dataclass(frozen=True)
class GitOpsConfig:
    """Where Argo CD finds the rendered manifests."""

    repo_url: str
    target_revision: str
    path: str


@dataclass(frozen=True)
class LoadGenConfig:
    """The Locust load generator: off unless `loadgen.enabled` (the surge profile only sets
    its number of workers, for a rehearsal at the peak's size)."""

    enabled: bool
    workers: int
    resources: Resources
    scenario: str = "rentree_wave"


@dataclass(frozen=True)
class SurgeConfig:
    """What the surge profile changes, for an announced peak."""

    min_replicas: int
    max_replicas: int
    max_connections: int
    loadgen_workers: int


@dataclass(frozen=True)
class NetworkConfig:
    """Address blocks outside the pod network that pods may reach (or be reached from).

    Each is a list of CIDRs from stack config: the NetworkPolicies never open a port to
    the whole Internet, so every site names its own control plane, nodes and services.
    """

    control_plane_cidrs: tuple[str, ...]
    node_cidrs: tuple[str, ...]
    object_storage_cidrs: tuple[str, ...]
    git_cidrs: tuple[str, ...]
    artifact_registry_cidrs: tuple[str, ...]
    # The SMTP relay the outbox dispatcher hands messages to, and its port (25 or 587).
    smtp_relay_cidrs: tuple[str, ...]
    smtp_relay_port: int
    # Where the ingress controllers' pods take their addresses (the pod network): the app
    # believes the entry header from these addresses only (APP_TRUSTED_PROXIES).
    ingress_controller_cidrs: tuple[str, ...] = ()


# Ports an SMTP relay listens on for relaying (connections.py lists both as listeners).
SMTP_RELAY_PORTS = (25, 587)
_EMAIL = re.compile(r"^[^@\s]+@([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class JobsConfig:
    """The app's scheduled commands: the outbox dispatcher and the request validator."""

    smtp_relay_host: str
    sender: str
    outbox_schedule: str
    validate_schedule: str
    resources: Resources
    # The volume that keeps the dispatcher's journal of accepted Message-IDs between runs.
    journal_storage_size: str
    journal_storage_class: str | None


@dataclass(frozen=True)
class StackConfig:
    """Every setting of one stack, with the surge profile already applied."""

    site: str
    profile: str
    app: AppConfig
    database: DatabaseConfig
    monitoring: MonitoringConfig
    security: SecurityConfig
    gitops: GitOpsConfig
    loadgen: LoadGenConfig
    network: NetworkConfig
    jobs: JobsConfig


def _read_app(root: _Section) -> AppConfig:
    s = root.section("app")
    hpa = s.section("hpa")
    min_replicas = hpa.integer("minReplicas", low=1, high=200)
    max_replicas = hpa.integer("maxReplicas", low=1, high=200)
    if max_replicas < min_replicas:
        raise ConfigError(
            f"{hpa.key('maxReplicas')} ({max_replicas}) must be >= "
            f"{hpa.key('minReplicas')} ({min_replicas})"
        )
    target = hpa.integer("targetCpuPercent", default=70, low=10, high=100)
    workers = s.integer("workers", low=1, high=32)
    threads = s.integer("threads", low=1, high=64)
    # By default four fifths of the requests a pod serves at once (workers x threads): above
    # that, requests wait inside the pod, which is when more pods help.
    in_flight = hpa.integer(
        "targetInFlight", default=max(1, workers * threads * 4 // 5), low=1, high=100_000
    )
    hpa.done()
    level = s.string("logLevel", default="INFO")
    if level not in _LOG_LEVELS:
        raise ConfigError(f"{s.key('logLevel')} must be one of {', '.join(_LOG_LEVELS)}")
    host = s.string("host", pattern=_HOSTNAME, what="a DNS host name")
    result = AppConfig(
        image=_image(s, "image"),
        min_replicas=min_replicas,
        max_replicas=max_replicas,
        target_cpu_percent=target,
        target_in_flight=in_flight,
        workers=workers,
        threads=threads,
        resources=_resources(s, "resources"),
        host=host,
        tls_secret=s.string("tlsSecret", pattern=_DNS_NAME, what="a Kubernetes object name"),
        ingress_class=s.string("ingressClass", default="nginx"),
        ingress_namespace=s.string(
            "ingressNamespace", default="ingress-nginx", pattern=_DNS_NAME, what="a namespace"
        ),
        log_level=level,
        internal_host=s.string(
            "internalHost",
            default=f"intranet.{host}",
            pattern=_HOSTNAME,
            what="a DNS host name",
        ),
        internal_ingress_class=s.string(
            "internalIngressClass", default="nginx-internal", pattern=_DNS_NAME, what="a name"
        ),
        internal_ingress_namespace=s.string(
            "internalIngressNamespace",
            default="ingress-nginx-internal",
            pattern=_DNS_NAME,
            what="a namespace",
        ),
        internal_source_ranges=(
            _cidrs(s, "internalSourceRanges") if s.has("internalSourceRanges") else ()
        ),
    )
    if result.internal_ingress_class == result.ingress_class:
        raise ConfigError(
            f"{s.key('internalIngressClass')} must differ from {s.key('ingressClass')} "
            f"({result.ingress_class}): the intranet entry is its own controller"
        )
    if result.internal_host == result.host:
        raise ConfigError(f"{s.key('internalHost')} must differ from {s.key('host')}")
    s.done()
    return result


def _read_database(root: _Section) -> DatabaseConfig:
    s = root.section("database")
    b = s.section("backup")
    destination = b.string("destinationPath")
    if not destination.startswith("s3://"):
        raise ConfigError(f"{b.key('destinationPath')} must be an s3:// URL, got {destination!r}")
    endpoint = b.string("endpointUrl")
    if not endpoint.startswith("https://"):
        raise ConfigError(f"{b.key('endpointUrl')} must be an https:// URL, got {endpoint!r}")
    backup = BackupConfig(
        destination_path=destination,
        endpoint_url=endpoint,
        credentials_secret=b.string("credentialsSecret", pattern=_DNS_NAME, what="an object name"),
        schedule=_cron(b, "schedule", (6,)),
        retention=b.string("retention", pattern=_RETENTION, what="a retention such as 30d"),
    )
    b.done()
    storage_class = s.optional_string("storageClass", _DNS_NAME, "a StorageClass name")
    result = DatabaseConfig(
        # Three instances is the floor: one primary, one synchronous standby, one spare
        # so a node drain never leaves the primary without a synchronous copy.
        instances=s.integer("instances", low=3, high=9),
        storage_size=_storage_size(s, "storageSize"),
        wal_storage_size=_storage_size(s, "walStorageSize"),
        storage_class=storage_class,
        max_connections=s.integer("maxConnections", low=20, high=10000),
        resources=_resources(s, "resources"),
        backup=backup,
    )
    s.done()
    return result


def _read_monitoring(root: _Section) -> MonitoringConfig:
    s = root.section("monitoring")
    result = MonitoringConfig(
        prometheus_retention=s.string(
            "prometheusRetention", pattern=_PROM_DURATION, what="a duration such as 15d"
        ),
        prometheus_storage_size=s.quantity("prometheusStorageSize"),
        grafana_admin_secret=s.string(
            "grafanaAdminSecret", pattern=_DNS_NAME, what="a Kubernetes object name"
        ),
        collector_replicas=s.integer("collectorReplicas", default=1, low=1, high=10),
    )
    s.done()
    return result


def _read_security(root: _Section) -> SecurityConfig:
    s = root.section("security")
    result = SecurityConfig(
        kube_bench_schedule=_cron(s, "kubeBenchSchedule", (5,)),
        kube_bench_results_size=s.quantity("kubeBenchResultsSize", default="1Gi"),
        # Not a stack setting: the one release shared with the playbooks (versions.py).
        kubernetes_version=kubernetes_minor(),
    )
    s.done()
    return result


def _cidrs(section: _Section, name: str) -> tuple[str, ...]:
    value = section._raw(name, _REQUIRED)
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{section.key(name)} must be a non-empty list of CIDRs, got {value!r}")
    result = []
    for item in value:
        try:
            network = ipaddress.ip_network(item, strict=True) if isinstance(item, str) else None
        except ValueError:
            network = None
        if network is None:
            raise ConfigError(
                f"{section.key(name)} must hold CIDRs such as 10.0.0.0/24, got {item!r}"
            )
        if network.prefixlen == 0:
            raise ConfigError(
                f"{section.key(name)} must name the addresses, not the whole Internet ({item})"
            )
        result.append(str(network))
    return tuple(result)


def _read_network(root: _Section) -> NetworkConfig:
    s = root.section("network")
    result = NetworkConfig(
        control_plane_cidrs=_cidrs(s, "controlPlaneCidrs"),
        node_cidrs=_cidrs(s, "nodeCidrs"),
        object_storage_cidrs=_cidrs(s, "objectStorageCidrs"),
        git_cidrs=_cidrs(s, "gitCidrs"),
        artifact_registry_cidrs=_cidrs(s, "artifactRegistryCidrs"),
        smtp_relay_cidrs=_cidrs(s, "smtpRelayCidrs"),
        smtp_relay_port=s.integer("smtpRelayPort", default=25, low=1, high=65535),
        ingress_controller_cidrs=(
            _cidrs(s, "ingressControllerCidrs") if s.has("ingressControllerCidrs") else ()
        ),
    )
    if result.smtp_relay_port not in SMTP_RELAY_PORTS:
        raise ConfigError(
            f"{s.key('smtpRelayPort')} must be one of {', '.join(map(str, SMTP_RELAY_PORTS))}, "
            f"got {result.smtp_relay_port}"
        )
    s.done()
    return result


def _read_jobs(root: _Section, app_host: str) -> JobsConfig:
    s = root.section("jobs")
    relay = s.string("smtpRelayHost")
    if not (_HOSTNAME.match(relay) or _is_ip(relay)):
        raise ConfigError(f"{s.key('smtpRelayHost')} must be a host name or IP address")
    result = JobsConfig(
        smtp_relay_host=relay,
        sender=s.string(
            "sender", default=f"noreply@{app_host}", pattern=_EMAIL, what="an e-mail address"
        ),
        outbox_schedule=_cron_default(s, "outboxSchedule", "* * * * *"),
        validate_schedule=_cron_default(s, "validateSchedule", "*/5 * * * *"),
        resources=_resources(s, "resources"),
        # Most provisioners hand out no less than 1Gi; the journal itself stays small.
        journal_storage_size=_storage_size(s, "journalStorageSize", default="1Gi"),
        journal_storage_class=s.optional_string(
            "journalStorageClass", _DNS_NAME, "a StorageClass name"
        ),
    )
    s.done()
    return result


def _storage_size(section: _Section, name: str, default: str | None = None) -> str:
    """A volume's size: a quantity that is a whole, non-zero number of bytes."""
    value = section.quantity(name, default)
    # A valid quantity, but no volume: milli-bytes ("500m") or nothing at all.
    if value.endswith("m") or float(value.rstrip("kKMGTim")) == 0:
        raise ConfigError(
            f"{section.key(name)} must be a storage size such as 64Mi or 1Gi, got {value!r}"
        )
    return value


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _cron_default(section: _Section, name: str, default: str) -> str:
    if name not in section._data:
        section._data[name] = default
    return _cron(section, name, (5,))


def _read_gitops(root: _Section) -> GitOpsConfig:
    s = root.section("gitops")
    repo = s.string("repoUrl")
    if not repo.startswith(("https://", "ssh://", "git@")):
        raise ConfigError(f"{s.key('repoUrl')} must be an https://, ssh:// or git@ URL")
    path = s.string("path")
    if path.startswith("/") or ".." in path.split("/"):
        raise ConfigError(f"{s.key('path')} must be a relative path inside the repository")
    result = GitOpsConfig(
        repo_url=repo, target_revision=s.string("targetRevision", default="main"), path=path
    )
    s.done()
    return result


def _read_loadgen(root: _Section) -> LoadGenConfig:
    s = root.section("loadgen")
    result = LoadGenConfig(
        enabled=s.boolean("enabled", default=False),
        workers=s.integer("workers", low=1, high=100),
        resources=_resources(s, "resources"),
        scenario=s.string("scenario", default="rentree_wave"),
    )
    if result.scenario not in LOADTEST_SCENARIOS:
        raise ConfigError(
            f"{s.key('scenario')} must be one of {', '.join(LOADTEST_SCENARIOS)}, "
            f"got {result.scenario!r}"
        )
    s.done()
    return result


def _read_surge(root: _Section) -> SurgeConfig:
    s = root.section("surge")
    result = SurgeConfig(
        min_replicas=s.integer("minReplicas", low=1, high=200),
        max_replicas=s.integer("maxReplicas", low=1, high=200),
        max_connections=s.integer("maxConnections", low=20, high=10000),
        loadgen_workers=s.integer("loadgenWorkers", low=1, high=100),
    )
    if result.max_replicas < result.min_replicas:
        raise ConfigError(f"{s.key('maxReplicas')} must be >= {s.key('minReplicas')}")
    s.done()
    return result


def _check_connection_budget(config: StackConfig, max_connections_key: str) -> None:
    """The database must accept every connection the app can open at full scale."""
    app = config.app
    needed = app.max_replicas * app.workers * app.threads + RESERVED_DB_CONNECTIONS
    if config.database.max_connections < needed:
        raise ConfigError(
            f"{max_connections_key} ({config.database.max_connections}) is below what the app "
            f"can open at {app.max_replicas} replicas x {app.workers} workers x {app.threads} "
            f"threads + {RESERVED_DB_CONNECTIONS} reserved = {needed}"
        )


def _decode(key: str, raw: str) -> Any:
    """Pulumi hands structured config over as JSON text; plain strings stay strings."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw
    except RecursionError:
        raise ConfigError(f"{key} is nested too deeply") from None


def configured_keys() -> set[str]:
    """Every config key the Pulumi runtime was handed (set explicitly or via PULUMI_CONFIG)."""
    from pulumi.runtime import config as runtime_config

    return set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())


def parse_stack_config(get: Callable[[str], str | None], keys: Iterable[str] = ()) -> StackConfig:
    """Build the typed config from a raw getter (`pulumi.Config(PROJECT).get`).

    `keys` are all configured keys: a `campus-platform:` key nobody reads (a typo) is
    refused instead of silently leaving its default in place. Raises ConfigError naming
    the offending `campus-platform:` key.
    """
    known = {"site", "profile", *STRUCTURED_KEYS}
    for key in sorted(keys):
        namespace, _, name = key.partition(":")
        if namespace == PROJECT and name not in known:
            raise ConfigError(f"{key} is not a known setting")
    raw: dict[str, Any] = {}
    for name in ("site", "profile"):
        value = get(name)
        if value is not None:
            raw[name] = value
    for name in STRUCTURED_KEYS:
        value = get(name)
        if value is not None:
            raw[name] = _decode(f"{PROJECT}:{name}", value)
    # Top-level keys read `campus-platform:app`; nested ones `campus-platform:app.hpa`.
    root = _Section(raw, PROJECT, separator=":")

    site = root.string("site", pattern=_DNS_NAME, what="a DNS label naming the site")
    profile = root.string("profile", default="normal")
    if profile not in _PROFILES:
        raise ConfigError(f"{PROJECT}:profile must be one of {', '.join(_PROFILES)}")
    app = _read_app(root)
    database = _read_database(root)
    loadgen = _read_loadgen(root)
    surge = _read_surge(root)
    config = StackConfig(
        site=site,
        profile=profile,
        app=app,
        database=database,
        monitoring=_read_monitoring(root),
        security=_read_security(root),
        gitops=_read_gitops(root),
        loadgen=loadgen,
        network=_read_network(root),
        jobs=_read_jobs(root, app.host),
    )
    _check_connection_budget(config, f"{PROJECT}:database.maxConnections")
    if profile == "surge":
        config = apply_surge(config, surge)
        _check_connection_budget(config, f"{PROJECT}:surge.maxConnections")
    return config


def apply_surge(config: StackConfig, surge: SurgeConfig) -> StackConfig:
    """Pre-scale for an announced peak: more app replicas and database connections.

    The load generator stays as `loadgen.enabled` says: pre-scaling for real traffic must not
    need the scenarios, nor start Locust pods next to the app. When a rehearsal turns it on,
    it runs with the surge's number of workers."""
    return replace(
        config,
        app=replace(
            config.app,
            min_replicas=max(config.app.min_replicas, surge.min_replicas),
            max_replicas=max(config.app.max_replicas, surge.max_replicas),
        ),
        database=replace(
            config.database,
            max_connections=max(config.database.max_connections, surge.max_connections),
        ),
        loadgen=replace(config.loadgen, workers=surge.loadgen_workers),
    )
