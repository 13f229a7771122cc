"""Copies of backups in S3-compatible object storage (boto3).

Upload sends the data files first and the manifest last, so a copy cut short has no
manifest; download checks every file against the manifest's sha256 and publishes the copy
through the same `.partial-` rename as `create`, so an interrupted download is never complete.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rich.progress import Progress

from platform_tools.backup.files import sha256_file
from platform_tools.backup.manifest import MANIFEST_NAME, ManifestError, read_manifest
from platform_tools.backup.repository import (
    PARTIAL_PREFIX,
    BackupEntry,
    discard,
    finish_backup,
)
from platform_tools.run.errors import EnvironmentFailure, ProblemFound, UsageError

_S3_URL = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(.*))?$")
_ID = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class S3Location:
    """A bucket and a key prefix (no leading or trailing slash)."""

    bucket: str
    prefix: str

    def key(self, *parts: str) -> str:
        """The object key of `parts` under the prefix."""
        return "/".join(part for part in (self.prefix, *parts) if part)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")


def parse_s3_url(value: str, option: str) -> S3Location:
    """`s3://bucket[/prefix]`, refused with a message naming the option otherwise."""
    match = _S3_URL.match(value)
    if match is None:
        raise UsageError(f"expected s3://BUCKET[/PREFIX], got {value!r}", option)
    return S3Location(bucket=match.group(1), prefix=(match.group(2) or "").strip("/"))


def s3_client(endpoint: str | None):  # type: ignore[no-untyped-def]
    """A boto3 S3 client; credentials and region come from the usual AWS variables and files,
    the endpoint from `--s3-endpoint` or AWS_ENDPOINT_URL (for non-AWS storage)."""
    # Imported here: boto3 takes longer to import than most commands take to run.
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=10)
    return boto3.client("s3", endpoint_url=endpoint or None, config=config)


def _failure(action: str, exc: Exception) -> EnvironmentFailure:
    return EnvironmentFailure(f"object storage: {action} failed ({exc})")


def upload_backup(entry: BackupEntry, location: S3Location, client, progress: Progress) -> int:  # type: ignore[no-untyped-def]
    """Upload a complete backup under `location/<id>/`; returns the bytes sent."""
    from botocore.exceptions import BotoCoreError, ClientError

    manifest = entry.manifest
    assert manifest is not None
    task = progress.add_task(f"Uploading to {location}", total=manifest.size_bytes)
    try:
        for file in manifest.files:
            key = location.key(entry.id, file.path)
            client.upload_file(
                str(entry.path / file.path),
                location.bucket,
                key,
                ExtraArgs={"Metadata": {"sha256": file.sha256}},
                Callback=lambda sent: progress.advance(task, sent),
            )
            head = client.head_object(Bucket=location.bucket, Key=key)
            if head["ContentLength"] != file.size:
                raise ProblemFound(f"{key}: {head['ContentLength']} bytes stored, {file.size} sent")
        client.upload_file(
            str(entry.path / MANIFEST_NAME), location.bucket, location.key(entry.id, MANIFEST_NAME)
        )
    except (BotoCoreError, ClientError) as exc:
        raise _failure(f"upload of {entry.id} to {location}", exc) from None
    return manifest.size_bytes


def download_backup(
    location: S3Location,
    backup: str,
    backup_dir: Path,
    client,
    progress: Progress,  # type: ignore[no-untyped-def]
) -> Path:
    """Download `location/<backup>/` into `backup_dir/<backup>`, every file checked."""
    from botocore.exceptions import BotoCoreError, ClientError

    if not _ID.match(backup):
        raise UsageError(f"not a backup name: {backup!r}", "BACKUP")
    if (backup_dir / backup).exists():
        raise UsageError(f"{backup_dir / backup} already exists", "--backup-dir")
    partial = backup_dir / f"{PARTIAL_PREFIX}{backup}"
    if partial.exists():
        discard(partial)
    partial.mkdir(mode=0o700)
    try:
        manifest_key = location.key(backup, MANIFEST_NAME)
        try:
            client.download_file(location.bucket, manifest_key, str(partial / MANIFEST_NAME))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                raise UsageError(
                    f"no complete backup at {location}/{backup} (no manifest)", "BACKUP"
                ) from None
            raise
        try:
            manifest = read_manifest(partial)
        except ManifestError as exc:
            raise ProblemFound(f"downloaded manifest is not usable: {exc}") from None
        task = progress.add_task(f"Downloading from {location}", total=manifest.size_bytes)
        for file in manifest.files:
            target = partial / file.path
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(
                location.bucket,
                location.key(backup, file.path),
                str(target),
                Callback=lambda got: progress.advance(task, got),
            )
            if target.stat().st_size != file.size or sha256_file(target) != file.sha256:
                raise ProblemFound(f"{file.path}: downloaded copy does not match the manifest")
        return finish_backup(partial, backup_dir, backup)
    except (BotoCoreError, ClientError) as exc:
        discard(partial)
        raise _failure(f"download of {backup} from {location}", exc) from None
    except BaseException:
        discard(partial)
        raise
