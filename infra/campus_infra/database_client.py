"""The app's database credentials: the operator's own `campus-db-app` Secret, brought to the
app's namespace with a URL that verifies the server's certificate.

CloudNativePG writes the owner's credentials to Secret `campus-db-app` and its CA to
`campus-db-ca` in namespace `campus-db`; pods mount Secrets of their own namespace only.
Pulumi (the platform's owner) reads both once the Cluster is Ready and writes one Secret in
`campus`: the URL (host `campus-db-rw.campus-db.svc`, a name on the server certificate,
`sslmode=verify-full`) and the CA certificate (never the CA's key). Each `pulumi up`
refreshes it, so no one copies credentials by hand.
"""

import base64
from typing import Any
from urllib.parse import quote

import pulumi
import pulumi_kubernetes as k8s

from campus_infra import k8s as n

APP_DB_SECRET = "campus-db-app"  # noqa: S105 (an object name)
OPERATOR_APP_SECRET = f"{n.DB_CLUSTER}-app"
OPERATOR_CA_SECRET = f"{n.DB_CLUSTER}-ca"
# Where the app's pods mount the CA certificate (app.py), named in the URL.
CA_DIR = "/etc/campus/db-ca"
CA_FILE = f"{CA_DIR}/ca.crt"
DB_HOST = f"{n.DB_CLUSTER}-rw.{n.NS_DB}.svc"
# The annotation the policy pack reads to accept a Secret with data: a copy of the named
# operator Secret, never a value written in the program.
COPIED_FROM = "campus.example.org/copied-from"


def _decoded(data: dict[str, str] | None, key: str) -> str:
    value = (data or {}).get(key)
    if value is None:
        raise ValueError(f"Secret {OPERATOR_APP_SECRET} has no {key!r}")
    return base64.b64decode(value).decode("utf-8")


def database_url(data: dict[str, str] | None) -> str:
    """The app's DATABASE_URL from the operator's Secret data (base64 values)."""
    user = quote(_decoded(data, "username"), safe="")
    password = quote(_decoded(data, "password"), safe="")
    database = quote(_decoded(data, "dbname"), safe="")
    return (
        f"postgresql://{user}:{password}@{DB_HOST}:5432/{database}"
        f"?sslmode=verify-full&sslrootcert={CA_FILE}"
    )


def app_database_secret(
    cluster: pulumi.Resource, depends: list[pulumi.Resource], parent: pulumi.Resource
) -> k8s.core.v1.Secret:
    """The Secret the app and its migration Job read (keys `uri` and `ca.crt`)."""
    after_cluster = pulumi.ResourceOptions(parent=parent, depends_on=[*depends, cluster])
    credentials = k8s.core.v1.Secret.get(
        "campus-db-operator-app-secret", f"{n.NS_DB}/{OPERATOR_APP_SECRET}", opts=after_cluster
    )
    authority = k8s.core.v1.Secret.get(
        "campus-db-operator-ca-secret", f"{n.NS_DB}/{OPERATOR_CA_SECRET}", opts=after_cluster
    )

    def ca_certificate(data: dict[str, Any] | None) -> str:
        return base64.b64decode((data or {})["ca.crt"]).decode("utf-8")

    return k8s.core.v1.Secret(
        "campus-db-app",
        metadata={
            "name": APP_DB_SECRET,
            "namespace": n.NS_APP,
            "labels": {"app.kubernetes.io/part-of": n.PART_OF},
            "annotations": {COPIED_FROM: f"{n.NS_DB}/{OPERATOR_APP_SECRET}"},
        },
        string_data={
            "uri": pulumi.Output.secret(credentials.data.apply(database_url)),
            "ca.crt": authority.data.apply(ca_certificate),
        },
        opts=pulumi.ResourceOptions(
            parent=parent, depends_on=[*depends, cluster], additional_secret_outputs=["data"]
        ),
    )
