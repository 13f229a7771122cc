"""Where the program finds the repository files it consumes (policies/, loadtests/).

Resolved from this file, not the working directory: `pulumi up` and the tests start the
program from different folders.
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
POLICIES = REPO_ROOT / "policies"
PROMETHEUS_RULES = POLICIES / "prometheus" / "rules"
FALCO_RULES = POLICIES / "falco" / "campus_rules.yaml"
DASHBOARDS = POLICIES / "dashboards"
KUBE_BENCH_JOB = POLICIES / "kube-bench" / "job.yaml"
KUBE_BENCH_ALLOWLIST = POLICIES / "kube-bench" / "allowlist.yaml"
KUBE_BENCH_BENCHMARKS = POLICIES / "kube-bench" / "benchmarks.yaml"
# Ops may point the load generator at another scenario folder (a rehearsal's own scripts).
LOADTESTS = Path(os.environ.get("CAMPUS_LOADTESTS_DIR") or REPO_ROOT / "loadtests")
