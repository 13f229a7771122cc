"""The single host's two nginx sites: the committed path maps are the route table's, and the
site template with them is a configuration nginx accepts (the converge test then sends real
requests through it)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from app.http import nginx_routes
from app.http.audiences import INTRANET, path_pattern
from app.http.routes import ROUTES
from bench.nginx_site import ENTRIES_FILE, nginx_conf, render_site, self_signed, site_variables


def test_the_committed_maps_are_those_of_the_route_table():
    assert ENTRIES_FILE.read_text() == nginx_routes.render(), (
        "the route table changed: run `make nginx-routes` and commit the file"
    )


def _map(text: str, variable: str) -> list[str]:
    block = re.search(r"map \$uri \$" + variable + r" \{(.*?)\n\}", text, re.S)
    assert block, variable
    return re.findall(r'"~\^(.*?)" 1;', block.group(1))


def test_the_public_map_leaves_out_every_path_whose_operations_are_all_intranet():
    text = ENTRIES_FILE.read_text()
    public = _map(text, "campus_public_path")
    intranet = _map(text, "campus_intranet_path")
    assert intranet == [path_pattern(route.path) for route in ROUTES]
    for route in ROUTES:
        concrete = re.sub(r"\{\w+_id\}", "5", route.path)
        hits = sum(bool(re.match(p, concrete)) for p in public)
        only_intranet = {op.audience for op in route.ops.values()} == {INTRANET}
        assert hits == (0 if only_intranet else 1), route.path


def test_the_generator_writes_the_file_it_is_asked_for(tmp_path: Path):
    out = tmp_path / "entries.conf"
    assert nginx_routes.main(["--out", str(out)]) == 0
    assert out.read_text() == nginx_routes.render()


def test_each_site_sets_its_entry_limits_above_the_apps_and_problem_pages(tmp_path: Path):
    site = render_site(site_variables(tmp_path))
    servers = site.split("# The ")[1:]
    assert [s.split()[0] for s in servers] == ["public", "intranet"]
    public, intranet = servers
    assert "listen 443 ssl http2;" in public and "listen 10.20.0.15:8443 ssl http2;" in intranet
    for server, entry in ((public, "public"), (intranet, "intranet")):
        assert f"proxy_set_header X-Campus-Entry {entry};" in server
        assert f"if ($campus_{entry}_path = 0)" in server
        assert 'proxy_set_header X-Request-Start "t=${msec}";' in server
        assert f"client_max_body_size {16 * 2**20 + 2**20};" in server
        assert "proxy_read_timeout 130s;" in server and "proxy_send_timeout 130s;" in server
        for code in (404, 413, 502, 503, 504):
            assert re.search(rf"error_page {code} @campus_\w+;", server), code
        assert server.count("default_type application/problem+json;") == 5
        # Admission: 2 workers x 4 threads, four requests in flight per thread.
        assert "limit_conn campus_app_in_flight 32;" in server
        assert "error_page 503 @campus_overloaded;" in server
    ipv6 = render_site(site_variables(tmp_path, app_host_intranet_address="fd00::5"))
    assert "listen [fd00::5]:8443 ssl http2;" in ipv6


needs_nginx = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")


@needs_nginx
def test_nginx_accepts_the_sites(tmp_path: Path):
    self_signed(tmp_path)
    site = render_site(site_variables(tmp_path, app_host_intranet_address="127.0.0.1"))
    done = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(nginx_conf(tmp_path, site))],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
