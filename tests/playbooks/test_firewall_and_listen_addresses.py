"""Hosts: a firewall role that drops all inbound traffic but what each inventory names, off on
the local inventory by design; internal services listen on loopback or the private network."""

import re
from pathlib import Path

import jinja2
import pytest
import yaml

from tests.policies.metric_producers import scraped_node_exporters

from .ansible_cli import PLAYBOOKS, inventory_hosts, render, run_playbook

pytestmark = pytest.mark.xdist_group("ansible-converge")

ROLE = PLAYBOOKS / "roles" / "firewall"
INVENTORIES = PLAYBOOKS / "inventories"


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


def test_the_firewall_is_off_on_the_local_inventory_and_its_run_changes_nothing() -> None:
    assert _load(INVENTORIES / "local/group_vars/all.yml")["firewall_enabled"] is False
    run = run_playbook("site.yml", "--check", "--tags", "firewall")
    assert run.returncode == 0, run.tail()
    assert run.recap()["changed"] == 0
    assert "firewall_enabled is false" in run.output
    assert "TASK [firewall : Install nftables]" not in run.output


def test_every_host_of_site_and_single_host_gets_the_firewall() -> None:
    for playbook in ("site.yml", "single-host.yml"):
        plays = yaml.safe_load((PLAYBOOKS / playbook).read_text())
        roles = [r["role"] for play in plays for r in play.get("roles", [])]
        assert "firewall" in roles, playbook


def _render(variables: dict) -> str:
    # An nftables ruleset, not HTML: nothing to escape (Ansible renders it the same way).
    template = jinja2.Environment(  # noqa: S701
        undefined=jinja2.StrictUndefined, trim_blocks=True
    )
    text = (ROLE / "templates/nftables.conf.j2").read_text()
    return template.from_string(text).render(ansible_managed="managed", **variables)


def test_the_ruleset_drops_inbound_by_default_and_opens_each_service_to_its_sources() -> None:
    rules = _render(
        {
            "firewall_ssh_sources": ["10.20.0.0/24"],
            "firewall_ssh_port": 22,
            "firewall_allowed": [
                {"name": "postgresql", "port": 5432, "proto": "tcp", "sources": ["10.20.16.0/20"]},
                {"name": "https", "port": 443, "proto": "tcp", "sources": ["::/0"]},
            ],
        }
    )
    assert "policy drop;" in rules
    assert 'ip saddr 10.20.0.0/24 tcp dport 22 accept comment "ssh"' in rules
    assert 'ip saddr 10.20.16.0/20 tcp dport 5432 accept comment "postgresql"' in rules
    assert 'ip6 saddr ::/0 tcp dport 443 accept comment "https"' in rules
    # Only its own table is replaced: kube-proxy's and the CNI's tables stay on a node.
    assert "flush ruleset" not in rules
    assert "delete table inet campus_filter" in rules


def test_the_role_refuses_to_run_without_ssh_sources_or_with_an_unsourced_service() -> None:
    tasks = (ROLE / "tasks/main.yml").read_text()
    assert "firewall_ssh_sources | length > 0" in tasks
    assert "rejectattr('sources')" in tasks
    assert "validate: /usr/sbin/nft -c -f %s" in tasks


@pytest.mark.parametrize("inventory", ["staging", "production"])
def test_server_inventories_turn_the_firewall_on_with_named_ssh_sources(inventory: str) -> None:
    merged: dict = {}
    for path in sorted((INVENTORIES / inventory / "group_vars").glob("*.yml")):
        merged |= _load(path)
    assert merged.get("firewall_enabled", True) is True
    assert merged["firewall_ssh_sources"]


def test_production_internal_services_never_listen_on_every_interface() -> None:
    monitoring = _load(INVENTORIES / "production/group_vars/monitoring_servers.yml")
    database = _load(INVENTORIES / "production/group_vars/db_servers.yml")
    assert monitoring["monitoring_listen_address"].startswith("127.0.0.1:")
    assert database["postgresql_exporter_listen_address"] == "{{ campus_private_address }}:9187"
    hosts = (INVENTORIES / "production/hosts.yml").read_text()
    assert re.search(r"db-1\.campus\.example\.edu:\n\s+campus_private_address: 10\.", hosts)
    for path in (INVENTORIES / "production").rglob("*.yml"):
        assert not re.search(r"listen_address:\s*\"?0\.0\.0\.0", path.read_text()), path
    assert database["campus_node_exporter_listen_address"] == "{{ campus_private_address }}:9100"
    # The exporters' ports are open to the monitoring server alone.
    for port in (9187, 9100):
        (exporter,) = [s for s in database["firewall_allowed"] if s["port"] == port]
        assert exporter["sources"] == [
            "{{ hostvars['monitor-1.campus.example.edu'].campus_private_address }}/32"
        ], port


def _host(inventory: str, name: str) -> tuple[dict, dict]:
    """A host's variables over the node_exporter role's defaults, and every host's variables."""
    hosts = inventory_hosts(INVENTORIES / inventory)
    defaults = _load(PLAYBOOKS / "roles/node_exporter/defaults/main.yml")
    return defaults | hosts[name].variables, {h: host.variables for h, host in hosts.items()}


def test_the_production_database_servers_node_exporter_listens_on_its_private_address() -> None:
    variables, hostvars = _host("production", "db-1.campus.example.edu")
    address = render(variables["node_exporter_listen_address"], variables, hostvars)
    assert address == "10.20.10.11:9100"
    # What database.yml writes for the init script or the systemd unit to read.
    template = jinja2.Environment(  # noqa: S701
        undefined=jinja2.StrictUndefined, trim_blocks=True
    )
    text = PLAYBOOKS / "roles/node_exporter/templates/prometheus-node-exporter.default.j2"
    options = template.from_string(text.read_text()).render(
        ansible_managed="managed",
        node_exporter_listen_address=address,
        node_exporter_textfile_dir=render(variables["node_exporter_textfile_dir"], variables, {}),
    )
    assert "--web.listen-address=10.20.10.11:9100 " in options
    assert '--collector.textfile.directory=/var/lib/prometheus/node-exporter"' in options
    # Only the monitoring server may reach it, and it does scrape it.
    firewall = render(variables["firewall_allowed"], variables, hostvars)
    (rule,) = [s for s in firewall if s["port"] == 9100]
    assert rule["sources"] == ["10.20.10.21/32"]
    monitor, _ = _host("production", "monitor-1.campus.example.edu")
    assert "10.20.10.11:9100" in render(monitor["monitoring_node_targets"], monitor, hostvars)


@pytest.mark.parametrize("inventory", ["staging", "production"])
def test_every_database_server_has_its_node_exporter_scraped(inventory: str) -> None:
    hosts = inventory_hosts(INVENTORIES / inventory)
    databases = {name for name, host in hosts.items() if "db_servers" in host.groups}
    assert databases
    assert databases <= scraped_node_exporters(inventory)
