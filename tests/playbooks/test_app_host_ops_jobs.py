"""The app host's scheduled commands (outbox dispatcher, employer-request validator): their
systemd units carry the app unit's hardening and run commands the CLI has, their timers tick
at the cadence asked, and their settings come from the inventory with documented defaults.
The app unit itself stops `serve` alone, which stops its server once.

The templates are rendered with Jinja2 as Ansible does (`quote` is Ansible's shell quoting);
the converge test runs them for real on a host.
"""

from __future__ import annotations

import configparser
import shlex

import jinja2
import yaml

from tests.platform_tools.test_runbook_pages import resolves

from .ansible_cli import PLAYBOOKS

ROLE = PLAYBOOKS / "roles" / "app_host"
HARDENING = (
    "NoNewPrivileges",
    "ProtectSystem",
    "ProtectHome",
    "PrivateTmp",
    "CapabilityBoundingSet",
)

VARIABLES = {
    "ansible_managed": "managed",
    "app_host_user": "campus",
    "app_host_group": "campus",
    "app_host_service_name": "campus-app",
    "app_host_cli": "/usr/local/bin/campus-app",
    "app_host_listen_host": "127.0.0.1",
    "app_host_port": 8000,
    "app_host_log_dir": "/var/log/campus",
    "app_host_venv": "/opt/campus/venv",
    "app_host_env_file": "/etc/campus/app.env",
    "app_host_ops_cli": "/usr/local/bin/campus-platform-tools",
    "app_host_ops_env_file": "/etc/campus/ops.env",
    "app_host_state_dir": "/var/lib/campus",
    "app_host_textfile_dir": "/var/lib/prometheus/node-exporter",
    "app_host_textfile_group": "campus-metrics",
    "app_host_ops_job_timeout": "10min",
    "app_host_outbox_every_minutes": 1,
    "app_host_validate_every_minutes": 5,
}


def _environment() -> jinja2.Environment:
    # systemd units and shell files, not HTML: nothing to escape (as Ansible renders them).
    environment = jinja2.Environment(  # noqa: S701
        undefined=jinja2.StrictUndefined, trim_blocks=True
    )
    environment.filters["quote"] = lambda value: shlex.quote(str(value))
    return environment


def _render(name: str, **extra: object) -> str:
    text = (ROLE / "templates" / name).read_text()
    return _environment().from_string(text).render(**VARIABLES, **extra)


def _jobs() -> list[dict]:
    jobs = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["app_host_ops_jobs"]
    environment = _environment()
    return [
        {key: environment.from_string(str(value)).render(**VARIABLES) for key, value in job.items()}
        for job in jobs
    ]


def _unit(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return parser


def test_the_jobs_are_the_dispatcher_every_minute_and_the_validator_every_five():
    jobs = {job["command"]: job for job in _jobs()}
    assert set(jobs) == {"outbox dispatch", "requests validate"}
    assert jobs["outbox dispatch"]["every_minutes"] == "1"
    assert jobs["requests validate"]["every_minutes"] == "5"
    for command in jobs:
        assert resolves(command.split()), command


def test_each_service_runs_as_the_app_with_the_app_units_hardening():
    app = _unit(_render("campus-app.service.j2"))["Service"]
    for job in _jobs():
        service = _unit(_render("campus-ops-job.service.j2", item=job))["Service"]
        assert service["Type"] == "oneshot"
        assert (service["User"], service["Group"]) == (app["User"], app["Group"])
        assert service["SupplementaryGroups"] == "campus-metrics"
        assert service["ExecStart"] == f"/usr/local/bin/campus-platform-tools {job['command']}"
        for key in HARDENING:
            assert service[key] == app[key], key
        writable = service["ReadWritePaths"].split()
        assert writable == [
            "/var/log/campus",
            "/var/lib/campus",
            "/var/lib/prometheus/node-exporter",
        ]


def test_the_app_unit_signals_serve_alone_and_kills_the_rest_only_at_the_timeout():
    # systemd's default signals every process of the unit at once; granian hangs on that.
    assert _unit(_render("campus-app.service.j2"))["Service"]["KillMode"] == "mixed"


def test_each_timer_ticks_at_its_cadence():
    calendars = {
        job["command"]: _unit(_render("campus-ops-job.timer.j2", item=job))["Timer"]["OnCalendar"]
        for job in _jobs()
    }
    assert calendars == {
        "outbox dispatch": "*-*-* *:00/1:00",
        "requests validate": "*-*-* *:00/5:00",
    }


def test_the_wrapper_loads_the_app_environment_then_the_jobs_settings():
    wrapper = _render("campus-platform-tools.sh.j2")
    app_env = wrapper.index(". /etc/campus/app.env")
    assert app_env < wrapper.index(". /etc/campus/ops.env")
    assert wrapper.rstrip().endswith('exec /opt/campus/venv/bin/platform-tools "$@"')


def test_the_smtp_relay_comes_from_the_inventory_and_is_quoted():
    rendered = _render(
        "ops.env.j2",
        app_host_outbox_smtp_host="smtp.example.edu",
        app_host_outbox_smtp_port=587,
        app_host_outbox_sender="no reply@campus.example.edu",
        app_host_outbox_journal="/var/lib/campus/outbox-sent.journal",
    )
    lines = dict(line.split("=", 1) for line in rendered.splitlines() if "=" in line)
    assert lines["OUTBOX_SMTP"] == "smtp.example.edu:587"
    assert lines["OUTBOX_SENDER"] == "'no reply@campus.example.edu'"
    assert lines["OUTBOX_JOURNAL"] == "/var/lib/campus/outbox-sent.journal"
    assert lines["PLATFORM_TOOLS_TEXTFILE_DIR"] == "/var/lib/prometheus/node-exporter"


def test_the_relay_defaults_to_the_local_mta_and_both_roles_share_the_textfile_group():
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert "default('127.0.0.1')" in defaults["app_host_outbox_smtp_host"]
    assert "default(25)" in defaults["app_host_outbox_smtp_port"]
    postgresql = yaml.safe_load((PLAYBOOKS / "roles/postgresql/defaults/main.yml").read_text())
    assert postgresql["postgresql_backup_textfile_group"] == defaults["app_host_textfile_group"]
    assert postgresql["postgresql_backup_textfile_dir"] == defaults["app_host_textfile_dir"]
