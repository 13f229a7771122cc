"""PostgreSQL: the CloudNativePG operator, the `campus-db` Cluster and its backups."""

import pulumi
import pulumi_kubernetes as k8s

from campus_infra import charts
from campus_infra import k8s as n
from campus_infra.config import StackConfig
from campus_infra.database_client import app_database_secret
from campus_infra.helm import release

BARMAN_PLUGIN = "barman-cloud.cloudnative-pg.io"
OBJECT_STORE = "campus-db-backups"


class Database(pulumi.ComponentResource):
    """Operator and Barman Cloud plugin (Helm), Cluster, ObjectStore, ScheduledBackup and
    PodMonitor."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        depends: list[pulumi.Resource],
        monitoring_crds: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("campus:platform:Database", name, None, opts)
        db = config.database
        child = pulumi.ResourceOptions(parent=self, depends_on=depends)
        operator = release(
            "cnpg",
            charts.CLOUDNATIVE_PG,
            n.NS_CNPG,
            {
                "fullnameOverride": "cnpg-controller-manager",
                "monitoring": {"podMonitorEnabled": False},
                "resources": {
                    "requests": {"cpu": "100m", "memory": "128Mi"},
                    "limits": {"cpu": "500m", "memory": "256Mi"},
                },
            },
            child,
        )
        plugin = release(
            "barman-cloud",
            charts.BARMAN_CLOUD_PLUGIN,
            n.NS_CNPG,
            {},
            pulumi.ResourceOptions(parent=self, depends_on=[*depends, operator]),
        )
        crds = pulumi.ResourceOptions(parent=self, depends_on=[*depends, operator, plugin])

        k8s.apiextensions.CustomResource(
            "campus-db-objectstore",
            api_version="barmancloud.cnpg.io/v1",
            kind="ObjectStore",
            metadata={"name": OBJECT_STORE, "namespace": n.NS_DB},
            spec={
                "retentionPolicy": db.backup.retention,
                "configuration": {
                    "destinationPath": db.backup.destination_path,
                    "endpointURL": db.backup.endpoint_url,
                    # Keys of a Secret ops create; never the credentials themselves.
                    "s3Credentials": {
                        "accessKeyId": {
                            "name": db.backup.credentials_secret,
                            "key": "ACCESS_KEY_ID",
                        },
                        "secretAccessKey": {
                            "name": db.backup.credentials_secret,
                            "key": "ACCESS_SECRET_KEY",
                        },
                    },
                    "wal": {"compression": "gzip", "maxParallel": 2},
                    "data": {"compression": "gzip", "jobs": 2},
                },
            },
            opts=crds,
        )

        storage: dict[str, str] = {"size": db.storage_size}
        wal_storage: dict[str, str] = {"size": db.wal_storage_size}
        if db.storage_class:
            storage["storageClass"] = db.storage_class
            wal_storage["storageClass"] = db.storage_class
        self.cluster = k8s.apiextensions.CustomResource(
            "campus-db",
            api_version="postgresql.cnpg.io/v1",
            kind="Cluster",
            metadata={
                "name": n.DB_CLUSTER,
                "namespace": n.NS_DB,
                "labels": {"app.kubernetes.io/part-of": n.PART_OF},
                # pulumi-kubernetes waits for the operator to report the cluster Ready (its
                # Secrets exist then) before anything that depends on it.
                "annotations": {"pulumi.com/waitFor": "condition=Ready"},
            },
            spec={
                "instances": db.instances,
                "imageName": charts.POSTGRES_IMAGE,
                "primaryUpdateStrategy": "unsupervised",
                # A write is acknowledged once one standby has it: an accepted enrolment
                # survives the loss of the primary.
                "postgresql": {
                    "synchronous": {"method": "any", "number": 1, "dataDurability": "required"},
                    "parameters": {"max_connections": str(db.max_connections)},
                },
                "affinity": {
                    "enablePodAntiAffinity": True,
                    "podAntiAffinityType": "required",
                    "topologyKey": "kubernetes.io/hostname",
                },
                "enablePDB": True,
                "storage": storage,
                "walStorage": wal_storage,
                "resources": db.resources.to_k8s(),
                "bootstrap": {"initdb": {"database": "campus", "owner": "campus"}},
                "plugins": [
                    {
                        "name": BARMAN_PLUGIN,
                        "isWALArchiver": True,
                        "parameters": {"barmanObjectName": OBJECT_STORE},
                    }
                ],
                "monitoring": {"enablePodMonitor": False},
            },
            opts=crds,
        )

        k8s.apiextensions.CustomResource(
            "campus-db-daily-backup",
            api_version="postgresql.cnpg.io/v1",
            kind="ScheduledBackup",
            metadata={"name": "campus-db-daily", "namespace": n.NS_DB},
            spec={
                "schedule": db.backup.schedule,
                "backupOwnerReference": "self",
                "cluster": {"name": n.DB_CLUSTER},
                "method": "plugin",
                "pluginConfiguration": {"name": BARMAN_PLUGIN},
                "immediate": True,
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*depends, self.cluster]),
        )

        k8s.apiextensions.CustomResource(
            "campus-db-podmonitor",
            api_version="monitoring.coreos.com/v1",
            kind="PodMonitor",
            metadata={"name": n.DB_CLUSTER, "namespace": n.NS_DB},
            spec={
                "selector": {"matchLabels": {"cnpg.io/cluster": n.DB_CLUSTER}},
                "podMetricsEndpoints": [{"port": "metrics"}],
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*depends, *monitoring_crds]),
        )
        self.app_secret = app_database_secret(self.cluster, depends, self)
        self.register_outputs({"cluster": n.DB_CLUSTER, "instances": db.instances})
