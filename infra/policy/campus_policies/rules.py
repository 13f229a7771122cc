"""The platform's rules, written once as CrossGuard policies.

Ops run them against a real preview with `pulumi preview --policy-pack infra/policy`; the
tests call the same `validate` functions over the inputs captured under Pulumi's mocks.
Each check is a plain function returning messages, so the rule reads in one place.
"""

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from campus_policies.workloads import (
    LONG_RUNNING,
    REPLICATED,
    containers,
    name,
    namespace,
    pod_labels,
    pod_spec,
)

# Namespaces of the app, its database and the load generator: Pod Security "restricted".
RESTRICTED_NAMESPACES = frozenset({"campus", "campus-db", "campus-load"})
CNPG_CLUSTER = "kubernetes:postgresql.cnpg.io/v1:Cluster"
SECRET = "kubernetes:core/v1:Secret"  # noqa: S105 (a type token, not a password)
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
SECRET_ENV_NAME = re.compile(
    r"PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|CREDENTIAL|"
    r"DATABASE_URL|DSN",
    re.IGNORECASE,
)
URL_WITH_PASSWORD = re.compile(r"://[^/@\s:]+:[^/@\s]+@")
ALLOWED_ADDED_CAPABILITIES = {"NET_BIND_SERVICE"}


# --- Pod Security "restricted" ---------------------------------------------------------


def restricted_violations(spec: Mapping[str, Any]) -> Iterator[str]:
    """What keeps a pod spec from the `restricted` profile (plus a read-only root FS and
    no service-account token, which the platform asks of its own pods)."""
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            yield f"{field} is set"
    for volume in spec.get("volumes") or []:
        if "hostPath" in volume:
            yield f"volume {volume.get('name')!r} mounts a host path"
    if spec.get("automountServiceAccountToken") is not False:
        yield "automountServiceAccountToken is not false"
    pod_context = spec.get("securityContext") or {}
    pod_seccomp = (pod_context.get("seccompProfile") or {}).get("type")
    if pod_context.get("runAsUser") == 0:
        yield "the pod runs as uid 0"
    for container in containers(spec):
        label = f"container {container.get('name')!r}"
        context = container.get("securityContext") or {}
        non_root = context.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
        if non_root is not True:
            yield f"{label}: runAsNonRoot is not true"
        if context.get("runAsUser") == 0:
            yield f"{label}: runs as uid 0"
        seccomp = (context.get("seccompProfile") or {}).get("type", pod_seccomp)
        if seccomp not in ("RuntimeDefault", "Localhost"):
            yield f"{label}: seccompProfile is not RuntimeDefault or Localhost"
        if context.get("allowPrivilegeEscalation") is not False:
            yield f"{label}: allowPrivilegeEscalation is not false"
        if context.get("privileged"):
            yield f"{label}: privileged"
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            yield f"{label}: capabilities do not drop ALL"
        added = set(capabilities.get("add") or []) - ALLOWED_ADDED_CAPABILITIES
        if added:
            yield f"{label}: adds capabilities {sorted(added)}"
        if context.get("readOnlyRootFilesystem") is not True:
            yield f"{label}: root filesystem is writable"


def cnpg_cluster_violations(props: Mapping[str, Any]) -> Iterator[str]:
    """Database pods are made by the operator (restricted by design): the Cluster must not
    loosen them."""
    spec = props.get("spec") or {}
    for field in ("postgresUID", "postgresGID"):
        if spec.get(field) == 0:
            yield f"spec.{field} is 0 (root)"
    pod_context = spec.get("podSecurityContext") or {}
    if pod_context.get("runAsNonRoot") is False or pod_context.get("runAsUser") == 0:
        yield "spec.podSecurityContext lets instances run as root"
    container_context = spec.get("containerSecurityContext") or {}
    if container_context.get("privileged") or container_context.get("allowPrivilegeEscalation"):
        yield "spec.containerSecurityContext allows privilege"


