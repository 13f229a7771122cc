"""Read what is left of a request body before answering, so a proxy can finish sending it.

An answer given before the body is read (401, 403, 404, 413...) makes the server close the
connection with the body unread; nginx, still sending a large body, then fails on the closed
socket and turns the app's answer into its own 502. Bodies up to twice the app's limit are
read and dropped (a proxy in front refuses larger ones itself); a direct client sending more
gets the connection closed as before.
"""

from __future__ import annotations

import contextlib

import falcon


class DrainBodyMiddleware:
    def __init__(self, max_body_bytes: int) -> None:
        self._max_drain = 2 * max_body_bytes

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        length = req.content_length
        if length and length <= self._max_drain and not req.bounded_stream.eof:
            # A client that went away leaves nothing to protect.
            with contextlib.suppress(OSError):
                req.bounded_stream.exhaust()
