"""The single host's nginx entries, generated from the route table.

    python -m app.http.nginx_routes [--out PATH]

writes an nginx include (http context) with one map per entry: `$campus_public_path` and
`$campus_intranet_path` are 1 for a request path the entry publishes (audiences.py), else
0. The site template (playbooks, role app_host) includes it and answers 404 problem+json
where the map says 0, so the public site never passes an intranet path to the app.

The output is committed in the role (`make nginx-routes` rewrites it, a test checks it is
current): the playbook then needs no Python of the app on the controller, runs the same
in check mode, and a change of audience shows in review as a change of the proxy.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from app.http.audiences import ENTRIES, path_pattern, paths_of
from app.http.routes import ROUTES

HEADER = (
    "# Generated from the route table (app/http/routes.py) by `python -m app.http.nginx_routes`;\n"
    "# do not edit: run `make nginx-routes`.\n"
)


def variable(entry: str) -> str:
    """The nginx variable that is 1 for the paths `entry` publishes."""
    return f"$campus_{entry}_path"


def _map(entry: str, paths: Iterable[str]) -> str:
    lines = [f"map $uri {variable(entry)} {{", "    default 0;"]
    lines += [f'    "~^{path_pattern(path)}" 1;' for path in paths]
    lines.append("}")
    return "\n".join(lines) + "\n"


def render() -> str:
    """The include file, both entries' maps."""
    return HEADER + "".join("\n" + _map(entry, paths_of(ROUTES, entry)) for entry in ENTRIES)


def main(argv: Sequence[str] | None = None) -> int:
    """Write the include to --out (default: standard output)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="file to write (default: standard output)")
    options = parser.parse_args(argv)
    text = render()
    if options.out is None:
        sys.stdout.write(text)
    else:
        options.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
