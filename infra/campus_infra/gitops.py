"""Argo CD, the AppProject that bounds it, and the Application of the app's manifests.

One owner per object: Pulumi installs and owns the platform (Argo CD included); Argo CD
owns only the app's own manifests (app.py), and its AppProject lets it create nothing
else: no cluster-scoped object, no namespace but `campus`, only the app's kinds.
"""

import pulumi
import pulumi_kubernetes as k8s

from campus_infra import charts
from campus_infra import k8s as n
from campus_infra.app import APP_KINDS
from campus_infra.config import StackConfig
from campus_infra.helm import release

PROJECT_NAME = "campus-app"
IN_CLUSTER = "https://kubernetes.default.svc"


class GitOps(pulumi.ComponentResource):
    """Argo CD (Helm), the `campus-app` AppProject and the `campus-platform` Application
    (automated, prune, self-heal, within the project)."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        depends: list[pulumi.Resource],
        monitoring_crds: list[pulumi.Resource],
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
        after_argocd = pulumi.ResourceOptions(parent=self, depends_on=[*depends, argocd])
        project = k8s.apiextensions.CustomResource(
            "campus-app-project",
            api_version="argoproj.io/v1alpha1",
            kind="AppProject",
            metadata={
                "name": PROJECT_NAME,
                "namespace": n.NS_ARGOCD,
                "labels": {"app.kubernetes.io/part-of": n.PART_OF},
            },
            spec={
                "description": "The enrolment app's own manifests, and nothing else",
                "sourceRepos": [gitops.repo_url],
                "destinations": [{"server": IN_CLUSTER, "namespace": n.NS_APP}],
                # An empty whitelist admits no cluster-scoped kind at all.
                "clusterResourceWhitelist": [],
                "namespaceResourceWhitelist": [
                    {"group": group, "kind": kind} for group, kind in APP_KINDS
                ],
                # Objects in `campus` that Argo CD does not own (Pulumi's NetworkPolicies)
                # are listed as orphans in its UI, never touched.
                "orphanedResources": {"warn": False},
            },
            opts=after_argocd,
        )
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
                "project": PROJECT_NAME,
                "source": {
                    "repoURL": gitops.repo_url,
                    "targetRevision": gitops.target_revision,
                    "path": gitops.path,
                    "directory": {"recurse": True},
                },
                "destination": {"server": IN_CLUSTER, "namespace": n.NS_APP},
                "syncPolicy": {
                    "automated": {"prune": True, "selfHeal": True},
                    "syncOptions": ["CreateNamespace=false", "ServerSideApply=true"],
                    "retry": {
                        "limit": 5,
                        "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"},
                    },
                },
            },
            # The app's manifests include a ServiceMonitor: Argo CD syncs once its CRD exists.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*depends, argocd, project, *monitoring_crds]
            ),
        )
        self.register_outputs({"path": gitops.path})
