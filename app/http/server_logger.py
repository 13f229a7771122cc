"""Gunicorn's logger without its access log: the app writes one JSON line per request itself.

With a logging configuration in place, gunicorn counts its access log as enabled and builds
every request's log atoms (headers, times, sizes) before finding nothing listening: about a
twentieth of a served read's time.
"""

from typing import Any

from gunicorn.glogging import Logger


class ServerLogger(Logger):
    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        """Nothing: app.http.observe logs each request."""