def _validate_restricted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if namespace(args.props) not in RESTRICTED_NAMESPACES:
        return
    if args.resource_type == CNPG_CLUSTER:
        problems = list(cnpg_cluster_violations(args.props))
    else:
        spec = pod_spec(args.resource_type, args.props)
        problems = list(restricted_violations(spec)) if spec is not None else []
    for problem in problems:
        report(f"{name(args.props)}: {problem}", None)


# --- Probes and resources ----------------------------------------------------------------


def probe_and_resource_violations(resource_type: str, spec: Mapping[str, Any]) -> Iterator[str]:
    """Every container has CPU and memory requests and a memory limit; every container of
    a long-running workload has liveness and readiness probes."""
    for container in containers(spec):
        label = f"container {container.get('name')!r}"
        resources = container.get("resources") or {}
        requests = resources.get("requests") or {}
        limits = resources.get("limits") or {}
        for key in ("cpu", "memory"):
            if key not in requests:
                yield f"{label}: no {key} request"
        if "memory" not in limits:
            yield f"{label}: no memory limit"
    if resource_type in LONG_RUNNING:
        for container in containers(spec, init=False):
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in container:
                    yield f"container {container.get('name')!r}: no {probe}"


def _validate_probes(args: ResourceValidationArgs, report: ReportViolation) -> None:
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    for problem in probe_and_resource_violations(args.resource_type, spec):
        report(f"{name(args.props)}: {problem}", None)


# --- Image tags --------------------------------------------------------------------------


def image_violation(image: Any) -> str | None:
    """Why an image reference is not pinned, or None when it is."""
    if not isinstance(image, str) or not image:
        return "no image"
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image!r} has no tag (that means latest)"
    if last.split(":", 1)[1] == "latest":
        return f"image {image!r} uses the latest tag"
    return None


def _validate_images(args: ResourceValidationArgs, report: ReportViolation) -> None:
    images: list[Any] = []
    if args.resource_type == CNPG_CLUSTER:
        images.append((args.props.get("spec") or {}).get("imageName", "pinned-by-operator:x"))
    spec = pod_spec(args.resource_type, args.props)
    if spec is not None:
        images.extend(container.get("image") for container in containers(spec))
    for image in images:
        problem = image_violation(image)
        if problem:
            report(f"{name(args.props)}: {problem}", None)


# --- Secrets -------------------------------------------------------------------------------


# The one Secret the program writes with data: the app's copy of the database operator's own
# credentials (infra/campus_infra/database_client.py), read from the cluster at `pulumi up`,
# never a value in the program. Named here, with the Secret it copies.
COPIED_SECRETS = {("campus", "campus-db-app"): "campus-db/campus-db-app"}
COPIED_FROM = "campus.example.org/copied-from"


def _is_declared_copy(props: Mapping[str, Any]) -> bool:
    metadata = props.get("metadata") or {}
    key = (metadata.get("namespace"), metadata.get("name"))
    source = (metadata.get("annotations") or {}).get(COPIED_FROM)
    return key in COPIED_SECRETS and source == COPIED_SECRETS[key]


