"""Backups copied to S3-compatible storage and back: a moto server on loopback plays the
object store (a real HTTP server speaking the S3 protocol; boto3 does the real calls)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.platform_tools.backup_cli import backup_cli, json_of, message

BUCKET = "campus-backups"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test-key",
    "AWS_SECRET_ACCESS_KEY": "test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.mark.slow
def test_a_backup_uploaded_then_downloaded_verifies(
    source_url: str,
    s3_endpoint: str,
    bucket,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    created = backup_cli(
        "create",
        "--backup-dir",
        str(tmp_path / "here"),
        "--upload-to",
        f"s3://{BUCKET}/nightly",
        "--s3-endpoint",
        s3_endpoint,
        "--json",
        database_url=source_url,
        **CREDENTIALS,
    )
    assert created.exit_code == 0, created.stderr
    manifest = json_of(created)
    keys = {item["Key"] for item in bucket.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {f"nightly/{manifest['id']}/{f['path']}" for f in manifest["files"]} | {
        f"nightly/{manifest['id']}/manifest.json"
    }

    elsewhere = tmp_path / "elsewhere"
    downloaded = backup_cli(
        "download",
        manifest["id"],
        "--from",
        f"s3://{BUCKET}/nightly",
        "--backup-dir",
        str(elsewhere),
        "--s3-endpoint",
        s3_endpoint,
        **CREDENTIALS,
    )
    assert downloaded.exit_code == 0, downloaded.stderr
    verified = backup_cli(
        "verify", "--backup-dir", str(elsewhere), "--json", database_url=source_url
    )
    assert verified.exit_code == 0, verified.stdout
    assert json_of(verified)["ok"] is True


def test_a_damaged_object_is_refused_on_download_and_leaves_nothing_complete(
    demo_sqlite: Path,
    s3_endpoint: str,
    bucket,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    source = f"sqlite:///{demo_sqlite}"
    here = tmp_path / "here"
    created = backup_cli("create", "--backup-dir", str(here), "--json", database_url=source)
    manifest = json_of(created)
    uploaded = backup_cli(
        "upload",
        manifest["id"],
        "--to",
        f"s3://{BUCKET}/x",
        "--backup-dir",
        str(here),
        "--s3-endpoint",
        s3_endpoint,
    )
    assert uploaded.exit_code == 0, uploaded.stderr
    data_key = f"x/{manifest['id']}/{manifest['files'][0]['path']}"
    body = bytearray(bucket.get_object(Bucket=BUCKET, Key=data_key)["Body"].read())
    body[100] ^= 0xFF
    bucket.put_object(Bucket=BUCKET, Key=data_key, Body=bytes(body))

    elsewhere = tmp_path / "elsewhere"
    result = backup_cli(
        "download",
        manifest["id"],
        "--from",
        f"s3://{BUCKET}/x",
        "--backup-dir",
        str(elsewhere),
        "--s3-endpoint",
        s3_endpoint,
    )
    assert result.exit_code == 1
    assert "downloaded copy does not match the manifest" in message(result)
    assert list(elsewhere.iterdir()) == []


def test_a_backup_missing_from_the_bucket_is_a_usage_error(
    s3_endpoint: str,
    bucket,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    result = backup_cli(
        "download",
        "campus-20260101T000000Z",
        "--from",
        f"s3://{BUCKET}/none",
        "--backup-dir",
        str(tmp_path),
        "--s3-endpoint",
        s3_endpoint,
    )
    assert result.exit_code == 2
    assert "no complete backup at s3://campus-backups/none/campus-20260101T000000Z" in message(
        result
    )


def test_unreachable_object_storage_is_an_environment_failure(
    demo_sqlite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    result = backup_cli(
        "create",
        "--backup-dir",
        str(tmp_path),
        "--upload-to",
        f"s3://{BUCKET}/x",
        "--s3-endpoint",
        "http://127.0.0.1:9",
        database_url=f"sqlite:///{demo_sqlite}",
    )
    assert result.exit_code == 3
    assert "object storage: upload" in message(result)
