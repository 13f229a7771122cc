"""Database backups you can restore: create, verify (checksums and a restore drill), restore,
list, prune, and copies in S3-compatible object storage."""
