"""The two entries' Ingresses: generated from the app's route table, with the pinned
ingress-nginx release's annotations, limits above the app's, and the intranet apart."""

from __future__ import annotations

import json
import re

import pytest
from campus_infra import charts
from campus_infra import k8s as n
from campus_infra.config import ConfigError, parse_stack_config
from campus_infra.ingresses import NAMES, controller_values, ingress

from app.http.audiences import INTRANET, INTRANET_ENTRY, PUBLIC_ENTRY
from app.http.routes import ROUTES
from tests.full_batch import full_batch_body
from tests.infra.conftest import STACKS, Rendered, stack_getter
from tests.infra.upstream import sources, vendored


def _concrete(path: str) -> str:
    return re.sub(r"\{\w+_id\}", "7", path)


def _paths(ingress: dict) -> list[str]:
    return [p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]


def _served(ingress: dict, path: str) -> int:
    """How many of the Ingress's paths take `path`, matched as ingress-nginx does (`~* ^`)."""
    return sum(bool(re.match(p, path, re.IGNORECASE)) for p in _paths(ingress))


@pytest.mark.parametrize("stack", STACKS)
def test_each_operation_reaches_the_app_through_exactly_its_entries(
    rendered: dict[str, Rendered], stack
):
    r = rendered[stack]
    public = r.one("Ingress", NAMES[PUBLIC_ENTRY])
    intranet = r.one("Ingress", NAMES[INTRANET_ENTRY])
    assert len(r.of_kind("Ingress")) == 2
    for route in ROUTES:
        if not route.path.startswith("/api/"):
            continue
        path = _concrete(route.path)
        audiences = {op.audience for op in route.ops.values()}
        assert _served(intranet, path) == 1, path
        assert _served(public, path) == (0 if audiences == {INTRANET} else 1), path
    # Paths near the published ones stay closed.
    for near in ("/api/v1/requests/validate", "/api/v1/enrolments/batch", "/api/v1/learners"):
        assert _served(public, near) == 0, near


@pytest.mark.parametrize("stack", STACKS)
def test_the_entries_use_their_own_class_and_host(rendered: dict[str, Rendered], stack):
    config = parse_stack_config(stack_getter(stack))
    r = rendered[stack]
    public = r.one("Ingress", NAMES[PUBLIC_ENTRY])
    intranet = r.one("Ingress", NAMES[INTRANET_ENTRY])
    assert public["spec"]["ingressClassName"] == config.app.ingress_class
    assert intranet["spec"]["ingressClassName"] == config.app.internal_ingress_class
    assert public["spec"]["ingressClassName"] != intranet["spec"]["ingressClassName"]
    assert [rule["host"] for rule in public["spec"]["rules"]] == [config.app.host]
    assert [rule["host"] for rule in intranet["spec"]["rules"]] == [config.app.internal_host]


@pytest.mark.parametrize("stack", STACKS)
def test_annotations_are_those_the_pinned_controller_documents(
    rendered: dict[str, Rendered], stack
):
    documented = set(vendored("ingress-nginx/annotations.json"))
    for manifest in rendered[stack].of_kind("Ingress"):
        used = set(manifest["metadata"]["annotations"])
        assert used <= documented, used - documented
        # Regex paths need ImplementationSpecific (the controller's strict path validation).
        assert (
            manifest["metadata"]["annotations"]["nginx.ingress.kubernetes.io/use-regex"] == "true"
        )
        assert {
            p["pathType"] for rule in manifest["spec"]["rules"] for p in rule["http"]["paths"]
        } == {"ImplementationSpecific"}


def test_the_annotation_list_is_vendored_from_the_pinned_controller_release():
    (entry,) = [e for e in sources()["files"] if e["file"] == "ingress-nginx/annotations.json"]
    assert (entry["repo"], entry["tag"]) == (
        charts.INGRESS_NGINX.source,
        charts.INGRESS_NGINX_CONTROLLER_TAG,
    )
    (values,) = [e for e in sources()["files"] if e["file"] == "charts/ingress-nginx/values.json"]
    assert (values["repo"], values["tag"]) == (
        charts.INGRESS_NGINX.source,
        charts.INGRESS_NGINX.tag,
    )


@pytest.mark.parametrize("stack", STACKS)
def test_limits_are_above_the_apps_and_a_full_batch_fits(rendered: dict[str, Rendered], stack):
    r = rendered[stack]
    (container,) = r.one("Deployment", n.APP_NAME)["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    app_body, app_timeout = int(env["APP_MAX_BODY_BYTES"]), int(env["APP_REQUEST_TIMEOUT"])
    assert len(full_batch_body()) < app_body
    for manifest in r.of_kind("Ingress"):
        annotations = manifest["metadata"]["annotations"]
        assert int(annotations["nginx.ingress.kubernetes.io/proxy-body-size"]) >= app_body
        for key in ("proxy-read-timeout", "proxy-send-timeout"):
            assert int(annotations[f"nginx.ingress.kubernetes.io/{key}"]) > app_timeout, key


@pytest.mark.parametrize("stack", STACKS)
def test_the_app_trusts_the_entry_header_from_the_controllers_only(
    rendered: dict[str, Rendered], stack
):
    config = parse_stack_config(stack_getter(stack))
    (container,) = rendered[stack].one("Deployment", n.APP_NAME)["spec"]["template"]["spec"][
        "containers"
    ]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["APP_TRUSTED_PROXIES"] == ",".join(config.network.ingress_controller_cidrs)
    assert config.network.ingress_controller_cidrs, "every stack names its controllers' addresses"


def test_the_controllers_values_are_keys_of_the_pinned_chart():
    defaults = vendored("charts/ingress-nginx/values.json")["controller"]
    config = parse_stack_config(stack_getter("prod"))
    for entry in (PUBLIC_ENTRY, INTRANET_ENTRY):
        values = controller_values(config, entry)["controller"]
        assert set(values) <= set(defaults)
        assert set(values["ingressClassResource"]) <= set(defaults["ingressClassResource"])
        assert values["proxySetHeaders"] == {
            "X-Campus-Entry": entry,
            "X-Request-Start": "t=${msec}",
        }


def _with_app(stack: str, **changes):
    base = stack_getter(stack)
    app = json.loads(base("app"))
    app.update(changes)
    return parse_stack_config(lambda key: json.dumps(app) if key == "app" else base(key))


def test_source_ranges_close_the_intranet_entry_only():
    config = _with_app("prod", internalSourceRanges=["192.0.2.0/24", "198.51.100.0/24"])
    key = "nginx.ingress.kubernetes.io/whitelist-source-range"
    intranet = ingress(config, INTRANET_ENTRY, {})
    assert intranet["metadata"]["annotations"][key] == "192.0.2.0/24,198.51.100.0/24"
    assert key not in ingress(config, PUBLIC_ENTRY, {})["metadata"]["annotations"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"internalIngressClass": "nginx"}, "app.internalIngressClass must differ"),
        ({"internalHost": "enrol.campus.example.org"}, "app.internalHost must differ"),
        ({"internalHost": "not a host"}, "app.internalHost"),
        ({"internalSourceRanges": ["0.0.0.0/0"]}, "app.internalSourceRanges"),
        ({"internalSourceRanges": ["intranet"]}, "app.internalSourceRanges"),
    ],
)
def test_bad_entry_settings_are_refused_naming_the_key(changes, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        _with_app("prod", **changes)
