"""Connecting the official client, and turning its errors into the CLI's errors."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from urllib3.exceptions import HTTPError

from platform_tools.run.errors import EnvironmentFailure, ToolError, UsageError

T = TypeVar("T")
# Merge patches work for built-in objects and custom resources alike (CloudNativePG's Cluster
# has no strategic merge); the maps we send merge the same way under both.
MERGE_PATCH = "application/merge-patch+json"


@dataclass(frozen=True)
class Kube:
    """The API groups the runbooks call, sharing one configured client."""

    api: client.ApiClient
    core: client.CoreV1Api
    apps: client.AppsV1Api
    autoscaling: client.AutoscalingV2Api
    batch: client.BatchV1Api
    custom: client.CustomObjectsApi

    def close(self) -> None:
        """Release the connection pool."""
        self.api.close()


def connect(kubeconfig: Path | None, context: str | None) -> Kube:
    """A client from `--kubeconfig` (or $KUBECONFIG, ~/.kube/config), else in-cluster."""
    try:
        if kubeconfig is not None and not kubeconfig.is_file():
            raise UsageError(f"{kubeconfig}: no such file", "--kubeconfig")
        default = Path(os.environ.get("KUBECONFIG", "~/.kube/config")).expanduser()
        if kubeconfig is not None or default.is_file():
            api = config.new_client_from_config(
                config_file=str(kubeconfig or default), context=context
            )
        elif os.environ.get("KUBERNETES_SERVICE_HOST"):
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)
            api = client.ApiClient(configuration)
        else:
            raise UsageError(
                "no kubeconfig (~/.kube/config, $KUBECONFIG) and not running in a pod",
                "--kubeconfig",
            )
    except ConfigException as exc:
        option = "--context" if context and "context" in str(exc).lower() else "--kubeconfig"
        raise UsageError(str(exc), option) from None
    return Kube(
        api=api,
        core=client.CoreV1Api(api),
        apps=client.AppsV1Api(api),
        autoscaling=client.AutoscalingV2Api(api),
        batch=client.BatchV1Api(api),
        custom=client.CustomObjectsApi(api),
    )


def call(what: str, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call the API; an error becomes a ToolError that says what was being done."""
    try:
        return function(*args, **kwargs)
    except ApiException as exc:
        raise api_failure(what, exc) from None
    except HTTPError as exc:
        raise EnvironmentFailure(f"{what}: the API server does not answer ({exc})") from None


def api_failure(what: str, exc: ApiException) -> ToolError:
    """The CLI error for an API error: the server's own message, and the status."""
    return EnvironmentFailure(f"{what}: {exc.status} {reason_of(exc)}")


def reason_of(exc: ApiException) -> str:
    """The `message` of the API server's Status body, or its HTTP reason."""
    try:
        body = json.loads(exc.body or "{}")
    except ValueError:
        body = {}
    return str(body.get("message") or exc.reason or "error")
