"""The kube-bench gate: reads CIS benchmark results, applies the allow-list, decides."""
