"""Campus Platform on Kubernetes (`pulumi up` from the repository root; Pulumi.yaml's main).

Only composes: the typed stack config goes to one ComponentResource per concern. A bad
setting stops the run with one line naming the key (pulumi.RunError prints no traceback).
"""

import pulumi
from campus_infra.config import PROJECT, ConfigError, configured_keys, parse_stack_config
from campus_infra.database import Database
from campus_infra.gitops import GitOps
from campus_infra.loadgen import LoadGenerator
from campus_infra.monitoring import Monitoring
from campus_infra.namespaces import Namespaces
from campus_infra.network import NetworkPolicies
from campus_infra.policy_files import PolicyFileError
from campus_infra.security import Security
from campus_infra.versions import VersionFileError

try:
    config = parse_stack_config(pulumi.Config(PROJECT).get, configured_keys())
    namespaces = Namespaces("namespaces")
    ns = namespaces.depends()
    NetworkPolicies("network-policies", config, ns)
    monitoring = Monitoring("monitoring", config, ns)
    Database("database", config, ns, monitoring.crds)
    Security("security", config, ns, monitoring.crds)
    GitOps("gitops", config, ns, monitoring.crds)
    if config.loadgen.enabled:
        LoadGenerator("load-generator", config, ns)
except (ConfigError, PolicyFileError, VersionFileError) as error:
    raise pulumi.RunError(str(error)) from None

pulumi.export("site", config.site)
pulumi.export("profile", config.profile)
pulumi.export("appImage", config.app.image)
pulumi.export("appHost", config.app.host)
