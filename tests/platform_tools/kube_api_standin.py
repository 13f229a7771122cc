"""An in-process HTTP stand-in of the Kubernetes API subset the ops CLI uses.

No API server can run on the build machines, so the runbook tests run the official
`kubernetes` client, configured from a real kubeconfig file, against this small threaded HTTP
server on loopback. It keeps objects in memory and answers the way the API server does for the
calls the commands make:

- GET of one object or of a list (label and field selectors: `a=b,c=d`, `spec.nodeName=x`),
  404 with a `Status` body when the object does not exist;
- PATCH (JSON merge patch semantics; strategic merge of the maps we send is the same), with
  optimistic locking: a `metadata.resourceVersion` in the patch that is not the current one is
  409 Conflict; every write bumps `resourceVersion`, a spec change bumps `generation`; the
  `status` subresource changes only `status`;
- POST of a pod eviction: 404 for an unknown pod, 429 TooManyRequests while a matching
  PodDisruptionBudget has no disruption left, else the pod is deleted and the budget spent;
- GET `nodes/NAME/proxy/stats/summary`, the kubelet's summary (volume usage of PVCs).

Tests shape the cluster with `add`, script failures with `fail_next` (e.g. two 429s, one 409),
and simulate controllers with `controllers`: functions called under the lock before each request
(a Deployment rolling out, the CloudNativePG operator finishing a switchover). Every request is
recorded in `requests`, so a test can prove a dry run wrote nothing.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

# kind -> (group, version, plural, namespaced)
KINDS: dict[str, tuple[str, str, str, bool]] = {
    "Pod": ("", "v1", "pods", True),
    "Node": ("", "v1", "nodes", False),
    "PersistentVolumeClaim": ("", "v1", "persistentvolumeclaims", True),
    "Deployment": ("apps", "v1", "deployments", True),
    "StatefulSet": ("apps", "v1", "statefulsets", True),
    "DaemonSet": ("apps", "v1", "daemonsets", True),
    "HorizontalPodAutoscaler": ("autoscaling", "v2", "horizontalpodautoscalers", True),
    "PodDisruptionBudget": ("policy", "v1", "poddisruptionbudgets", True),
    "Job": ("batch", "v1", "jobs", True),
    "Cluster": ("postgresql.cnpg.io", "v1", "clusters", True),
    "Backup": ("postgresql.cnpg.io", "v1", "backups", True),
}
PLURALS = {plural: kind for kind, (_, _, plural, _) in KINDS.items()}

_CORE = re.compile(r"^/api/v1(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[a-z]+)(?:/(?P<rest>.+))?$")
_GROUP = re.compile(
    r"^/apis/(?P<group>[^/]+)/(?P<version>[^/]+)(?:/namespaces/(?P<ns>[^/]+))?"
    r"/(?P<plural>[a-z]+)(?:/(?P<rest>.+))?$"
)

Key = tuple[str, str | None, str]  # (kind, namespace, name)


@dataclass
class Recorded:
    """One request the stand-in received."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    content_type: str


