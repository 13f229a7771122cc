"""Refresh infra/schemas/ from the upstream files SOURCES.yaml names (`make refresh-schemas`).

Each entry names a repository, a tag and a path on GitHub; the file is read from
raw.githubusercontent.com, or with `--git-mirrors DIR` from local git directories
(DIR/<owner>+<name>/repo, bare or not) with `git show <tag>:<path>`. Every vendored file is
written as JSON: {"source": {repo, tag, path, checked}, "content": ...}, where content is
the CRD version's openAPIV3Schema, the chart's values, its values schema, kube-bench's
version mapping, or the annotation keys an ingress-nginx release documents.

    python infra/tools/refresh_schemas.py [--git-mirrors DIR] [--only FILE ...]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import yaml

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
RAW = "https://raw.githubusercontent.com/{repo}/{tag}/{path}"


class RefreshError(RuntimeError):
    """An upstream file is missing or does not hold what SOURCES.yaml says."""


def fetch(entry: dict[str, str], mirrors: Path | None) -> str:
    """The upstream file's text at its tag."""
    if mirrors is not None:
        git_dir = mirrors / entry["repo"].replace("/", "+") / "repo"
        done = subprocess.run(
            ["git", "-C", str(git_dir), "show", f"{entry['tag']}:{entry['path']}"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RefreshError(f"{entry['file']}: {done.stderr.strip()}")
        return done.stdout
    url = RAW.format(**entry)
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (fixed https host)
        return response.read().decode("utf-8")


def without_helm_directives(text: str) -> str:
    """Chart templates wrap CRDs in `{{- if ... }}` lines; drop them to read plain YAML."""
    return "\n".join(line for line in text.splitlines() if not line.strip().startswith("{{"))


def crd_schema(text: str, name: str, version: str) -> dict[str, Any]:
    """The openAPIV3Schema of one version of the CRD called `name`."""
    for document in yaml.safe_load_all(without_helm_directives(text)):
        if not isinstance(document, dict) or document.get("kind") != "CustomResourceDefinition":
            continue
        if document["metadata"]["name"] != name:
            continue
        for served in document["spec"]["versions"]:
            if served["name"] == version:
                return served["schema"]["openAPIV3Schema"]
        raise RefreshError(f"{name} has no version {version}")
    raise RefreshError(f"no CustomResourceDefinition {name}")


def annotation_names(text: str) -> list[str]:
    """The annotation keys of ingress-nginx's annotations.md table (`|[prefix/name](#...)`)."""
    names = sorted(
        set(re.findall(r"^\|\[(nginx\.ingress\.kubernetes\.io/[a-z0-9-]+)\]", text, re.M))
    )
    if not names:
        raise RefreshError("no annotation table found")
    return names


def configmap_keys(text: str) -> list[str]:
    """The ConfigMap keys of ingress-nginx's configmap.md table (`| [name](#...)`)."""
    names = sorted(set(re.findall(r"^\|\s*\[([a-z0-9-]+)\]\(#", text, re.M)))
    if not names:
        raise RefreshError("no configuration table found")
    return names


def content(entry: dict[str, str], text: str) -> Any:
    """What is kept of the upstream file, by kind."""
    kind = entry["kind"]
    if kind == "crd":
        return crd_schema(text, entry["name"], entry["version"])
    if kind == "values":
        return yaml.safe_load(text) or {}
    if kind == "schema":
        return json.loads(text)
    if kind == "mapping":
        return yaml.safe_load(text)["version_mapping"]
    if kind == "annotations":
        return annotation_names(text)
    if kind == "configmap":
        return configmap_keys(text)
    raise RefreshError(f"{entry['file']}: unknown kind {kind!r}")


def main(argv: list[str] | None = None) -> int:
    """Rewrite the vendored files; exit 2 naming the first file that cannot be refreshed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--git-mirrors", type=Path, help="read from local git directories")
    parser.add_argument("--only", action="append", default=[], metavar="FILE")
    options = parser.parse_args(argv)
    sources = yaml.safe_load((SCHEMAS / "SOURCES.yaml").read_text(encoding="utf-8"))
    for entry in sources["files"]:
        if options.only and entry["file"] not in options.only:
            continue
        try:
            kept = content(entry, fetch(entry, options.git_mirrors))
        except (RefreshError, OSError, ValueError, KeyError, yaml.YAMLError) as error:
            print(f"error: {entry['file']}: {error}", file=sys.stderr)
            return 2
        source = {k: entry[k] for k in ("repo", "tag", "path")}
        source["checked"] = sources["checked"]
        target = SCHEMAS / entry["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        document = {"source": source, "content": kept}
        target.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"{entry['file']}: {entry['repo']}@{entry['tag']} {entry['path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
