"""On-call runbooks against the Kubernetes API (the official `kubernetes` client)."""
