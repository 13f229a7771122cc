"""The ingress controllers' server snippet, run in a real nginx: the proxy's own 413, 502 and
504 come back as problem+json, and the app's own answers of those codes pass untouched."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from campus_infra.config import parse_stack_config
from campus_infra.ingresses import controller_values
from campus_infra.proxy_errors import server_snippet

from app.http.audiences import INTRANET_ENTRY, PUBLIC_ENTRY
from bench.nginx_site import private_temp_paths
from tests.infra.conftest import stack_getter
from tests.infra.upstream import vendored

APP_413 = b'{"title":"from the app","status":413}'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _App(BaseHTTPRequestHandler):
    """Stands for the app: answers its own 413 with its own body."""

    def do_POST(self) -> None:
        self.send_response(413)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(APP_413)))
        self.end_headers()
        self.wfile.write(APP_413)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[str]:
    if shutil.which("nginx") is None:
        pytest.skip("nginx is not installed")
    app = ThreadingHTTPServer(("127.0.0.1", 0), _App)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    # Accepts and never answers: the proxy's read timeout (504).
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port, closed = _free_port(), _free_port()
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n access_log off;\n{private_temp_paths(tmp_path)}"
        f" server {{\n  listen 127.0.0.1:{port};\n"
        f"  location /small/ {{ client_max_body_size 1k; proxy_pass http://127.0.0.1:{closed}; }}\n"
        f"  location /down/ {{ proxy_pass http://127.0.0.1:{closed}; }}\n"
        f"  location /slow/ {{ proxy_read_timeout 1s;"
        f" proxy_pass http://127.0.0.1:{silent.getsockname()[1]}; }}\n"
        f"  location /app/ {{ proxy_pass http://127.0.0.1:{app.server_address[1]}; }}\n"
        f"{server_snippet(1024)}"
        " }\n}\n"
    )
    nginx = subprocess.Popen(
        ["nginx", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if nginx.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(nginx.stderr.read() if nginx.stderr else "") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        nginx.terminate()
        nginx.wait(timeout=20)
        app.shutdown()
        silent.close()


def _post(base: str, path: str, body: bytes) -> tuple[int, str, bytes]:
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("POST", path, body=body)
        answer = connection.getresponse()
        return answer.status, answer.getheader("Content-Type", ""), answer.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [("/small/x.pdf", b"x" * 4096, 413), ("/down/x", b"{}", 502), ("/slow/x", b"{}", 504)],
)
def test_the_proxys_own_errors_are_problem_json(proxy: str, path: str, body: bytes, status):
    code, media, raw = _post(proxy, path, body)
    assert code == status
    assert media == "application/problem+json"
    problem = json.loads(raw)
    assert problem["status"] == status and problem["type"].startswith("https://")


def test_the_apps_own_answer_of_the_same_code_passes_untouched(proxy: str):
    assert _post(proxy, "/app/x", b"{}") == (413, "application/problem+json", APP_413)


def test_the_controllers_configuration_keys_are_the_pinned_controllers():
    documented = set(vendored("ingress-nginx/configmap.json"))
    config = parse_stack_config(stack_getter("prod"))
    for entry in (PUBLIC_ENTRY, INTRANET_ENTRY):
        keys = controller_values(config, entry)["controller"]["config"]
        assert set(keys) <= documented, set(keys) - documented
        # custom-http-errors would turn on proxy_intercept_errors and swallow the app's answers.
        assert "custom-http-errors" not in keys
