"""Argo CD and the Application that keeps the cluster equal to the rendered manifests."""

import pulumi
import pulumi_kubernetes as k8s

from campus_infra import charts
from campus_infra import k8s as n
from campus_infra.config import StackConfig
from campus_infra.helm import release


class GitOps(pulumi.ComponentResource):
    """Argo CD (Helm) and the `campus-platform` Application (automated, prune, self-heal)."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        depends: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("campus:platform:GitOps", name, None, opts)
        argocd = release(
            "argocd",
            charts.ARGO_CD,
            n.NS_ARGOCD,
            {
                # Dex (SSO) and notifications are not used; fewer pods, less to patch.
                "dex": {"enabled": False},
                "notifications": {"enabled": False},
                "global": {"networkPolicy": {"create": False}},
            },
            pulumi.ResourceOptions(parent=self, depends_on=depends),
        )
        gitops = config.gitops
        k8s.apiextensions.CustomResource(
            "campus-platform-application",
            api_version="argoproj.io/v1alpha1",
            kind="Application",
            metadata={
                "name": "campus-platform",
                "namespace": n.NS_ARGOCD,
                "labels": {"app.kubernetes.io/part-of": n.PART_OF},
                # Deleting the Application removes what it deployed.
                "finalizers": ["resources-finalizer.argocd.argoproj.io"],
            },
            spec={
                "project": "default",
                "source": {
                    "repoURL": gitops.repo_url,
                    "targetRevision": gitops.target_revision,
                    "path": gitops.path,
                    "directory": {"recurse": True},
                },
                "destination": {"server": "https://kubernetes.default.svc", "namespace": n.NS_APP},
                "syncPolicy": {
                    "automated": {"prune": True, "selfHeal": True},
                    "syncOptions": ["CreateNamespace=false", "ServerSideApply=true"],
                    "retry": {
                        "limit": 5,
                        "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"},
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*depends, argocd]),
        )
        self.register_outputs({"path": gitops.path})
