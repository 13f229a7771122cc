"""validate_inventory stops a run on a bad inventory, naming the variable, before any change."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from .ansible_cli import PLAYBOOKS, PlaybookRun, once_per_session, run_playbook, xdist_shared_dir

GOOD_CHECKSUM = "sha256:" + "ab" * 32
STRONG_PASSWORD = "a-long-enough-password"

# Settings of a correct single host that is also a Kubernetes and Falco node,
# so that every scope of validate.yml is checked.
BASE_VARS: dict[str, Any] = {
    "ansible_connection": "local",
    "ansible_python_interpreter": "/usr/bin/python3",
    "campus_environment": "test",
    "campus_db_name": "campus",
    "campus_db_user": "campus",
    "campus_db_password": STRONG_PASSWORD,
    "campus_app_port": 8000,
    "campus_server_name": "localhost",
    "postgresql_users": [{"name": "campus", "password": STRONG_PASSWORD}],
    "postgresql_databases": [{"name": "campus", "owner": "campus"}],
    "common_admin_users": [
        {
            "name": "ops",
            "ssh_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyForTests ops@test"],
        }
    ],
    "k8s_node_bundle_url": "https://artifacts.example.test/kubernetes.tar.gz",
    "k8s_node_bundle_checksum": GOOD_CHECKSUM,
}
ALL_GROUPS = ["single_hosts", "db_servers", "monitoring_servers", "k8s_nodes", "falco_nodes"]


def write_inventory(root: Path, hosts: dict[str, dict[str, Any]]) -> Path:
    """An inventory of hosts in every group, each with BASE_VARS changed by its overrides.

    An override of None removes the variable. Hosts connect locally, but
    validate.yml never connects: its assertions run on the controller.
    """
    inventory = root / "inventory"
    (inventory / "host_vars").mkdir(parents=True)
    layout = {
        "all": {
            "hosts": dict.fromkeys(hosts),
            "children": {group: {"hosts": dict.fromkeys(hosts)} for group in ALL_GROUPS},
        }
    }
    (inventory / "hosts.yml").write_text(yaml.safe_dump(layout))
    for host, overrides in hosts.items():
        variables = {**BASE_VARS, **overrides}
        variables = {key: value for key, value in variables.items() if value is not None}
        (inventory / "host_vars" / f"{host}.yml").write_text(yaml.safe_dump(variables))
    return inventory


BAD_INPUTS = [
    pytest.param(
        "campus_mtail_listen_address", {"campus_mtail_listen_address": "3903"}, id="mtail-no-host"
    ),
    pytest.param(
        "app_host_nginx_refused_log",
        {"app_host_nginx_refused_log": "refused.log"},
        id="refused-log-relative",
    ),
    pytest.param(
        "app_host_nginx_access_log",
        {"app_host_nginx_access_log": "/var/log/nginx/access log"},
        id="access-log-with-a-space",
    ),
    pytest.param("app_host_max_in_flight", {"app_host_max_in_flight": 0}, id="max-in-flight-zero"),
    pytest.param(
        "app_host_max_in_flight", {"app_host_max_in_flight": "32k"}, id="max-in-flight-not-a-number"
    ),
    pytest.param("postgresql_port", {"postgresql_port": 70000}, id="port-out-of-range"),
    pytest.param("postgresql_port", {"postgresql_port": "5432"}, id="port-as-string"),
    pytest.param("campus_db_password", {"campus_db_password": None}, id="db-password-missing"),
    pytest.param(
        "app_host_exam_token_key", {"app_host_exam_token_key": "short"}, id="exam-key-too-short"
    ),
    pytest.param(
        "campus_db_password", {"campus_db_password": "changeme"}, id="db-password-placeholder"
    ),
    pytest.param(
        "postgresql_users[0]",
        {"postgresql_users": [{"name": "Bad-Name", "password": STRONG_PASSWORD}]},
        id="db-user-bad-name",
    ),
    pytest.param(
        "postgresql_users[0]",
        {"postgresql_users": [{"name": "campus", "password": "short"}]},
        id="db-user-short-password",
    ),
    pytest.param(
        "postgresql_hba_entries[0]",
        {
            "postgresql_hba_entries": [
                {
                    "type": "host",
                    "database": "all",
                    "user": "all",
                    "address": "0.0.0.0/0",
                    "method": "trust",
                }
            ]
        },
        id="hba-trust",
    ),
    pytest.param("postgresql_backup_hour", {"postgresql_backup_hour": 24}, id="backup-hour"),
    pytest.param("postgresql_backup_tool", {"postgresql_backup_tool": "rsync"}, id="backup-tool"),
    pytest.param(
        "postgresql_backup_keep_daily", {"postgresql_backup_keep_daily": 0}, id="backup-keep-daily"
    ),
    pytest.param(
        "postgresql_wal_archive_keep_days",
        {"postgresql_wal_archive_keep_days": 0},
        id="wal-archive-keep-days",
    ),
    pytest.param("monitoring_retention", {"monitoring_retention": "forever"}, id="retention"),
    pytest.param(
        "node_exporter_listen_address",
        {"node_exporter_listen_address": "9100"},
        id="node-exporter-address",
    ),
    pytest.param(
        "campus_node_exporter_listen_address",
        {"campus_node_exporter_listen_address": "10.20.10.11"},
        id="shared-node-exporter-address",
    ),
    pytest.param(
        "campus_node_exporter_textfile_dir",
        {"campus_node_exporter_textfile_dir": "var/lib/textfiles"},
        id="textfile-dir-relative",
    ),
    # database.yml and the monitoring role would take turns rewriting the exporter's options.
    pytest.param(
        "monitoring_node_exporter_listen_address",
        {"monitoring_node_exporter_listen_address": "127.0.0.1:9101"},
        id="two-node-exporter-configurations",
    ),
    pytest.param(
        "monitoring_app_targets",
        {"monitoring_app_targets": "127.0.0.1:8000"},
        id="targets-not-list",
    ),
    pytest.param(
        "campus_service_manager", {"campus_service_manager": "upstart"}, id="service-manager"
    ),
    pytest.param(
        "common_admin_users[0]",
        {"common_admin_users": [{"name": "ops", "ssh_keys": ["not a key"]}]},
        id="admin-bad-key",
    ),
    pytest.param("campus_app_port", {"campus_app_port": 0}, id="app-port"),
    pytest.param(
        "app_host_tls_private_key_src",
        {"app_host_tls_certificate_src": "/etc/ssl/campus.crt"},
        id="certificate-without-key",
    ),
    pytest.param(
        "k8s_node_bundle_checksum",
        {"k8s_node_bundle_checksum": "md5:0123456789abcdef0123456789abcdef"},
        id="bundle-checksum",
    ),
    pytest.param("k8s_node_bundle_url", {"k8s_node_bundle_url": None}, id="bundle-url-missing"),
    pytest.param(
        "k8s_node_bundle_bin_dir", {"k8s_node_bundle_bin_dir": "../bin/"}, id="bundle-dir-escapes"
    ),
]


# Correct too: the node exporter of a host in every group moved to another address for both
# the database playbook and the monitoring role at once.
GOOD_INPUTS = {
    "correct": {},
    "correct-shared-node-exporter": {"campus_node_exporter_listen_address": "10.20.10.11:9100"},
    "correct-max-in-flight": {"app_host_max_in_flight": 64},
}


def failure_messages(play_output: str) -> dict[str, str]:
    """The message of the failed task of each host, from the JSON callback's output."""
    report = json.loads(play_output[play_output.index("{") :])
    messages: dict[str, str] = {}
    for play in report["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                # A failed loop says "One or more items failed"; its items say what.
                failed = [*result.get("results", []), result]
                for part in failed:
                    if part.get("failed"):
                        messages.setdefault(host, part.get("msg", ""))
    return messages


@pytest.fixture(scope="session")
def validation(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[PlaybookRun, dict[str, str]]:
    """One validate.yml run over a correct host and one host per bad input."""

    def validate() -> dict[str, PlaybookRun]:
        hosts = GOOD_INPUTS | {case.id: case.values[1] for case in BAD_INPUTS}
        inventory = write_inventory(tmp_path_factory.mktemp("validate"), hosts)
        run = run_playbook(
            "validate.yml",
            inventory=inventory,
            env={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"},
            touches_machine=False,
        )
        return {"validate": run}

    shared = xdist_shared_dir(tmp_path_factory.getbasetemp())
    run = once_per_session("playbooks-validate", shared, validate)["validate"]
    return run, failure_messages(run.output)


def test_a_correct_inventory_passes(validation: tuple[PlaybookRun, dict[str, str]]) -> None:
    run, messages = validation
    for host in GOOD_INPUTS:
        assert host not in messages, messages.get(host)
    assert "Traceback" not in run.output


@pytest.mark.parametrize(("variable", "overrides"), BAD_INPUTS)
def test_bad_input_fails_naming_the_variable(
    validation: tuple[PlaybookRun, dict[str, str]],
    request: pytest.FixtureRequest,
    variable: str,
    overrides: dict[str, Any],
) -> None:
    run, messages = validation
    host = request.node.callspec.id
    assert run.returncode != 0
    assert host in messages, f"{host} ({overrides}) passed validation"
    assert variable in messages[host]


def test_database_playbook_stops_before_any_change_on_a_bad_inventory(tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path, {"localhost": {"postgresql_max_connections": 5}})
    # Check mode as a safety net: a broken validation must not touch this machine.
    run = run_playbook("database.yml", "--check", inventory=inventory, touches_machine=False)
    assert run.returncode != 0, run.tail()
    assert "postgresql_max_connections" in run.output
    recap = run.recap()
    assert recap["failed"] == 1
    assert recap["changed"] == 0
    assert "TASK [postgresql :" not in run.output


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_example_inventories_are_valid(environment: str) -> None:
    run = run_playbook(
        "validate.yml",
        # Secrets come from a vault in real use; the checksum from the artifact store.
        "-e",
        f"vault_campus_db_password={STRONG_PASSWORD}",
        "-e",
        f"k8s_node_bundle_checksum={GOOD_CHECKSUM}",
        inventory=PLAYBOOKS / "inventories" / environment,
        touches_machine=False,
    )
    assert run.returncode == 0, run.tail()
