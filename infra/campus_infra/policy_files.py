"""Reads the files of policies/ and loadtests/ that the program turns into cluster objects.

The program consumes these files as they are in the checkout (the very files promtool and
the Falco tests check), so a rule reviewed there is the rule deployed. A missing folder is
not an error (the policies may not be written yet on a new site); a malformed file is.
"""

import json
from pathlib import Path
from typing import Any

import yaml

from campus_infra import paths


class PolicyFileError(ValueError):
    """A policy file exists but cannot be used; the message names the file."""


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(paths.REPO_ROOT))
    except ValueError:
        return str(path)


class _PolicyLoader(yaml.SafeLoader):
    """SafeLoader that reads a bare `=` as the string "=" (Falco's exceptions write
    `comps: [=, startswith]`, which PyYAML alone resolves to its obscure `value` tag)."""


_PolicyLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: node.value)


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_PolicyLoader)  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        where = " ".join(str(error).split())
        raise PolicyFileError(f"{_relative(path)}: not readable YAML ({where})") from None


def prometheus_rule_groups(folder: Path = paths.PROMETHEUS_RULES) -> list[dict[str, Any]]:
    """Every rule group of folder/*.yml, in file-name order; group names must be unique."""
    groups: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.yml")) if folder.is_dir() else []:
        document = _load_yaml(path)
        if not isinstance(document, dict) or not isinstance(document.get("groups"), list):
            raise PolicyFileError(f"{_relative(path)}: expected a mapping with a 'groups' list")
        for index, group in enumerate(document["groups"]):
            if not isinstance(group, dict) or not isinstance(group.get("name"), str):
                raise PolicyFileError(f"{_relative(path)}: groups[{index}] has no name")
            if not isinstance(group.get("rules"), list) or not group["rules"]:
                raise PolicyFileError(f"{_relative(path)}: groups[{index}].rules is empty")
            if group["name"] in seen:
                raise PolicyFileError(
                    f"{_relative(path)}: group {group['name']!r} also in {seen[group['name']]}"
                )
            seen[group["name"]] = _relative(path)
            groups.append(group)
    return groups


def falco_rules(path: Path = paths.FALCO_RULES) -> str | None:
    """The custom Falco rules file's text, or None when it does not exist yet."""
    if not path.is_file():
        return None
    document = _load_yaml(path)
    if not isinstance(document, list) or not document:
        raise PolicyFileError(f"{_relative(path)}: expected a list of rules, macros and lists")
    return path.read_text(encoding="utf-8")


def dashboards(folder: Path = paths.DASHBOARDS) -> dict[str, str]:
    """Grafana dashboards by file name (JSON text, checked to parse with a title)."""
    result: dict[str, str] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            text = path.read_text(encoding="utf-8")
            document = json.loads(text)
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise PolicyFileError(f"{_relative(path)}: not a JSON dashboard ({error})") from None
        if not isinstance(document, dict) or not isinstance(document.get("title"), str):
            raise PolicyFileError(f"{_relative(path)}: dashboard has no title")
        result[path.name] = text
    return result


def kube_bench_pod_spec(path: Path = paths.KUBE_BENCH_JOB) -> dict[str, Any] | None:
    """The pod spec of the kube-bench Job or CronJob manifest, or None when absent."""
    if not path.is_file():
        return None
    document = _load_yaml(path)
    kind = document.get("kind") if isinstance(document, dict) else None
    try:
        if kind == "Job":
            spec = document["spec"]["template"]["spec"]
        elif kind == "CronJob":
            spec = document["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        else:
            raise PolicyFileError(f"{_relative(path)}: kind must be Job or CronJob, got {kind!r}")
    except (KeyError, TypeError):
        raise PolicyFileError(f"{_relative(path)}: no pod template spec in the {kind}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("containers"), list):
        raise PolicyFileError(f"{_relative(path)}: the pod spec has no containers list")
    return spec


def kube_bench_benchmarks(path: Path = paths.KUBE_BENCH_BENCHMARKS) -> dict[str, Any] | None:
    """The benchmark table: `kube_bench_image` and `benchmarks` (version -> CIS id)."""
    if not path.is_file():
        return None
    document = _load_yaml(path)
    table = document.get("benchmarks") if isinstance(document, dict) else None
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in table.items()
    ):
        raise PolicyFileError(f"{_relative(path)}: 'benchmarks' must map versions to CIS ids")
    if not isinstance(document.get("kube_bench_image"), str):
        raise PolicyFileError(f"{_relative(path)}: 'kube_bench_image' is missing")
    return document


def kube_bench_allowlist(path: Path = paths.KUBE_BENCH_ALLOWLIST) -> str | None:
    """The kube-bench gate's allow-list text, or None when absent."""
    if not path.is_file():
        return None
    _load_yaml(path)
    return path.read_text(encoding="utf-8")


def loadtest_files(folder: Path = paths.LOADTESTS) -> dict[str, str]:
    """The Locust scenario modules (loadtests/*.py) by file name."""
    if not folder.is_dir():
        return {}
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.py"))}
