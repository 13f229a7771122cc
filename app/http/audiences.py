"""Who an operation is for, and which entry (front proxy) publishes it.

Two entries stand in front of the app. The public entry faces the Internet and publishes
the `public` operations (anonymous: organisation sign-up, exam-notice verification, the
probes) and the `extranet` ones (students and employers). The intranet entry is reachable
from the school's network only and publishes every operation: staff and admins work there,
including on the reads they share with students.

The route table gives each operation its audience; the Ingresses and the nginx sites are
generated from it (`paths_of`, `path_pattern`), so no list of paths is kept by hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

PUBLIC = "public"
EXTRANET = "extranet"
INTRANET = "intranet"
AUDIENCES = (PUBLIC, EXTRANET, INTRANET)

# The two entries, as the proxies name them in ENTRY_HEADER.
PUBLIC_ENTRY = "public"
INTRANET_ENTRY = "intranet"
ENTRIES = (PUBLIC_ENTRY, INTRANET_ENTRY)
# The request header the proxies set (overwriting any a client sent); the app believes it
# only from the addresses of APP_TRUSTED_PROXIES.
ENTRY_HEADER = "X-Campus-Entry"
# What each entry publishes.
ENTRY_AUDIENCES = {
    PUBLIC_ENTRY: frozenset({PUBLIC, EXTRANET}),
    INTRANET_ENTRY: frozenset(AUDIENCES),
}
# Roles whose tokens work on the intranet entry only.
INTRANET_ROLES = frozenset({"admin", "staff"})


class _HasAudience(Protocol):
    audience: str


class _RouteLike(Protocol):
    @property
    def path(self) -> str: ...

    @property
    def ops(self) -> dict[str, _HasAudience]: ...  # pragma: no cover


def path_pattern(path: str) -> str:
    """A regular expression for a route path, anchored at its end; each `{..._id}` is one or
    more digits, and a trailing slash is allowed (the app strips it before routing).

    The start is anchored by whoever matches from the start: ingress-nginx writes every
    regex path as `~* "^PATH"`, nginx's site file writes `"~^PATH"`, Python's re.match.
    Only regex metacharacters are escaped, so the pattern stays readable in both.
    """
    parts = re.split(r"(\{\w+\})", path)
    body = "".join(
        "[0-9]+" if part.startswith("{") else _META.sub(r"\\\g<0>", part) for part in parts
    )
    return f"{body}/?$"


_META = re.compile(r"[.\\+*?\[\]^$(){}|]")


def paths_of(routes: Iterable[_RouteLike], entry: str, prefix: str = "") -> list[str]:
    """The paths, in route-table order, of which `entry` publishes at least one operation.

    A path whose operations are all for the intranet is absent from the public entry; a
    path that mixes audiences (an exam period is read by students, created by staff) is on
    both, and the app refuses the staff operation on the public entry.
    """
    if entry not in ENTRY_AUDIENCES:
        raise ValueError(f"entry must be one of {', '.join(ENTRIES)}, got {entry!r}")
    wanted = ENTRY_AUDIENCES[entry]
    return [
        route.path
        for route in routes
        if route.path.startswith(prefix) and any(op.audience in wanted for op in route.ops.values())
    ]
