"""The metric catalogue the ops tools build their metrics from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from platform_tools.metrics_catalogue import (
    CATALOGUE,
    OPS_METRICS,
    MetricSpec,
    catalogue_sample_names,
    create_metric,
    spec_for,
)

_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


def test_every_entry_has_a_valid_name_help_and_source() -> None:
    for spec in CATALOGUE.values():
        assert _NAME.match(spec.name), spec.name
        assert spec.help.strip() and spec.source.strip(), spec.name
        assert all(_NAME.match(label) for label in spec.labels), spec.name
        if spec.kind == "counter":
            assert spec.name.endswith("_total"), spec.name


def test_ops_metrics_carry_the_campus_prefix_and_are_built_with_their_labels() -> None:
    registry = CollectorRegistry()
    for spec in OPS_METRICS:
        assert spec.name.startswith("campus_") and spec.ours
        metric = create_metric(spec.name, registry)
        if spec.labels:
            metric.labels(**dict.fromkeys(spec.labels, "x")).set(1)
        else:
            metric.set(1)
    families = {
        family.name: family
        for family in text_string_to_metric_families(generate_latest(registry).decode())
    }
    for spec in OPS_METRICS:
        family = families[spec.name]
        assert family.type == spec.kind
        assert family.documentation == spec.help
        assert set(family.samples[0].labels) == set(spec.labels)


def test_third_party_metrics_cannot_be_created_by_the_ops_tools() -> None:
    with pytest.raises(ValueError, match="CloudNativePG"):
        create_metric("cnpg_collector_up", CollectorRegistry())


def test_an_undeclared_name_is_refused_by_name() -> None:
    with pytest.raises(KeyError, match="campus_backup_last_sucess"):
        spec_for("campus_backup_last_sucess")


def test_histograms_expand_to_their_three_series() -> None:
    spec = MetricSpec("x_seconds", "histogram", "h", (), "platform-tools test")
    assert spec.sample_names() == {"x_seconds_bucket", "x_seconds_sum", "x_seconds_count"}
    assert "campus_backup_last_success_timestamp_seconds" in catalogue_sample_names()


def test_every_third_party_entry_is_read_by_a_rule_or_dashboard() -> None:
    # Stale entries would let a rule keep using a metric the exporter no longer has.
    policies = Path(__file__).resolve().parents[2] / "policies"
    texts = [path.read_text() for path in (policies / "prometheus" / "rules").glob("*.yml")]
    texts += [path.read_text() for path in (policies / "dashboards").glob("*.json")]
    corpus = "\n".join(texts)
    for spec in CATALOGUE.values():
        if not spec.ours:
            assert re.search(rf"(?<![\w:]){re.escape(spec.name)}(?![\w:])", corpus), spec.name
