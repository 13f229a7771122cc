"""Which entry a request came through, and what that entry may reach (defence in depth).

The proxies publish only their entry's paths (audiences.py); this middleware holds the
same line inside the app, so a proxy that routes a path by mistake still cannot open the
intranet. The entry comes from audiences.ENTRY_HEADER, believed only when the request's
peer is one of APP_TRUSTED_PROXIES: a client that reaches the app some other way and sends
the header is treated as if it had not.

- Through the public entry, an intranet operation is answered 404, as the proxy would.
- Through the public entry, a staff or admin token is refused with 403 (auth.py asks
  `refuses_role`, once the token is known).
- A request that came through no proxy (probes, Prometheus, the load generator, a laptop)
  is not an entry's: the network keeps such callers inside, and the roles still apply.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

import falcon

from app.domain.errors import Forbidden
from app.http.audiences import (
    ENTRY_AUDIENCES,
    ENTRY_HEADER,
    INTRANET_ENTRY,
    INTRANET_ROLES,
    PUBLIC_ENTRY,
)
from app.http.operations import Op

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def entry_of(req: falcon.Request, trusted: Sequence[Network]) -> str | None:
    """The entry named by a trusted proxy, or None for a request that came through none.

    A trusted proxy that sends an unknown value is taken as the public entry: a
    misconfigured proxy gets the least, never the most.
    """
    if not trusted or not _is_trusted(req.remote_addr, trusted):
        return None
    value = (req.get_header(ENTRY_HEADER) or "").strip().lower()
    if not value:
        return None
    return INTRANET_ENTRY if value == INTRANET_ENTRY else PUBLIC_ENTRY


def _is_trusted(address: str | None, trusted: Sequence[Network]) -> bool:
    try:
        peer = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(peer in network for network in trusted)


def refuses_role(req: falcon.Request, role: str) -> None:
    """403 for a staff or admin token on the public entry."""
    if req.context.get("entry") == PUBLIC_ENTRY and role in INTRANET_ROLES:
        raise Forbidden.of(
            "Authorization",
            f"a {role} token works only through the intranet entry, not the public one",
        )


class EntryMiddleware:
    """Records the entry of each request; hides intranet operations from the public entry."""

    def __init__(self, ops: Mapping[type, Mapping[str, Op]], trusted: Sequence[Network]) -> None:
        self._ops = ops
        self._trusted = tuple(trusted)

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.entry = entry_of(req, self._trusted)

    def process_resource(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: object,
        params: dict[str, object],
    ) -> None:
        entry = req.context.get("entry")
        if entry is None or resource is None:
            return
        op = self._ops.get(type(resource), {}).get(req.method)
        if op is not None and op.audience not in ENTRY_AUDIENCES[entry]:
            # The same answer as the public proxy's for a path it does not publish.
            raise falcon.HTTPNotFound(description=f"Not Found: {req.method} {req.path}")
