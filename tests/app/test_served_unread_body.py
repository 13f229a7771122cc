"""An answer given before a request's body is read (here 401) still lets the client, or a
proxy such as nginx, send the whole body: the served app reads it and drops it, instead of
closing the connection under the sender (which nginx turns into its own 502)."""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from tests.app.test_make_run import free_port
from tests.app.test_served_shedding import serve, wait_ready

BODY_BYTES = 4 * 1024 * 1024


@pytest.mark.slow
@pytest.mark.postgres
def test_a_body_sent_after_an_early_answer_is_read_to_the_end(tmp_path, postgres_url):
    port = free_port()
    server = serve(tmp_path, postgres_url, port)
    try:
        wait_ready(server, f"http://127.0.0.1:{port}", tmp_path / "serve.log")
        head = (
            "POST /api/v1/enrolments/batch HTTP/1.1\r\nHost: campus\r\n"
            f"Content-Type: application/json\r\nContent-Length: {BODY_BYTES}\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", port), timeout=60) as client:
            client.sendall(head.encode())
            # Time for the app to decide (no token: 401) before any of the body arrives.
            time.sleep(1)
            # Raises (broken pipe or reset) when the server closed the connection meanwhile.
            client.sendall(b"x" * BODY_BYTES)
            answer = client.recv(65536)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
