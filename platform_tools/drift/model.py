"""What a stack runs, component by component: images, chart version, configuration keys."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# Stacks in the order a version is promoted through; a stack not listed is a production site.
PROMOTION_ORDER = ("dev", "staging", "prod")


@dataclass
class Component:
    """One deployed thing: a workload, a Helm release, a database cluster, a single host's app.

    `images` are full references; `chart` is "name-version" for a Helm release (or an object
    a chart made); `config` maps flattened keys to their value as text.
    """

    name: str
    images: set[str] = field(default_factory=set)
    chart: str | None = None
    config: dict[str, str] = field(default_factory=dict)

    def versions(self) -> set[str]:
        """The versions this component runs: its images and its chart."""
        return self.images | ({self.chart} if self.chart else set())


@dataclass
class StackState:
    """Every component of one stack, by name."""

    stack: str
    components: dict[str, Component] = field(default_factory=dict)

    def component(self, name: str) -> Component:
        """The component called `name`, added when first asked for."""
        return self.components.setdefault(name, Component(name))


def promotion_rank(stack: str) -> int:
    """0 for dev, 1 for staging, 2 for prod and every other production site."""
    return PROMOTION_ORDER.index(stack) if stack in PROMOTION_ORDER else len(PROMOTION_ORDER) - 1


IMAGE_KEYS = ("image", "imageName")


def split_images(value: Any) -> tuple[set[str], Any]:
    """The image references found anywhere in `value`, and `value` without them."""
    found: set[str] = set()

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            kept = {}
            for key, child in node.items():
                if key in IMAGE_KEYS and isinstance(child, str):
                    found.add(child)
                elif key == "image" and isinstance(child, dict) and "repository" in child:
                    # Charts' values: {registry, repository, tag}.
                    parts = [str(child.get("registry") or ""), str(child["repository"])]
                    ref = "/".join(p for p in parts if p)
                    found.add(f"{ref}:{child['tag']}" if child.get("tag") else ref)
                else:
                    kept[key] = walk(child)
            return kept
        if isinstance(node, list):
            return [walk(child) for child in node]
        return node

    return found, walk(value)


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Dotted keys to text values; a list of named objects is keyed by name
    (`containers[app].env[LOG_LEVEL].value`), other objects by position (`rules[0].host`),
    and a list of plain values is one value (JSON)."""
    if isinstance(value, dict):
        result: dict[str, str] = {}
        for key, child in value.items():
            result.update(flatten(child, f"{prefix}.{key}" if prefix else str(key)))
        return result
    if (
        isinstance(value, list)
        and value
        and all(isinstance(item, dict) and isinstance(item.get("name"), str) for item in value)
    ):
        result = {}
        for item in value:
            rest = {k: v for k, v in item.items() if k != "name"}
            result.update(
                flatten(rest, f"{prefix}[{item['name']}]") or {f"{prefix}[{item['name']}]": ""}
            )
        return result
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        result = {}
        for index, item in enumerate(value):
            result.update(flatten(item, f"{prefix}[{index}]") or {f"{prefix}[{index}]": "{}"})
        return result
    if isinstance(value, list | dict):
        return {prefix: json.dumps(value, sort_keys=True)}
    return {prefix: "" if value is None else str(value)}
