"""The Pulumi program's building blocks: typed stack config and one ComponentResource per
concern (namespaces, network policies, app, database, monitoring, security, GitOps, load)."""
