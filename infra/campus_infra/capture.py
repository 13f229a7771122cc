"""Runs the Pulumi program under Pulumi's test mocks and captures every resource's inputs.

Stand-in: the build machines have no Pulumi CLI or engine, so `pulumi.runtime.set_mocks`
plays the engine. The program itself runs unchanged (infra/__main__.py via runpy, exactly
as Pulumi's Python host starts it), with the stack's config from Pulumi.<stack>.yaml.

Pulumi's runtime is process-global state, so one process captures one stack:
    python -m campus_infra.capture --stack dev --out build/capture/dev.json
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import runpy
import sys
from pathlib import Path
from typing import Any

import yaml

from campus_infra import paths
from campus_infra.config import PROJECT, STRUCTURED_KEYS

INFRA_DIR = paths.REPO_ROOT / "infra"
# What a read of an operator Secret returns under the mocks (base64, as the API does):
# placeholders, so the program computes what it derives from them (the app's database URL).
STAND_IN_SECRET_DATA = {
    key: base64.b64encode(value.encode()).decode()
    for key, value in {
        "username": "campus",
        "password": "stand-in-password",
        "dbname": "campus",
        "ca.crt": "-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n",
    }.items()
}


class StackFileError(ValueError):
    """Pulumi.<stack>.yaml is missing or not a Pulumi stack file."""


def stack_names() -> list[str]:
    """Stacks that have a Pulumi.<stack>.yaml at the repository root."""
    return sorted(
        p.name[len("Pulumi.") : -len(".yaml")] for p in paths.REPO_ROOT.glob("Pulumi.*.yaml")
    )


def stack_config(stack: str, overrides: list[str] | None = None) -> dict[str, str]:
    """The flat config map Pulumi hands a program: structured values as JSON text.

    `overrides` are `key=value` or `key.path=value` items, like `pulumi config set --path`.
    """
    path = paths.REPO_ROOT / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise StackFileError(f"{path.name} does not exist (stacks: {', '.join(stack_names())})")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise StackFileError(f"{path.name}: not readable YAML ({error})") from None
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise StackFileError(f"{path.name}: expected a top-level 'config' mapping")
    values: dict[str, Any] = dict(document["config"])
    for item in overrides or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise StackFileError(f"override {item!r} must be key=value")
        namespace, _, rest = key.partition(":")
        top, *inner = rest.split(".")
        value: Any = yaml.safe_load(raw)
        if not inner:
            values[f"{namespace}:{top}"] = value
            continue
        node = values.setdefault(f"{namespace}:{top}", {})
        for part in inner[:-1]:
            node = node.setdefault(part, {})
        node[inner[-1]] = value
    flat: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, dict | list):
            flat[key] = json.dumps(value)
        elif isinstance(value, bool):
            flat[key] = "true" if value else "false"
        else:
            flat[key] = str(value)
        structured = key.startswith(f"{PROJECT}:") and key.split(":", 1)[1] in STRUCTURED_KEYS
        if structured and not isinstance(value, dict):
            raise StackFileError(f"{path.name}: {key} must be an object")
    return flat


def capture(stack: str, overrides: list[str] | None = None) -> list[dict[str, Any]]:
    """Run the program for `stack` under mocks; every resource as {type, name, custom,
    inputs}, in registration order. Call once per process (Pulumi's runtime is global)."""
    import pulumi
    from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks
    from pulumi.runtime.config import set_all_config
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    records: list[dict[str, Any]] = []

    class CaptureMocks(Mocks):
        """Records each registration and echoes inputs back as outputs."""

        def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
            if args.resource_id and args.typ == "kubernetes:core/v1:Secret":
                # A read of an existing Secret (the operator's): stand-in data, since no
                # cluster answers here. Reads are not objects the program applies.
                records.append(
                    {
                        "type": args.typ,
                        "name": args.name,
                        "custom": True,
                        "inputs": {},
                        "read": args.resource_id,
                    }
                )
                return args.resource_id, {"data": STAND_IN_SECRET_DATA}
            records.append(
                {
                    "type": args.typ,
                    "name": args.name,
                    "custom": bool(args.custom),
                    "inputs": args.inputs,
                }
            )
            return f"{args.name}-id", args.inputs

        def call(self, args: MockCallArgs) -> tuple[dict, None]:
            return {}, None

    class DependencyMonitor(MockMonitor):
        """Also records each resource's URN and what it waits for (depends_on and parents'
        dependencies as the engine receives them): the install order the tests check."""

        def RegisterResource(self, request):
            response = super().RegisterResource(request)
            self._note(request, response.urn)
            return response

        def ReadResource(self, request):
            response = super().ReadResource(request)
            self._note(request, response.urn)
            return response

        @staticmethod
        def _note(request, urn: str) -> None:
            # Registrations run on several threads: find this one's record by type and name.
            for record in reversed(records):
                if record["type"] == request.type and record["name"] == request.name:
                    record["urn"] = urn
                    record["dependencies"] = sorted(request.dependencies)
                    break

    mocks = CaptureMocks()
    set_all_config(stack_config(stack, overrides))
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack=stack, preview=False, monitor=DependencyMonitor(mocks)
    )
    if str(INFRA_DIR) not in sys.path:
        sys.path.insert(0, str(INFRA_DIR))
    _sync_await(run_pulumi_func(lambda: runpy.run_path(str(INFRA_DIR), run_name="__main__")))
    for record in records:
        record["owner"] = "pulumi"
        record["inputs"] = unwrap_secrets(record["inputs"])
    return records + gitops_records()


# Pulumi's wire marker of a secret value ({SECRET_SIG: SECRET_VALUE, "value": ...}).
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # noqa: S105 (a marker, not a password)


def unwrap_secrets(value: Any) -> Any:
    """Inputs as applied: secret markers replaced by the values they wrap."""
    if isinstance(value, dict):
        if SECRET_SIG in value and "value" in value:
            return unwrap_secrets(value["value"])
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def gitops_records() -> list[dict[str, Any]]:
    """The app's own manifests, which Argo CD applies (Pulumi never registers them), as
    records shaped like Pulumi's so every check reads both owners' objects alike."""
    import pulumi

    from campus_infra.app import app_manifests
    from campus_infra.config import configured_keys, parse_stack_config
    from campus_infra.jobs import job_manifests

    config = parse_stack_config(pulumi.Config(PROJECT).get, configured_keys())
    result = []
    for manifest in [*app_manifests(config), *job_manifests(config)]:
        api_version = manifest["apiVersion"]
        group_version = api_version if "/" in api_version else f"core/{api_version}"
        result.append(
            {
                "type": f"kubernetes:{group_version}:{manifest['kind']}",
                "name": manifest["metadata"]["name"],
                "custom": True,
                "inputs": manifest,
                "owner": "argocd",
            }
        )
    return result


def main(argv: list[str] | None = None) -> int:
    """CLI: capture one stack into a JSON file; exit 2 with one line on a bad input."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. campus-platform:profile=surge",
    )
    parser.add_argument("--out", type=Path, required=True)
    options = parser.parse_args(argv)
    import pulumi

    try:
        records = capture(options.stack, options.set)
    except (StackFileError, pulumi.RunError) as error:
        one_line = " ".join(str(error).split())
        print(f"error: stack {options.stack}: {one_line}", file=sys.stderr)
        return 2
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(records, indent=1, sort_keys=True), encoding="utf-8")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: Pulumi's mock event loop complains noisily when it is
    # garbage-collected after its selector closed, which would read like a failure.
    os._exit(code)
