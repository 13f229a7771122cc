"""The single host's nginx site (`playbooks/roles/app_host`), rendered and run outside Ansible.

The serving benchmark measures the app behind the very site a host gets, and the tests check
that nginx accepts it and behaves as configured; both render the role's template here, with
the role's defaults, as Ansible would.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jinja2
import yaml

from loadtests.run_local import free_port

ROLE = Path(__file__).resolve().parents[1] / "playbooks" / "roles" / "app_host"
ENTRIES_FILE = ROLE / "files" / "nginx-campus-entries.conf"


def private_temp_paths(root: Path) -> str:
    """nginx's temporary directories under `root`, as http-block directives.

    Run as root, even `nginx -t` creates the directories a configuration uses and gives them
    to its worker user; with the defaults those are the installed nginx's own
    (/var/lib/nginx/*), which its real workers then cannot write: bodies larger than a buffer
    get 500.
    """
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    return "".join(f" {kind}_temp_path {root}/{kind};\n" for kind in kinds)


def _environment() -> jinja2.Environment:
    # Ansible's `bool` filter stood in for by Python's; undefined variables fail as in Ansible.
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True)  # noqa: S701
    environment.filters["bool"] = lambda value: str(value).lower() in ("1", "true", "yes")
    return environment


def render_site(variables: dict) -> str:
    """The site template as Ansible renders it."""
    text = (ROLE / "templates" / "nginx-campus.conf.j2").read_text()
    return _environment().from_string(text).render(ansible_managed="managed", **variables)


def site_variables(tls: Path, workers: int = 2, threads: int = 4, **overrides) -> dict:
    """The role's defaults for a host with `workers` x `threads`, its certificate under `tls`."""
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables = {
        key: defaults[key]
        for key in (
            "app_host_http_port",
            "app_host_max_body_bytes",
            "app_host_body_margin_bytes",
            "app_host_request_timeout",
            "app_host_proxy_timeout_margin",
            "app_host_public_address",
            "app_host_intranet_port",
            "app_host_nginx_refused_log",
            "app_host_nginx_access_log",
        )
    }
    sizing = {"app_host_workers": workers, "app_host_threads": threads}
    variables.update(
        app_host_listen_host="127.0.0.1",
        app_host_port=8000,
        app_host_https_port=443,
        app_host_listen_ipv6=False,
        app_host_server_name="campus.example.edu",
        app_host_intranet_address="10.20.0.15",
        app_host_intranet_server_name="10.20.0.15",
        app_host_nginx_entries_file=str(ENTRIES_FILE),
        app_host_tls_certificate=str(tls / "c.crt"),
        app_host_tls_private_key=str(tls / "c.key"),
        # The default is an expression of the host's sizing: rendered as Ansible would.
        app_host_max_in_flight=int(
            _environment().from_string(defaults["app_host_max_in_flight"]).render(**sizing)
        ),
    )
    variables.update(overrides)
    return variables


def self_signed(directory: Path) -> None:
    """A one-day certificate and key for campus.example.edu: c.crt and c.key in `directory`."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-subj", "/CN=campus.example.edu", "-days", "1",
         "-keyout", str(directory / "c.key"), "-out", str(directory / "c.crt")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip


def nginx_conf(root: Path, site: str) -> Path:
    """A whole nginx configuration around `site` that keeps its files under `root`."""
    (root / "site.conf").write_text(site)
    conf = root / "nginx.conf"
    conf.write_text(
        f"pid {root}/nginx.pid;\nerror_log {root}/error.log;\n"
        "worker_processes auto;\n"
        "events { worker_connections 8192; }\n"
        f"http {{\n access_log off;\n{private_temp_paths(root)}"
        f" include {root}/site.conf;\n}}\n"
    )
    return conf


@contextmanager
def running_site(root: Path, app_port: int, intranet_port: int, **overrides) -> Iterator[int]:
    """The shipped site in a throwaway nginx: its intranet entry on 127.0.0.1:`intranet_port`
    over TLS, proxying to the app on `app_port`. Yields nginx's main process id."""
    root.mkdir(parents=True, exist_ok=True)
    self_signed(root)
    site = render_site(
        site_variables(
            root,
            app_host_port=app_port,
            app_host_intranet_address="127.0.0.1",
            app_host_intranet_port=intranet_port,
            # The public entry and the redirect listen on free ports nobody calls.
            app_host_https_port=free_port(),
            app_host_http_port=free_port(),
            app_host_public_address="127.0.0.1",
            app_host_nginx_refused_log=str(root / "refused.log"),
            app_host_nginx_access_log=str(root / "access.log"),
            **overrides,
        )
    )
    conf = nginx_conf(root, site)
    nginx = subprocess.Popen(
        ["nginx", "-p", str(root), "-c", str(conf), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    try:
        _wait_listening(nginx, intranet_port)
        yield nginx.pid
    finally:
        nginx.terminate()
        nginx.wait(timeout=20)


def _wait_listening(nginx: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if nginx.poll() is not None:
            raise RuntimeError(f"nginx exited: {nginx.stderr.read().decode()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nginx did not listen on port {port}")