@dataclass
class _Scripted:
    method: str
    pattern: re.Pattern[str]
    status: int
    remaining: int
    message: str


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: maps merge, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def status_body(code: int, reason: str, message: str) -> dict[str, Any]:
    """The API server's `Status` object for a failed call."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


REASONS = {404: "NotFound", 409: "Conflict", 429: "TooManyRequests", 500: "InternalError"}


def _matches(labels: dict[str, str], selector: str) -> bool:
    for term in filter(None, selector.split(",")):
        key, _, value = term.partition("=")
        if labels.get(key) != value:
            return False
    return True


def _field(obj: dict[str, Any], path: str) -> Any:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


@dataclass
class KubeApiStandIn:
    """The objects, the scripted failures, the controllers and the log of requests."""

    objects: dict[Key, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    controllers: list[Callable[[KubeApiStandIn], None]] = field(default_factory=list)
    node_stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _scripted: list[_Scripted] = field(default_factory=list)
    _version: int = 1000
    url: str = ""

    # --- shaping the cluster --------------------------------------------------------------

    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Store an object (apiVersion and kind filled in from the kind)."""
        kind = obj["kind"]
        group, version, _, namespaced = KINDS[kind]
        obj = copy.deepcopy(obj)
        obj["apiVersion"] = f"{group}/{version}" if group else version
        meta = obj.setdefault("metadata", {})
        if not namespaced:
            meta.pop("namespace", None)
        meta.setdefault("uid", f"uid-{kind.lower()}-{meta['name']}")
        meta.setdefault("generation", 1)
        with self.lock:
            meta["resourceVersion"] = self._next_version()
            self.objects[(kind, meta.get("namespace"), meta["name"])] = obj
        return obj

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The stored object, or None."""
        return self.objects.get((kind, namespace if KINDS[kind][3] else None, name))

    def remove(self, kind: str, namespace: str | None, name: str) -> None:
        """Delete an object as a controller would."""
        self.objects.pop((kind, namespace if KINDS[kind][3] else None, name), None)

    def fail_next(
        self, method: str, path_pattern: str, status: int, times: int = 1, message: str = ""
    ) -> None:
        """Answer the next `times` matching requests with `status` instead of serving them."""
        self._scripted.append(
            _Scripted(
                method, re.compile(path_pattern), status, times, message or REASONS.get(status, "")
            )
        )

    def writes(self) -> list[Recorded]:
        """Every request that could change something."""
        return [r for r in self.requests if r.method not in ("GET", "HEAD")]

    def _next_version(self) -> str:
        self._version += 1
        return str(self._version)

    # --- serving --------------------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, body: Any, content_type: str = "application/json"
    ) -> tuple[int, Any]:
        """Answer one request: (status, JSON body)."""
        parts = urlsplit(raw_path)
        path = unquote(parts.path)  # the client sends "stats%2Fsummary"; the server decodes
        query = parse_qs(parts.query)
        with self.lock:
            self.requests.append(Recorded(method, path, query, body, content_type))
            for controller in self.controllers:
                controller(self)
            for scripted in self._scripted:
                if (
                    scripted.remaining
                    and scripted.method == method
                    and scripted.pattern.search(path)
                ):
                    scripted.remaining -= 1
                    reason = REASONS.get(scripted.status, "Unknown")
                    return scripted.status, status_body(scripted.status, reason, scripted.message)
            return self._route(method, path, query, body, content_type)

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, content_type: str
    ) -> tuple[int, Any]:
        match = _CORE.match(path) or _GROUP.match(path)
        if not match or match.group("plural") not in PLURALS:
            return 404, status_body(404, "NotFound", f"the server could not find {path}")
        kind = PLURALS[match.group("plural")]
        namespace = match.group("ns")
        rest = match.group("rest")
        if rest is None:
            if method != "GET":
                return 405, status_body(405, "MethodNotAllowed", method)
            return 200, self._list(kind, namespace, query)
        name, _, sub = rest.partition("/")
        if kind == "Node" and sub == "proxy/stats/summary":
            if ("Node", None, name) not in self.objects:
                return 404, status_body(404, "NotFound", f'nodes "{name}" not found')
            return 200, self.node_stats.get(name, {"node": {"nodeName": name}, "pods": []})
        key = (kind, namespace if KINDS[kind][3] else None, name)
        if kind == "Pod" and sub == "eviction" and method == "POST":
            return self._evict(key, body)
        current = self.objects.get(key)
        if current is None:
            plural = KINDS[kind][2]
            return 404, status_body(404, "NotFound", f'{plural} "{name}" not found')
        if method == "GET":
            return 200, current
        if method == "PATCH":
            if KINDS[kind][0].endswith("cnpg.io") and "strategic" in content_type:
                # Custom resources have no strategic merge: the real server answers 415.
                return 415, status_body(
                    415, "UnsupportedMediaType", f"the media type {content_type} is not supported"
                )
            return self._patch(key, current, body, status_only=(sub == "status"))
        return 405, status_body(405, "MethodNotAllowed", method)

    def _list(self, kind: str, namespace: str | None, query: dict[str, list[str]]) -> Any:
        labels = query.get("labelSelector", [""])[0]
        fields = query.get("fieldSelector", [""])[0]
        items = []
        for (k, ns, _), obj in sorted(self.objects.items(), key=lambda kv: str(kv[0])):
            if k != kind or (namespace is not None and ns != namespace):
                continue
            if not _matches(obj["metadata"].get("labels", {}), labels):
                continue
            if fields and not all(
                str(_field(obj, term.partition("=")[0])) == term.partition("=")[2]
                for term in fields.split(",")
            ):
                continue
            items.append(obj)
        group, version, _, _ = KINDS[kind]
        return {
            "kind": f"{kind}List",
            "apiVersion": f"{group}/{version}" if group else version,
            "metadata": {"resourceVersion": str(self._version)},
            "items": items,
        }

    def _patch(
        self, key: Key, current: dict[str, Any], patch: Any, status_only: bool
    ) -> tuple[int, Any]:
        if not isinstance(patch, dict):
            return 415, status_body(415, "UnsupportedMediaType", "only merge patches are served")
        wanted = (patch.get("metadata") or {}).get("resourceVersion")
        if wanted is not None and wanted != current["metadata"]["resourceVersion"]:
            return 409, status_body(
                409,
                "Conflict",
                "Operation cannot be fulfilled: the object has been modified; "
                "please apply your changes to the latest version and try again",
            )
        if status_only:
            patch = {"status": patch.get("status", {})}
        else:
            patch = {k: v for k, v in patch.items() if k != "status"}
        updated = merge_patch(current, patch)
        updated["metadata"]["resourceVersion"] = self._next_version()
        if updated.get("spec") != current.get("spec"):
            updated["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
        self.objects[key] = updated
        return 200, updated

    def _evict(self, key: Key, body: Any) -> tuple[int, Any]:
        pod = self.objects.get(key)
        if pod is None:
            return 404, status_body(404, "NotFound", f'pods "{key[2]}" not found')
        labels = pod["metadata"].get("labels", {})
        budgets = [
            obj
            for (kind, ns, _), obj in self.objects.items()
            if kind == "PodDisruptionBudget"
            and ns == key[1]
            and _matches(labels, _selector(obj["spec"].get("selector", {})))
        ]
        for budget in budgets:
            if budget.get("status", {}).get("disruptionsAllowed", 0) < 1:
                return 429, status_body(
                    429,
                    "TooManyRequests",
                    "Cannot evict pod as it would violate the pod's disruption budget.",
                )
        for budget in budgets:
            budget["status"]["disruptionsAllowed"] -= 1
        del self.objects[key]
        return 201, {"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 201}

    # --- lifecycle ------------------------------------------------------------------------

    def write_kubeconfig(self, path: Path, context: str = "standin") -> Path:
        """A kubeconfig whose context points the client at this stand-in (bearer token)."""
        path.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "standin", "cluster": {"server": self.url}}],
                    "users": [{"name": "oncall", "user": {"token": "standin-token"}}],
                    "contexts": [
                        {"name": context, "context": {"cluster": "standin", "user": "oncall"}}
                    ],
                    "current-context": context,
                }
            )
        )
        return path


def _selector(selector: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(selector.get("matchLabels", {}).items()))


class _Handler(BaseHTTPRequestHandler):
    standin: KubeApiStandIn

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._answer(400, status_body(400, "BadRequest", "body is not JSON"))
            return
        content_type = self.headers.get("Content-Type", "application/json")
        status, answer = self.standin.handle(self.command, self.path, body, content_type)
        self._answer(status, answer)

    def _answer(self, status: int, answer: Any) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 429:
            self.send_header("Retry-After", "1")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PATCH = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads `requests` instead."""


@contextmanager
def running_standin() -> Iterator[KubeApiStandIn]:
    """Serve a fresh stand-in on 127.0.0.1 (a free port) for the duration of the block."""
    standin = KubeApiStandIn()
    handler = type("Handler", (_Handler,), {"standin": standin})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    standin.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