def inline_secret_violations(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    """Secret values written into the program: Secret objects with data (except the declared
    copy of the database operator's Secret), secret-looking env vars with a literal value,
    credentials inside URLs."""
    has_data = props.get("data") or props.get("stringData")
    if resource_type == SECRET and has_data and not _is_declared_copy(props):
        yield "a Secret with inline data (reference a Secret created out of band instead)"
    spec = pod_spec(resource_type, props)
    for container in containers(spec) if spec is not None else []:
        for env in container.get("env") or []:
            value = env.get("value")
            if value is None:
                continue
            if SECRET_ENV_NAME.search(str(env.get("name", ""))):
                yield f"env {env.get('name')} has a literal value; use valueFrom.secretKeyRef"
            elif URL_WITH_PASSWORD.search(str(value)):
                yield f"env {env.get('name')} holds a URL with a password"


def _validate_secrets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for problem in inline_secret_violations(args.resource_type, args.props):
        report(f"{name(args.props)}: {problem}", None)


# --- Stack-wide rules --------------------------------------------------------------------


def _is_default_deny(props: Mapping[str, Any]) -> bool:
    spec = props.get("spec") or {}
    selector = spec.get("podSelector") or {}
    return (
        not selector.get("matchLabels")
        and not selector.get("matchExpressions")
        and {"Ingress", "Egress"} <= set(spec.get("policyTypes") or [])
        and not spec.get("ingress")
        and not spec.get("egress")
    )


def default_deny_violations(resources: list[tuple[str, Mapping[str, Any]]]) -> Iterator[str]:
    """Every workload's namespace has a default-deny policy selecting all its pods."""
    denied = {
        namespace(props)
        for kind, props in resources
        if kind == NETWORK_POLICY and _is_default_deny(props)
    }
    for kind, props in resources:
        if pod_spec(kind, props) is not None and namespace(props) not in denied:
            yield (
                f"{kind.rsplit(':', 1)[-1]} {namespace(props)}/{name(props)}: no default-deny "
                "NetworkPolicy selects its pods"
            )


def _selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    wanted = selector.get("matchLabels") or {}
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def pdb_violations(resources: list[tuple[str, Mapping[str, Any]]]) -> Iterator[str]:
    """A workload with more than one replica has a PodDisruptionBudget over its pods."""
    budgets = [
        (namespace(props), (props.get("spec") or {}).get("selector") or {})
        for kind, props in resources
        if kind == PDB
    ]
    for kind, props in resources:
        if kind == CNPG_CLUSTER:
            spec = props.get("spec") or {}
            if (spec.get("instances") or 1) > 1 and spec.get("enablePDB") is False:
                yield f"Cluster {name(props)}: several instances but enablePDB is false"
            continue
        if kind not in REPLICATED:
            continue
        replicas = (props.get("spec") or {}).get("replicas", 1)
        if replicas is None or replicas <= 1:
            continue
        labels = pod_labels(kind, props)
        if not any(ns == namespace(props) and _selects(sel, labels) for ns, sel in budgets):
            yield f"{kind.rsplit(':', 1)[-1]} {name(props)}: {replicas:g} replicas and no PDB"


def _stack_resources(args: StackValidationArgs) -> list[tuple[str, Mapping[str, Any]]]:
    return [(r.resource_type, r.props) for r in args.resources]


def _validate_default_deny(args: StackValidationArgs, report: ReportViolation) -> None:
    for problem in default_deny_violations(_stack_resources(args)):
        report(problem, None)


def _validate_pdb(args: StackValidationArgs, report: ReportViolation) -> None:
    for problem in pdb_violations(_stack_resources(args)):
        report(problem, None)


POLICIES = [
    ResourceValidationPolicy(
        name="pod-security-restricted",
        description="App, database and load-generator pods meet Pod Security 'restricted', "
        "with a read-only root filesystem and no service-account token.",
        validate=_validate_restricted,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="probes-and-resources",
        description="Every container has requests and a memory limit; long-running ones "
        "have liveness and readiness probes (Jobs run to completion and have none).",
        validate=_validate_probes,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="no-latest-tag",
        description="Every image is pinned by tag or digest, never 'latest' or untagged.",
        validate=_validate_images,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="secrets-never-inline",
        description="Secret values are referenced from Secrets created out of band, never "
        "written in a Secret object, an env value or a URL.",
        validate=_validate_secrets,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="pods-selected-by-default-deny",
        description="Every pod we declare lives in a namespace with a default-deny policy.",
        validate=_validate_default_deny,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="pdb-when-replicated",
        description="Every workload with more than one replica has a PodDisruptionBudget.",
        validate=_validate_pdb,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
]
