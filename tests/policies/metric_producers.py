"""Which producers of metrics the rendered platform really has, and what each produces.

A metric an alert or a dashboard reads must come from somewhere that exists: a scrape job
of the Kubernetes stack (our ServiceMonitor and PodMonitor, the charts' own monitors), a
scrape job of the hosts' Prometheus (playbooks), or a node-exporter textfile that a job of
the platform writes. Third-party metrics name their exporter in
platform_tools.metrics_catalogue (`source`); this module says which sources are present.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from platform_tools import metrics_catalogue as catalogue
from tests.playbooks.ansible_cli import InventoryHost, inventory_hosts, render

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA = REPO_ROOT / "infra"
# The pinned kube-prometheus-stack's values.yaml (infra/schemas/SOURCES.yaml): what the
# release does with a key our values leave out.
KUBE_PROMETHEUS_STACK_DEFAULTS = INFRA / "schemas/charts/kube-prometheus-stack/values.json"
PLAYBOOKS = REPO_ROOT / "playbooks"
APP = "the app's /metrics"
# The ops tools' metrics are written as node-exporter textfile files by the tools themselves
# (on hosts by `platform-tools backup` and `archive`, on Kubernetes by the kube-bench gate's
# CronJob): a declared producer, checked below where the platform itself writes the file.
# The outbox dispatcher writes its own textfile too (PLATFORM_TOOLS_TEXTFILE_DIR on the host or
# volume where it is scheduled).
DECLARED_TEXTFILE_SOURCES = {
    catalogue.SOURCE_BACKUP,
    catalogue.SOURCE_ARCHIVE,
    catalogue.SOURCE_OUTBOX,
}


def capture_stack(stack: str, out: Path) -> list[dict[str, Any]]:
    """The stack's objects and Helm releases, as `make render` captures them."""
    done = subprocess.run(
        [sys.executable, "-m", "campus_infra.capture", "--stack", stack, "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(INFRA)},
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(out.read_text(encoding="utf-8"))


def _objects(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        r["inputs"]
        for r in records
        if r["custom"] and r["type"].startswith("kubernetes:") and "helm.sh" not in r["type"]
    ]


def _releases(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        r["inputs"]["name"]: r["inputs"].get("values") or {}
        for r in records
        if r["type"] == "kubernetes:helm.sh/v3:Release"
    }


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


BARMAN_PLUGIN = "barman-cloud.cloudnative-pg.io"


def kubernetes_producers(records: list[dict[str, Any]]) -> dict[str, str]:
    """Producers present in a rendered stack: {source: the object that makes it produce}."""
    objects = _objects(records)
    releases = _releases(records)
    found: dict[str, str] = {}
    services = [o for o in objects if o.get("kind") == "Service"]
    pods = [
        (o["metadata"]["namespace"], o["spec"]["template"]["metadata"]["labels"], o)
        for o in objects
        if o.get("kind") in ("Deployment", "StatefulSet", "DaemonSet")
    ]
    for monitor in objects:
        if monitor.get("kind") == "ServiceMonitor":
            selector = monitor["spec"]["selector"]["matchLabels"]
            for service in services:
                if _selects(selector, service["metadata"].get("labels", {})) and any(
                    _selects(service["spec"]["selector"], labels) for _, labels, _ in pods
                ):
                    found[APP] = f"ServiceMonitor {monitor['metadata']['name']}"
        if monitor.get("kind") == "PodMonitor":
            selector = monitor["spec"]["selector"]["matchLabels"]
            ports = {e.get("port") for e in monitor["spec"]["podMetricsEndpoints"]}
            clusters = [o for o in objects if o.get("kind") == "Cluster"]
            # CloudNativePG labels each instance pod cnpg.io/cluster=<name>; its exporter's
            # port is named `metrics`.
            scraped = [
                c
                for c in clusters
                if "metrics" in ports
                and _selects(selector, {"cnpg.io/cluster": c["metadata"]["name"]})
            ]
            if scraped:
                found[catalogue.SOURCE_CNPG] = f"PodMonitor {monitor['metadata']['name']}"
            # The Barman Cloud plugin adds its backup series to that same exporter, on the
            # instances of a cluster that enables the plugin for its WAL archive.
            if any(
                plugin.get("name") == BARMAN_PLUGIN
                for c in scraped
                for plugin in c["spec"].get("plugins", [])
            ):
                found[catalogue.SOURCE_BARMAN_CLOUD] = (
                    f"PodMonitor {monitor['metadata']['name']}, plugin {BARMAN_PLUGIN}"
                )
    falco = releases.get("falco", {})
    if falco.get("metrics", {}).get("enabled") and falco.get("serviceMonitor", {}).get("create"):
        found[catalogue.SOURCE_FALCO] = "falco release (metrics, serviceMonitor)"
    stack = releases.get("kube-prometheus-stack")
    if stack is not None:
        found[catalogue.SOURCE_PROMETHEUS] = "kube-prometheus-stack Prometheus"
        if stack.get("kubeStateMetrics", {}).get("enabled", True):
            found[catalogue.SOURCE_KSM] = "kube-prometheus-stack kube-state-metrics"
        if node_exporter_scraped(stack):
            found[catalogue.SOURCE_NODE_EXPORTER] = "kube-prometheus-stack prometheus-node-exporter"
        textfile = textfile_hostpath(stack)
        if textfile and writes_textfile(objects, textfile, "kube-bench"):
            found[catalogue.SOURCE_KUBE_BENCH] = f"kube-bench gate writes {textfile}"
    return found


def _stack_default(*keys: str) -> Any:
    value = json.loads(KUBE_PROMETHEUS_STACK_DEFAULTS.read_text(encoding="utf-8"))["content"]
    for key in keys:
        value = value[key]
    return value


def node_exporter_scraped(stack_values: dict[str, Any]) -> bool:
    """Whether the stack's node exporter runs, is scraped and keeps its filesystem collector.

    The chart installs the prometheus-node-exporter subchart on `nodeExporter.enabled` (its
    Chart.yaml condition, read at kube-prometheus-stack-88.5.3) and the subchart's
    ServiceMonitor on `prometheus.monitor.enabled` under the parent's `prometheus-node-exporter`
    key; both default to true in the parent's values.yaml, read from the vendored copy when our
    values leave them out.
    """
    enabled = stack_values.get("nodeExporter", {}).get(
        "enabled", _stack_default("nodeExporter", "enabled")
    )
    exporter = stack_values.get("prometheus-node-exporter", {})
    monitored = (
        exporter.get("prometheus", {})
        .get("monitor", {})
        .get(
            "enabled",
            _stack_default("prometheus-node-exporter", "prometheus", "monitor", "enabled"),
        )
    )
    args = exporter.get("extraArgs", [])
    # The filesystem collector is on by default; either flag turns it off.
    filesystem = "--no-collector.filesystem" not in args and (
        "--collector.disable-defaults" not in args or "--collector.filesystem" in args
    )
    return bool(enabled and monitored and filesystem)


def textfile_hostpath(stack_values: dict[str, Any]) -> str | None:
    """The host folder the node exporter reads textfiles from, if its collector is on."""
    exporter = stack_values.get("prometheus-node-exporter", {})
    args = exporter.get("extraArgs", [])
    inside = [a.split("=", 1)[1] for a in args if a.startswith("--collector.textfile.directory=")]
    if not inside:
        return None
    for mount in exporter.get("extraHostVolumeMounts", []):
        if mount.get("mountPath") == inside[0]:
            return mount.get("hostPath")
    return None


def writes_textfile(objects: list[dict[str, Any]], host_folder: str, name: str) -> bool:
    """Whether the CronJob `name` writes a .prom file into `host_folder` on the node."""
    for cron in objects:
        if cron.get("kind") != "CronJob" or cron["metadata"]["name"] != name:
            continue
        pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        volumes = {
            v["name"]: v["hostPath"]["path"] for v in pod.get("volumes", []) if "hostPath" in v
        }
        for container in pod["containers"]:
            args = [*container.get("command", []), *container.get("args", [])]
            if "--metrics-file" not in args:
                continue
            target = args[args.index("--metrics-file") + 1]
            for mount in container.get("volumeMounts", []):
                on_host = volumes.get(mount["name"]) == host_folder and not mount.get("readOnly")
                inside = target.startswith(mount["mountPath"] + "/") and target.endswith(".prom")
                if on_host and inside:
                    return True
    return False


# Hosts whose Prometheus the monitoring role runs (and with it their own node exporter); the
# database servers run the node exporter too (database.yml), with the same settings on a
# host that is both (validate_inventory).
MONITORING_GROUPS = frozenset({"monitoring_servers", "single_hosts"})
DATABASE_GROUP = "db_servers"
# Hosts that run the app behind nginx, and so mtail (single-host.yml's app_host role).
APP_HOST_GROUPS = frozenset({"single_hosts"})


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in {"true", "yes", "on", "1"}


def _is_loopback(target: str) -> bool:
    host = target.rsplit(":", 1)[0].strip("[]")
    return host.startswith("127.") or host in {"localhost", "::1"}


@functools.cache
def _inventory(inventory: str) -> dict[str, InventoryHost]:
    return inventory_hosts(PLAYBOOKS / "inventories" / inventory)


def _hosts(inventory: str, overrides: dict[str, Any] | None) -> dict[str, tuple[frozenset, dict]]:
    """{host: (groups, variables)}: the roles' defaults, then the inventory's variables of that
    host, then `overrides` (as extra vars would)."""
    defaults: dict[str, Any] = {}
    for role in ("monitoring", "node_exporter"):
        path = PLAYBOOKS / "roles" / role / "defaults/main.yml"
        defaults |= yaml.safe_load(path.read_text()) or {}
    hosts = _inventory(inventory)
    return {
        name: (host.groups, defaults | host.variables | (overrides or {}))
        for name, host in hosts.items()
    }


def node_exporter_scrapes(
    inventory: str = "production", overrides: dict[str, Any] | None = None
) -> list[tuple[str, str, str | None]]:
    """Node targets of the hosts' Prometheus that a node exporter answers, as
    (Prometheus host, target, host of the exporter). A target that is the address of an
    inventory host's node exporter counts only if the playbooks run that exporter; a loopback
    target is the Prometheus host's own; any other target is an exporter outside the
    inventory, assumed to be there (host None)."""
    hosts = _hosts(inventory, overrides)
    hostvars = {name: variables for name, (_, variables) in hosts.items()}
    exporters: dict[str, tuple[str, bool]] = {}
    for name, (groups, variables) in hosts.items():
        monitoring = bool(groups & MONITORING_GROUPS)
        database = DATABASE_GROUP in groups
        if not (monitoring or database):
            continue
        address = (
            "monitoring_node_exporter_listen_address"
            if monitoring
            else "node_exporter_listen_address"
        )
        running = (
            monitoring
            and _truthy(render(variables["monitoring_node_exporter_enabled"], variables, hostvars))
        ) or (database and _truthy(render(variables["node_exporter_enabled"], variables, hostvars)))
        exporters[name] = (render(variables[address], variables, hostvars), running)
    scrapes = []
    for name, (groups, variables) in hosts.items():
        if not groups & MONITORING_GROUPS:
            continue
        for target in render(variables.get("monitoring_node_targets") or [], variables, hostvars):
            owners = [
                host
                for host, (address, _) in exporters.items()
                if address == target and (host == name or not _is_loopback(target))
            ]
            if owners:
                scrapes += [(name, target, host) for host in owners if exporters[host][1]]
            elif not _is_loopback(target):
                scrapes.append((name, target, None))
    return scrapes


def scraped_node_exporters(
    inventory: str = "production", overrides: dict[str, Any] | None = None
) -> set[str]:
    """The inventory's hosts whose node exporter a Prometheus of the inventory scrapes."""
    return {host for _, _, host in node_exporter_scrapes(inventory, overrides) if host}


def host_producers(
    inventory: str = "production", overrides: dict[str, Any] | None = None
) -> dict[str, str]:
    """Scrape jobs of the hosts' Prometheus (playbooks' monitoring role) for an inventory,
    its variables changed by `overrides` (as extra vars would)."""
    hosts = _hosts(inventory, overrides)
    hostvars = {name: variables for name, (_, variables) in hosts.items()}
    prometheus = [v for groups, v in hosts.values() if groups & MONITORING_GROUPS]
    found = {catalogue.SOURCE_PROMETHEUS: "hosts' Prometheus"}

    def targets(variable: str) -> bool:
        return any(render(v.get(variable) or [], v, hostvars) for v in prometheus)

    if targets("monitoring_postgres_exporter_targets"):
        found[catalogue.SOURCE_POSTGRES_EXPORTER] = "monitoring role job postgresql"
    if targets("monitoring_app_targets"):
        found[APP] = "monitoring role job campus-app"
    if targets("monitoring_proxy_targets") and any(
        groups & APP_HOST_GROUPS for groups, _ in hosts.values()
    ):
        found[catalogue.SOURCE_MTAIL] = "monitoring role job campus-proxy"
    scrapes = node_exporter_scrapes(inventory, overrides)
    if scrapes:
        found[catalogue.SOURCE_NODE_EXPORTER] = "monitoring role job node: " + ", ".join(
            sorted({host or target for _, target, host in scrapes})
        )
    for source in DECLARED_TEXTFILE_SOURCES:
        found[source] = "textfile written by the ops tool itself (declared)"
    return found


def producer_of(name: str, app_names: set[str]) -> str | None:
    """The source that must exist for series `name`: the app, or the catalogue's exporter."""
    if name in app_names:
        return APP
    for spec in catalogue.CATALOGUE.values():
        if name in spec.sample_names():
            return spec.source
    return None
