"""The accepting thread sheds only whole, plain HTTP/1.1 requests it has seen entirely: anything
else (partial, chunked, upgrade, closing, HTTP/1.0) goes to a thread as usual."""

from __future__ import annotations

import pytest

from app.http.worker import _whole_request

GET = b"GET /api/v1/learners/1?x=1 HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer t\r\n\r\n"
POST = b'POST /api/v1/learners HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\n{"a":'


def test_a_whole_get_is_read_with_its_path_and_length():
    assert _whole_request(GET) == ("GET", "/api/v1/learners/1", len(GET))


def test_a_post_counts_its_body_and_leaves_the_next_request():
    body = POST + b"1"
    assert _whole_request(body + GET) == ("POST", "/api/v1/learners", len(body))


@pytest.mark.parametrize(
    "head",
    [
        POST,  # the body has not all arrived
        GET[:-2],  # nor the end of the headers
        b"GET / HTTP/1.0\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"GET / HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
        b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
        b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
        b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        b"GARBAGE\r\n\r\n",
        b"",
    ],
)
def test_anything_else_is_left_to_a_thread(head):
    assert _whole_request(head) is None
