"""database.yml and single-host.yml run for real against this machine, twice.

The first runs build the platform (PostgreSQL, the app behind nginx with TLS,
Prometheus); the second runs must change nothing; then the platform is checked
from the outside, as a user and an operator would.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests
import yaml

from app.http.audiences import ENTRY_HEADER, INTRANET
from app.http.routes import ROUTES
from tests.full_batch import full_batch_body

from .ansible_cli import (
    LOCAL_INVENTORY,
    REPO,
    PlaybookRun,
    once_per_session,
    run_playbook,
    xdist_shared_dir,
)

# Converges run under the machine lock of ansible_cli (grouping on one worker
# alone is not enough: the converge is shared between workers through files).
pytestmark = pytest.mark.xdist_group("ansible-converge")

INVENTORY_VARS = yaml.safe_load((LOCAL_INVENTORY / "group_vars" / "all.yml").read_text())
CERTIFICATE = Path("/etc/nginx/tls/campus.crt")
PROMETHEUS = "http://127.0.0.1:9090"
UV = Path(".tools/uv/bin/uv")


@dataclass(frozen=True)
class Converge:
    """The four runs: each playbook once to build, once more to prove idempotence."""

    database_first: PlaybookRun
    single_host_first: PlaybookRun
    database_second: PlaybookRun
    single_host_second: PlaybookRun


def snapshot_app_source(root: Path) -> Path:
    """A copy of what the app's wheel is built from, taken once for all runs.

    The working tree may change while the tests run (people keep working);
    a changed app is rightly reinstalled by the next run, which is not what
    the idempotence check is about. The copy goes in through
    app_host_source_dir, the variable operators use to point at a checkout.
    """
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "uv.lock", "README.md"):
        shutil.copy2(REPO / name, source / name)
    for package in ("app", "platform_tools"):
        shutil.copytree(
            REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    return source


@pytest.fixture(scope="session")
def converged(tmp_path_factory: pytest.TempPathFactory) -> Converge:
    """Converge once for the whole session and every check of this module (the slow part)."""

    def converge() -> dict[str, PlaybookRun]:
        source = snapshot_app_source(tmp_path_factory.mktemp("campus"))
        app_vars = ("-e", f"app_host_source_dir={source}", "-e", f"app_host_uv={REPO / UV}")
        runs = {"database_first": run_playbook("database.yml")}
        if runs["database_first"].returncode == 0:
            runs["single_host_first"] = run_playbook("single-host.yml", *app_vars)
        if runs.get("single_host_first") and runs["single_host_first"].returncode == 0:
            runs["database_second"] = run_playbook("database.yml")
            runs["single_host_second"] = run_playbook("single-host.yml", *app_vars)
        return runs

    shared = xdist_shared_dir(tmp_path_factory.getbasetemp())
    runs = once_per_session("playbooks-converge", shared, converge)
    for name in ("database_first", "single_host_first"):
        assert name in runs and runs[name].returncode == 0, (
            runs[name].tail() if name in runs else f"{name} did not run"
        )
    return Converge(**runs)


def test_first_runs_succeed(converged: Converge) -> None:
    assert converged.database_first.recap()["failed"] == 0
    assert converged.single_host_first.recap()["failed"] == 0


@pytest.mark.parametrize("run_name", ["database_second", "single_host_second"])
def test_second_run_changes_nothing(converged: Converge, run_name: str) -> None:
    run: PlaybookRun = getattr(converged, run_name)
    assert run.returncode == 0, run.tail()
    recap = run.recap()
    assert recap["failed"] == 0
    assert recap["changed"] == 0, f"changed on the second run: {run.changed_tasks()}"


def psql_as_superuser(sql: str) -> str:
    """One value from psql run as postgres over the local socket."""
    proc = subprocess.run(
        ["runuser", "-u", "postgres", "--", "psql", "-p", "5432", "-XAtc", sql],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return proc.stdout.strip()


def test_postgresql_answers_with_the_configured_roles(converged: Converge) -> None:
    url = "postgresql://{user}:{password}@127.0.0.1:{port}/{db}".format(
        user=INVENTORY_VARS["campus_db_user"],
        password=INVENTORY_VARS["campus_db_password"],
        port=INVENTORY_VARS["postgresql_port"],
        db=INVENTORY_VARS["campus_db_name"],
    )
    with psycopg.connect(url, connect_timeout=5) as conn:
        user, database, superuser = conn.execute(
            "select current_user, current_database(), rolsuper"
            " from pg_roles where rolname = current_user"
        ).fetchone()
    assert (user, database, superuser) == ("campus", "campus", False)
    # The exporter's role reads statistics through pg_monitor, nothing more.
    assert psql_as_superuser("select pg_has_role('prometheus', 'pg_monitor', 'member')") == "t"
    assert psql_as_superuser("select rolsuper from pg_roles where rolname = 'prometheus'") == "f"


def test_password_authentication_refuses_a_wrong_password(converged: Converge) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(
            "postgresql://campus:wrong-password@127.0.0.1:5432/campus", connect_timeout=5
        )


def test_wal_archiving_and_nightly_backup_are_set_up(converged: Converge) -> None:
    assert psql_as_superuser("show archive_mode") == "on"
    assert "/var/lib/postgresql/wal-archive" in psql_as_superuser("show archive_command")
    # This machine has no systemd, so the schedule is a cron entry run as postgres.
    cron = Path("/etc/cron.d/campus-pg-backup").read_text()
    assert "postgres /usr/local/sbin/campus-pg-backup" in cron


def test_nightly_backup_creates_verifies_and_reports_to_the_node_exporter(
    converged: Converge,
) -> None:
    backups = Path("/var/backups/postgresql")
    before = set(backups.iterdir())
    # What cron runs at night, run now as the same user: platform-tools backup create,
    # verify (restore drill into a scratch database) and prune.
    subprocess.run(
        ["runuser", "-u", "postgres", "--", "/usr/local/sbin/campus-pg-backup"],
        cwd="/",
        check=True,
        timeout=600,
    )
    new = set(backups.iterdir()) - before
    assert len(new) == 1
    (backup,) = new
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["engine"] == "postgresql" and manifest["database"] == "campus"
    assert (backup / "data" / "dump" / "toc.dat").is_file()
    assert json.loads((backup / "verification.json").read_text())["ok"] is True
    # The textfile the backup alerts read, served by the node exporter.
    textfile = Path("/var/lib/prometheus/node-exporter/campus_backup_campus.prom").read_text()
    assert "campus_backup_last_success_timestamp_seconds" in textfile
    assert 'campus_backup_last_verify_success{database="campus"} 1.0' in textfile
    exported = requests.get("http://127.0.0.1:9100/metrics", timeout=10).text
    assert 'campus_backup_last_success_timestamp_seconds{database="campus"}' in exported


def test_outbox_dispatcher_and_request_validator_run_on_schedule_and_report(
    converged: Converge,
) -> None:
    # This machine has no systemd: cron runs them as the app's user, each under flock so
    # that a run still going makes the next tick skip.
    cron = Path("/etc/cron.d/campus-ops-jobs").read_text()
    for name, command, minute in (
        ("campus-outbox-dispatch", "outbox dispatch", "*/1"),
        ("campus-requests-validate", "requests validate", "*/5"),
    ):
        line = next(line for line in cron.splitlines() if f"platform-tools {command}" in line)
        assert line.startswith(f"{minute} * * * * campus /usr/bin/flock -n "), line
        assert f"/var/lib/campus/{name}.lock /usr/local/bin/campus-platform-tools" in line
    # What cron runs every minute, run now as the same user: with an empty outbox and no
    # request waiting, both succeed and write the textfiles CampusOutboxStuck reads.
    for command, textfile, metric in (
        (
            "outbox dispatch",
            "campus_outbox.prom",
            "campus_outbox_dispatch_last_run_timestamp_seconds",
        ),
        (
            "requests validate",
            "campus_requests_validate.prom",
            "campus_requests_validate_last_success_timestamp_seconds",
        ),
    ):
        subprocess.run(
            [
                "runuser",
                "-u",
                "campus",
                "--",
                "/usr/local/bin/campus-platform-tools",
                *command.split(),
            ],
            cwd="/",
            check=True,
            timeout=300,
        )
        written = Path("/var/lib/prometheus/node-exporter") / textfile
        assert metric in written.read_text()
    exported = requests.get("http://127.0.0.1:9100/metrics", timeout=10).text
    assert "campus_outbox_dispatch_last_run_timestamp_seconds" in exported
    assert "campus_outbox_oldest_unsent_age_seconds" in exported


def test_settings_are_sized_from_memory(converged: Converge) -> None:
    # The local inventory caps shared_buffers at 256 MB.
    assert psql_as_superuser("show shared_buffers") == "256MB"


def test_app_is_ready_through_nginx_over_tls(converged: Converge) -> None:
    response = requests.get("https://localhost/readyz", verify=str(CERTIFICATE), timeout=10)
    assert response.status_code == 200, response.text


def test_plain_http_redirects_to_https(converged: Converge) -> None:
    response = requests.get("http://localhost/healthz", allow_redirects=False, timeout=10)
    assert response.status_code == 301
    assert response.headers["Location"] == "https://localhost/healthz"


def test_metrics_are_not_published_through_nginx(converged: Converge) -> None:
    response = requests.get("https://localhost/metrics", verify=str(CERTIFICATE), timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"


def test_app_runs_as_its_own_unprivileged_user(converged: Converge) -> None:
    pid_file = Path("/run/campus-app.pid")  # written by the init script (no systemd)
    if pid_file.exists():
        pid = int(pid_file.read_text().strip())
    else:
        pid = int(
            subprocess.run(
                ["systemctl", "show", "--property=MainPID", "--value", "campus-app"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
    status = Path(f"/proc/{pid}/status").read_text()
    uid = next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:"))
    user = subprocess.run(
        ["id", "-un", uid], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert user == "campus"


def _wait_for(read, accept, seconds: float = 90):
    """What `read()` returns once `accept` takes it, or its last answer after `seconds`."""
    deadline = time.monotonic() + seconds
    value = read()
    while not accept(value) and time.monotonic() < deadline:
        time.sleep(1)
        value = read()
    return value


def prometheus_targets() -> dict[str, str]:
    """Health of each active scrape target, by job."""
    data = requests.get(f"{PROMETHEUS}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
    return {target["labels"]["job"]: target["health"] for target in data}


def test_prometheus_reports_the_app_target_up(converged: Converge) -> None:
    # A new target is "unknown" until its first scrape; wait for one scrape interval or so.
    targets = _wait_for(prometheus_targets, lambda found: found.get("campus-app") == "up", 60)
    assert targets.get("campus-app") == "up", targets
    assert {"prometheus", "postgresql", "node", "campus-proxy"} <= set(targets)


def _disk_alert_selectors() -> dict[str, str]:
    """The disk alerts' own selectors of the node exporter's filesystem series, by metric."""
    rules = yaml.safe_load((REPO / "policies/prometheus/rules/campus-hosts.yml").read_text())
    (expr,) = [
        rule["expr"]
        for group in rules["groups"]
        for rule in group["rules"]
        if rule.get("alert") == "CampusDiskAlmostFull"
    ]
    selectors = {}
    for name in (
        "node_filesystem_avail_bytes",
        "node_filesystem_size_bytes",
        "node_filesystem_readonly",
    ):
        match = re.search(rf"{name}\{{[^}}]*\}}", expr)
        assert match, f"CampusDiskAlmostFull reads no {name}"
        selectors[name] = match.group(0)
    return selectors


def test_prometheus_has_filesystems_the_disk_alerts_watch(converged: Converge) -> None:
    # The alerts' fstype and read-only filters applied to what the real node exporter writes:
    # filters that left out every real filesystem would keep the alerts silent for ever.
    selectors = _disk_alert_selectors()
    query = (
        f"({selectors['node_filesystem_avail_bytes']} / {selectors['node_filesystem_size_bytes']})"
        f" and {selectors['node_filesystem_readonly']} == 0"
    )

    def filesystems() -> list[dict]:
        answer = requests.get(f"{PROMETHEUS}/api/v1/query", params={"query": query}, timeout=10)
        body = answer.json()
        assert body["status"] == "success", body
        return body["data"]["result"]

    # The node target's first scrape may still be to come.
    found = _wait_for(filesystems, bool, 60)
    assert found, f"no filesystem series matches {query}"
    for series in found:
        labels = series["metric"]
        assert labels["job"] == "node", labels
        assert {"instance", "device", "fstype", "mountpoint"} <= set(labels), labels
        assert 0 <= float(series["value"][1]) <= 1, series


def test_prometheus_loads_the_alert_rules_of_policies(converged: Converge) -> None:
    expected = set()
    for rule_file in sorted((REPO / "policies" / "prometheus" / "rules").glob("*.yml")):
        expected |= {group["name"] for group in yaml.safe_load(rule_file.read_text())["groups"]}
    groups = requests.get(f"{PROMETHEUS}/api/v1/rules", timeout=10).json()["data"]["groups"]
    loaded = {group["name"] for group in groups}
    assert loaded == expected


def test_written_prometheus_configuration_passes_promtool(converged: Converge) -> None:
    proc = subprocess.run(
        ["promtool", "check", "config", "/etc/prometheus/prometheus.yml"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


PUBLIC_SITE = "https://localhost"
INTRANET_SITE = f"https://{INVENTORY_VARS['campus_intranet_address']}:8443"


def _operations(audience_test):
    """(method, concrete path) of every operation whose audience passes `audience_test`."""
    for route in ROUTES:
        path = re.sub(r"\{\w+_id\}", "1", route.path)
        for method, op in route.ops.items():
            if audience_test(op.audience):
                yield method, path


def _send(site: str, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(
        method, site + path, verify=str(CERTIFICATE), timeout=30, allow_redirects=False, **kwargs
    )


def test_every_intranet_path_is_refused_on_the_public_site_and_served_on_the_intranet_one(
    converged: Converge,
) -> None:
    checked = 0
    for method, path in _operations(lambda audience: audience == INTRANET):
        public = _send(PUBLIC_SITE, method, path)
        only_intranet = all(
            op.audience == INTRANET
            for route in ROUTES
            if re.sub(r"\{\w+_id\}", "1", route.path) == path
            for op in route.ops.values()
        )
        if only_intranet:
            # nginx's own answer: the app never sees the request.
            assert public.status_code == 404, (method, path, public.text)
            assert public.headers["Content-Type"] == "application/problem+json"
            assert public.json()["detail"] == "this entry publishes no such path"
        else:
            # A path shared with students: the app itself hides the staff operation.
            assert public.status_code == 404, (method, path, public.text)
            assert public.headers["Content-Type"] == "application/problem+json"
        intranet = _send(INTRANET_SITE, method, path)
        # Reached the app: its auth asks for a token (or /metrics answers).
        expected = 200 if path == "/metrics" else 401
        assert intranet.status_code == expected, (method, path, intranet.text[:200])
        checked += 1
    assert checked >= 20


def test_public_and_extranet_paths_are_served_on_the_public_site(converged: Converge) -> None:
    for method, path in _operations(lambda audience: audience != INTRANET):
        answer = _send(PUBLIC_SITE, method, path)
        # The app answered (its 401, 404, 405 or 422 as problem+json, or a probe's 200),
        # never nginx's 404 for a path it does not publish.
        assert answer.headers.get("Content-Type", "").startswith("application/"), (method, path)
        if answer.status_code == 404:
            assert answer.json()["detail"] != "this entry publishes no such path", (method, path)


def test_a_staff_token_is_refused_through_the_public_site_and_accepted_on_the_intranet(
    converged: Converge,
) -> None:
    token = subprocess.run(
        ["/usr/local/bin/campus-app", "create-token", "--role", "staff", "--name", "entries test"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout.strip().split()[-1]  # fmt: skip
    headers = {"Authorization": f"Bearer {token}", ENTRY_HEADER: "intranet"}
    # A client's own entry header is overwritten by nginx.
    refused = _send(PUBLIC_SITE, "GET", "/api/v1/exam-periods", headers=headers)
    assert refused.status_code == 403, refused.text
    assert "intranet entry" in refused.json()["errors"][0]["message"]
    served = _send(INTRANET_SITE, "GET", "/api/v1/exam-periods", headers=headers)
    assert served.status_code == 200, served.text


def test_a_full_enrolment_batch_passes_nginx_and_a_larger_body_gets_problem_json(
    converged: Converge,
) -> None:
    body = full_batch_body()
    answer = _send(
        INTRANET_SITE, "POST", "/api/v1/enrolments/batch", data=body,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert answer.status_code == 401, answer.text[:200]  # the app's answer, not nginx's 413
    # Past nginx's limit: only the headers are sent; nginx answers from Content-Length.
    context = ssl.create_default_context(cafile=str(CERTIFICATE))
    with (
        socket.create_connection(("localhost", 443), timeout=30) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(
            b"POST /api/v1/organisations HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nContent-Length: 200000000\r\n\r\n"
        )
        response = b""
        while b"}" not in response:
            chunk = tls.recv(65536)
            if not chunk:
                break
            response += chunk
    head, _, payload = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    assert b"Content-Type: application/problem+json" in head
    assert json.loads(payload)["status"] == 413


def _refused_total() -> float | None:
    """campus_proxy_requests_refused_total as Prometheus last scraped it from mtail."""
    query = "sum(campus_proxy_requests_refused_total)"
    answer = requests.get(f"{PROMETHEUS}/api/v1/query", params={"query": query}, timeout=10)
    found = answer.json()["data"]["result"]
    return float(found[0]["value"][1]) if found else None


def test_nginx_refuses_past_the_in_flight_limit_and_prometheus_counts_it(
    converged: Converge,
) -> None:
    site = Path("/etc/nginx/sites-available/campus.conf").read_text()
    limit = int(re.search(r"limit_conn campus_app_in_flight (\d+);", site).group(1))
    # mtail's first scrape may still be to come.
    before = _wait_for(_refused_total, lambda value: value is not None)
    assert before is not None, prometheus_targets()
    context = ssl.create_default_context(cafile=str(CERTIFICATE))
    held = []
    try:
        # Requests whose body never comes hold their slot in nginx, the app never called.
        for _ in range(limit):
            tls = context.wrap_socket(
                socket.create_connection(("localhost", 443), timeout=30),
                server_hostname="localhost",
            )
            tls.sendall(
                b"POST /api/v1/organisations HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            )
            held.append(tls)
        time.sleep(0.5)  # nginx reads each request's headers before counting it
        refused = [_send(PUBLIC_SITE, "POST", "/api/v1/organisations", json={}) for _ in range(3)]
        probe = _send(PUBLIC_SITE, "GET", "/healthz")
    finally:
        for tls in held:
            tls.close()
    for answer in refused:
        assert answer.status_code == 503, answer.text[:200]
        assert answer.headers["Retry-After"] == "1"
        assert answer.json()["type"].endswith("/problems/overloaded")
    assert probe.status_code == 200
    # Once nginx has seen the held connections close, the app answers again (not nginx's 503).
    status = _wait_for(
        lambda: _send(PUBLIC_SITE, "POST", "/api/v1/organisations", json={}).status_code,
        lambda value: value != 503,
        seconds=10,
    )
    assert status in (400, 422), status
    after = _wait_for(_refused_total, lambda value: value is not None and value >= before + 3)
    assert after == before + 3


def test_nginx_tells_the_app_when_it_took_the_request(converged: Converge) -> None:
    site = Path("/etc/nginx/sites-available/campus.conf").read_text()
    assert site.count('proxy_set_header X-Request-Start "t=${msec}";') == 2
    env = Path("/etc/campus/app.env").read_text()
    assert "APP_TRUSTED_PROXIES=127.0.0.1" in env
    assert "APP_REQUEST_TIMEOUT=120" in env


def test_the_host_records_what_it_runs_for_the_drift_report(
    converged: Converge, tmp_path: Path
) -> None:
    state_file = Path("/etc/campus/deployed.json")
    state = json.loads(state_file.read_text())
    assert state["environment"] == INVENTORY_VARS["campus_environment"]
    (app_version,) = state["components"]["campus-app"]["versions"]
    assert app_version.startswith("campus_platform-") and " sha1:" in app_version
    assert "unknown" not in app_version
    assert state["components"]["nginx"]["versions"][0].startswith("nginx 1.")
    assert state["components"]["campus-app"]["config"]["APP_TRUSTED_PROXIES"] == "127.0.0.1"
    # The same host as a dev stack that ran an older build: the report names the new one.
    older = json.loads(state_file.read_text())
    older["environment"] = "dev"
    older["components"]["campus-app"]["versions"] = ["campus_platform-0.0.9.whl sha1:0"]
    (tmp_path / "dev.json").write_text(json.dumps(older))
    done = subprocess.run(
        [str(REPO / ".venv/bin/platform-tools"), "drift", "--json",
         "--host-state", str(tmp_path / "dev.json"), "--host-state", str(state_file)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    skipped = json.loads(done.stdout)["skipped"]
    assert [(s["component"], s["version"]) for s in skipped] == [("campus-app", app_version)]
