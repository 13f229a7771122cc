"""The names `pulumi up` gives the objects the runbooks act on (infra/campus_infra/k8s.py).

They are the commands' option defaults; a test checks them against the infra program, so a
rename there cannot leave on-call pointing at nothing.
"""

APP_NAMESPACE = "campus"
APP_DEPLOYMENT = "campus-app"
APP_HPA = "campus-app"
DB_NAMESPACE = "campus-db"
DB_CLUSTER = "campus-db"
KUBE_BENCH_NAMESPACE = "kube-bench"
# Besides the app's: the database operator (no failover without it) and monitoring.
OPERATOR_NAMESPACES = ("cnpg-system", "monitoring")
KUBE_BENCH_SELECTOR = "app.kubernetes.io/name=kube-bench"

# `restart TARGET`: what each target name restarts.
RESTART_TARGETS = {"app": APP_DEPLOYMENT}

# Where surge-prepare remembers the HPA's values for surge-end.
SURGE_ANNOTATION = "campus.example.org/surge-previous"
# The annotation `kubectl rollout restart` sets on the pod template.
RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt"

CNPG_GROUP = "postgresql.cnpg.io"
CNPG_VERSION = "v1"
