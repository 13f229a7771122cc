"""The Kubernetes release of every cluster, read from the value the playbooks use.

One value for both sides of the platform: `playbooks/group_vars/all/kubernetes.yml`
(`campus_kubernetes_version`) sets the nodes' kubelet, and this module hands the same
release to the program (kube-bench benchmark, Pod Security version) and the checks
(schemas the manifests are validated against).
"""

import re
from functools import cache
from pathlib import Path

import yaml

from campus_infra import paths

KUBERNETES_VERSION_FILE = paths.REPO_ROOT / "playbooks" / "group_vars" / "all" / "kubernetes.yml"
KEY = "campus_kubernetes_version"
_PATCH = re.compile(r"^1\.[0-9]{2}\.[0-9]+$")


class VersionFileError(ValueError):
    """The shared version file is missing or does not hold a Kubernetes patch release."""


@cache
def kubernetes_version(path: Path = KUBERNETES_VERSION_FILE) -> str:
    """The cluster's release, such as "1.33.8"."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise VersionFileError(f"{path.name}: not readable ({error})") from None
    value = document.get(KEY) if isinstance(document, dict) else None
    if not isinstance(value, str) or not _PATCH.match(value):
        raise VersionFileError(
            f'{path.name}: {KEY} must be a release such as "1.33.8", got {value!r}'
        )
    return value


def kubernetes_minor(path: Path = KUBERNETES_VERSION_FILE) -> str:
    """The cluster's minor release, such as "1.33" (kube-bench and Pod Security use it)."""
    return kubernetes_version(path).rsplit(".", 1)[0]
