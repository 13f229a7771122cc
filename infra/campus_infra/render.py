"""Writes captured stacks as Kubernetes manifests, one folder per owner.

- build/manifests/<stack>/<namespace>/: the app's own objects, which Argo CD applies (CI
  publishes this folder to the deploy repository; nothing else is in it);
- build/platform/<stack>/<namespace or _cluster>/: what `pulumi up` applies (operators'
  custom resources, policies, namespaces, ...), for review and the checks only;
- build/helm-releases/<stack>.yaml: the Helm releases Pulumi installs (not objects).

`make render` runs this. Each stack is captured in its own process (Pulumi's runtime is
global), with the same program and config that `pulumi up` would use.

    python -m campus_infra.render [--stack dev ...] [--app-image REF] [--out build/manifests]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from campus_infra import paths
from campus_infra.capture import stack_names

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
PROVIDER_PREFIX = "pulumi:providers:"
CLUSTER_SCOPED = {"Namespace"}


class RenderError(RuntimeError):
    """A stack could not be captured or written; the message says which and why."""


def whole_numbers(value: Any) -> Any:
    """Pulumi passes numbers as floats; Kubernetes wants `replicas: 3`, not `3.0`."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    return value


SECRET = "kubernetes:core/v1:Secret"  # noqa: S105 (a type token, not a password)


def is_kubernetes_object(record: dict[str, Any]) -> bool:
    """A custom resource of the Kubernetes provider other than a Helm release, a read of an
    existing object, or a Secret (credentials are never written to files or published)."""
    return (
        record["custom"]
        and record["type"].startswith("kubernetes:")
        and record["type"] not in (HELM_RELEASE, SECRET)
        and "read" not in record
    )


def owner(record: dict[str, Any]) -> str:
    """Who applies the object: "argocd" (the app's manifests) or "pulumi" (the rest)."""
    return record.get("owner", "pulumi")


def manifests(records: list[dict[str, Any]], only: str | None = None) -> list[dict[str, Any]]:
    """The Kubernetes objects of a capture, as they would be applied (`only` one owner's)."""
    result = []
    for record in records:
        if not is_kubernetes_object(record) or (only and owner(record) != only):
            continue
        inputs = whole_numbers(record["inputs"])
        # Conventional key order, so a reviewer reads kind and name first.
        first = ("apiVersion", "kind", "metadata")
        manifest = {k: inputs[k] for k in first if k in inputs}
        manifest.update({k: v for k, v in inputs.items() if k not in first})
        if not manifest.get("metadata", {}).get("name"):
            raise RenderError(f"{record['type']} {record['name']}: metadata.name is not set")
        result.append(manifest)
    return result


def helm_releases(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Helm releases of a capture: chart, repository, version, namespace and values."""
    result = []
    for record in records:
        if record["type"] == HELM_RELEASE:
            inputs = whole_numbers(record["inputs"])
            inputs.pop("compat", None)
            result.append(inputs)
    return result


def manifest_path(root: Path, manifest: dict[str, Any]) -> Path:
    """<root>/<namespace or _cluster>/<kind>-<name>.yaml: one object per file."""
    kind = manifest["kind"]
    folder = "_cluster" if kind in CLUSTER_SCOPED else manifest["metadata"].get("namespace")
    if not folder:
        raise RenderError(f"{kind} {manifest['metadata']['name']}: no namespace")
    return root / folder / f"{kind.lower()}-{manifest['metadata']['name']}.yaml"


def write_stack(
    records: list[dict[str, Any]], out: Path, releases_file: Path, platform_out: Path
) -> list[Path]:
    """Replace `out` with the stack's Argo CD manifests and `platform_out` with Pulumi's;
    write its Helm releases to releases_file."""
    written = []
    for folder, who in ((out, "argocd"), (platform_out, "pulumi")):
        if folder.exists():
            shutil.rmtree(folder)
        for manifest in manifests(records, only=who):
            path = manifest_path(folder, manifest)
            if path.exists():
                raise RenderError(f"two objects render to {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
            text = yaml.safe_dump(manifest, sort_keys=False, width=1000)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    releases_file.parent.mkdir(parents=True, exist_ok=True)
    releases_file.write_text(
        yaml.safe_dump_all(helm_releases(records), sort_keys=False, width=1000), encoding="utf-8"
    )
    return written


def capture_in_subprocess(stack: str, overrides: list[str], out_json: Path) -> list[dict]:
    """Capture one stack in a fresh interpreter and load its records."""
    command = [
        sys.executable,
        "-m",
        "campus_infra.capture",
        "--stack",
        stack,
        "--out",
        str(out_json),
    ]
    for item in overrides:
        command += ["--set", item]
    env = {**os.environ, "PYTHONPATH": str(paths.REPO_ROOT / "infra")}
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, check=False, cwd=paths.REPO_ROOT
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"stack {stack}: capture failed"]
        raise RenderError(lines[-1].removeprefix("error: "))
    return json.loads(out_json.read_text(encoding="utf-8"))


def render(
    stacks: list[str],
    out: Path,
    releases: Path,
    overrides: list[str],
    capture_dir: Path | None = None,
    platform: Path | None = None,
) -> dict[str, list[dict]]:
    """Capture and write every stack; returns each stack's records."""
    with tempfile.TemporaryDirectory() as scratch:
        where = capture_dir or Path(scratch)
        with ThreadPoolExecutor(max_workers=max(1, min(len(stacks), os.cpu_count() or 1))) as pool:
            futures = {
                s: pool.submit(capture_in_subprocess, s, overrides, where / f"{s}.json")
                for s in stacks
            }
            records = {s: f.result() for s, f in futures.items()}
    platform = platform or out.parent / "platform"
    for stack, stack_records in records.items():
        write_stack(stack_records, out / stack, releases / f"{stack}.yaml", platform / stack)
    return records


def main(argv: list[str] | None = None) -> int:
    """CLI for `make render`."""
    parser = argparse.ArgumentParser(description="Render stacks as Kubernetes manifests.")
    parser.add_argument("--stack", action="append", help="default: every Pulumi.<stack>.yaml")
    parser.add_argument("--app-image", help="override campus-platform:app.image (CI: digest)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, default=paths.REPO_ROOT / "build" / "manifests")
    parser.add_argument(
        "--releases-out", type=Path, default=paths.REPO_ROOT / "build" / "helm-releases"
    )
    parser.add_argument("--platform-out", type=Path, default=paths.REPO_ROOT / "build" / "platform")
    options = parser.parse_args(argv)
    stacks = options.stack or stack_names()
    unknown = sorted(set(stacks) - set(stack_names()))
    if unknown:
        print(
            f"error: no Pulumi.{unknown[0]}.yaml (stacks: {', '.join(stack_names())})",
            file=sys.stderr,
        )
        return 2
    overrides = list(options.set)
    if options.app_image:
        overrides.append(f"campus-platform:app.image={options.app_image}")
    try:
        records = render(
            stacks, options.out, options.releases_out, overrides, platform=options.platform_out
        )
    except RenderError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for stack in stacks:
        argocd = len(manifests(records[stack], only="argocd"))
        pulumi_owned = len(manifests(records[stack], only="pulumi"))
        print(
            f"{stack}: {argocd} Argo CD manifests in {options.out / stack}, "
            f"{pulumi_owned} Pulumi objects in {options.platform_out / stack}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
