"""The app's two Ingresses, one per entry, generated from the app's route table.

- `campus-app-public` (the public ingress class, the public host): the paths of which the
  route table publishes an operation to the public or the extranet audience;
- `campus-app-intranet` (an internal ingress class, its own host, optionally only from
  `app.internalSourceRanges`): every API path, as staff also read what students read.

Paths are the route table's, as anchored regular expressions (ingress-nginx `use-regex`,
pathType ImplementationSpecific): an intranet path matches nothing on the public host and
the controller answers 404. Service endpoints (/metrics, /openapi.json, the probes) are on
neither: Prometheus and the kubelet reach the pods directly.

Each controller tells the app which entry a request came through by the X-Campus-Entry
header, set by its chart value `controller.proxySetHeaders` (see `controller_values`); the
app believes it only from `network.ingressControllerCidrs` (APP_TRUSTED_PROXIES).

Annotations are ingress-nginx's, checked against the docs of the pinned controller
(charts.INGRESS_NGINX; tests/infra/test_ingresses.py reads the vendored list).
"""

from __future__ import annotations

from typing import Any

from app.http.audiences import ENTRY_HEADER, INTRANET_ENTRY, PUBLIC_ENTRY, path_pattern, paths_of
from app.http.routes import ROUTES
from campus_infra import k8s as n
from campus_infra.config import StackConfig
from campus_infra.proxy_errors import server_snippet

PREFIX = "nginx.ingress.kubernetes.io/"
API_PREFIX = "/api/"
# The app's own limits (APP_MAX_BODY_BYTES, gunicorn's APP_REQUEST_TIMEOUT), set on its pods
# by app.py; the Ingresses derive theirs from them.
MAX_BODY_BYTES = 16 * 1024 * 1024
REQUEST_TIMEOUT_SECONDS = 120
# The proxy waits longer than gunicorn, so a slow request ends with the app's own answer
# (or its worker's timeout), never with the proxy giving up first.
PROXY_TIMEOUT_MARGIN_SECONDS = 10
# A little above the app's limit: a body just past it gets the app's 413 problem+json with
# the limit named, not the controller's page.
BODY_MARGIN_BYTES = 1024 * 1024

NAMES = {PUBLIC_ENTRY: f"{n.APP_NAME}-public", INTRANET_ENTRY: f"{n.APP_NAME}-intranet"}


def entry_paths(entry: str) -> list[str]:
    """The route table's API paths that `entry` publishes, in table order."""
    return paths_of(ROUTES, entry, prefix=API_PREFIX)


def limit_annotations() -> dict[str, str]:
    """Body size and timeouts, derived from the app's (annotation values are strings)."""
    timeout = str(REQUEST_TIMEOUT_SECONDS + PROXY_TIMEOUT_MARGIN_SECONDS)
    return {
        PREFIX + "proxy-body-size": str(MAX_BODY_BYTES + BODY_MARGIN_BYTES),
        PREFIX + "proxy-read-timeout": timeout,
        PREFIX + "proxy-send-timeout": timeout,
    }


def ingress(config: StackConfig, entry: str, labels: dict[str, str]) -> dict[str, Any]:
    """The Ingress of one entry."""
    app = config.app
    public = entry == PUBLIC_ENTRY
    host = app.host if public else app.internal_host
    annotations = {PREFIX + "use-regex": "true", **limit_annotations()}
    if not public and app.internal_source_ranges:
        annotations[PREFIX + "whitelist-source-range"] = ",".join(app.internal_source_ranges)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": NAMES[entry],
            "namespace": n.NS_APP,
            "labels": {**labels, "campus.example.org/entry": entry},
            "annotations": annotations,
        },
        "spec": {
            "ingressClassName": app.ingress_class if public else app.internal_ingress_class,
            # The certificates' Secret is issued out of band (cert-manager or ops) and
            # names both hosts.
            "tls": [{"hosts": [host], "secretName": app.tls_secret}],
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": path_pattern(path),
                                "pathType": "ImplementationSpecific",
                                "backend": {
                                    "service": {"name": n.APP_NAME, "port": {"name": "http"}}
                                },
                            }
                            for path in entry_paths(entry)
                        ]
                    },
                }
            ],
        },
    }


def ingresses(config: StackConfig, labels: dict[str, str]) -> list[dict[str, Any]]:
    """Both entries' Ingresses."""
    return [ingress(config, entry, labels) for entry in (PUBLIC_ENTRY, INTRANET_ENTRY)]


def controller_values(config: StackConfig, entry: str) -> dict[str, Any]:
    """The ingress-nginx chart values each entry's controller is installed with (by ops,
    like the controller itself): its class, the entry header it sets on every request, and
    its own errors as problem+json."""
    app = config.app
    name = app.ingress_class if entry == PUBLIC_ENTRY else app.internal_ingress_class
    return {
        "controller": {
            "ingressClass": name,
            "ingressClassResource": {
                "name": name,
                "controllerValue": f"k8s.io/ingress-nginx-{entry}",
            },
            # The entry, and when the controller took the request (the app's queue time).
            "proxySetHeaders": {ENTRY_HEADER: entry, "X-Request-Start": "t=${msec}"},
            # The controller's own 413, 502 and 504 as problem+json (proxy_errors).
            "config": {"server-snippet": server_snippet(MAX_BODY_BYTES + BODY_MARGIN_BYTES)},
        }
    }
