"""The runbooks' defaults name what `pulumi up` creates (infra/campus_infra)."""

from __future__ import annotations

import sys
from pathlib import Path

from platform_tools.runbook import targets

INFRA = Path(__file__).resolve().parents[3] / "infra"
if str(INFRA) not in sys.path:
    sys.path.insert(0, str(INFRA))

from campus_infra import charts  # noqa: E402
from campus_infra import k8s as names  # noqa: E402


def test_defaults_are_the_names_the_infra_program_gives_its_objects():
    assert targets.APP_NAMESPACE == names.NS_APP
    assert targets.APP_DEPLOYMENT == targets.APP_HPA == names.APP_NAME
    assert targets.DB_NAMESPACE == names.NS_DB
    assert targets.DB_CLUSTER == names.DB_CLUSTER
    assert targets.KUBE_BENCH_NAMESPACE == names.NS_KUBE_BENCH
    assert targets.KUBE_BENCH_SELECTOR == "app.kubernetes.io/name=kube-bench"
    assert targets.RESTART_TARGETS == {"app": names.APP_NAME}
    assert targets.OPERATOR_NAMESPACES == (names.NS_CNPG, names.NS_MONITORING)


def test_switchover_follows_the_plugin_of_the_pinned_operator():
    # db-switchover reproduces `kubectl cnpg promote`: a merge patch of the Cluster's status
    # (targetPrimary, its timestamp, phase and reason, the Ready condition). Read again for
    # chart 0.29.0 on 2026-11-30: the plugin's promote command is unchanged. A chart bump must
    # come with a look at the plugin's promote command of the new version.
    assert charts.CLOUDNATIVE_PG.version == "0.29.0"
