"""A throwaway nginx configuration's settings that keep it off the installed nginx's files."""

from __future__ import annotations

from pathlib import Path


def private_temp_paths(root: Path) -> str:
    """nginx's temporary directories under `root`, as http-block directives.

    Run as root, even `nginx -t` creates the directories a configuration uses and gives them
    to its worker user; with the defaults those are the installed nginx's own
    (/var/lib/nginx/*), which its real workers then cannot write: bodies larger than a buffer
    get 500.
    """
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    return "".join(f" {kind}_temp_path {root}/{kind};\n" for kind in kinds)
