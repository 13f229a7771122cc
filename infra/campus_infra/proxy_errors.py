"""The ingress controllers' own errors as problem+json, never the controller's HTML page.

A server snippet in each controller's configuration (ConfigMap key `server-snippet`, added to
every server of that controller: both controllers serve the app alone) sends the errors the
controller makes itself to named locations that answer as the app does. Errors the app
answers pass through untouched: `proxy_intercept_errors` stays off, because the controllers
set no `custom-http-errors`, so the app's own 413 naming its limit and its 503 with
`Retry-After` reach the client as the app wrote them.
"""

from __future__ import annotations

import json

PROBLEMS = "https://campus-platform.example/problems/"


def _problems(max_body_bytes: int) -> dict[int, tuple[str, str, str]]:
    # status: (slug, title, detail); the single host's nginx answers the same.
    return {
        413: (
            "too-large",
            "Request too large",
            f"the request body is larger than {max_body_bytes} bytes",
        ),
        502: ("bad-gateway", "Bad Gateway", "the app is not answering; retry shortly"),
        504: ("gateway-timeout", "Gateway Timeout", "the app did not answer in time"),
    }


def server_snippet(max_body_bytes: int) -> str:
    """nginx directives for a server block: its own 413, 502 and 504 as problem+json."""
    lines: list[str] = []
    locations: list[str] = []
    for status, (slug, title, detail) in _problems(max_body_bytes).items():
        body = json.dumps(
            {"type": PROBLEMS + slug, "title": title, "status": status, "detail": detail},
            separators=(",", ":"),
        )
        name = f"@campus_{slug.replace('-', '_')}"
        lines.append(f"error_page {status} {name};")
        locations += [
            f"location {name} {{",
            # No type by extension: a refused .pdf path is still answered in JSON.
            "  types { }",
            "  default_type application/problem+json;",
            f"  return {status} '{body}';",
            "}",
        ]
    return "\n".join(lines + locations) + "\n"
