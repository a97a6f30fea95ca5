"""S3 adapter: the bucket holding repository blobs, archives and temporary objects."""

from __future__ import annotations

from kiln import config
from kiln.adapters.aws import client


def put_object(key: str, body: bytes, content_type: str = "application/octet-stream") -> None:
    client("s3").put_object(Bucket=config.bucket_name(), Key=key, Body=body, ContentType=content_type)


def get_object(key: str) -> bytes | None:
    try:
        return client("s3").get_object(Bucket=config.bucket_name(), Key=key)["Body"].read()
    except client("s3").exceptions.NoSuchKey:
        return None


def head_bucket() -> None:
    """Raises when the bucket is unreachable (health check)."""
    client("s3").head_bucket(Bucket=config.bucket_name())


def delete_object(key: str) -> None:
    client("s3").delete_object(Bucket=config.bucket_name(), Key=key)
