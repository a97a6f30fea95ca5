"""The S3 bucket for uploads, exports and scratch files, plus its server access log bucket.

Object prefixes (kiln.domain): `repos/` and `specs/` hold project data and are kept;
`exports/` and `conversions/` hold archives that downloads point at for 7 days
(kiln.domain.operations.EXPORT_RETENTION); `uploads/` holds archives clients POST with a
15-minute presigned policy, read once by an import or conversion; `tmp/` is scratch. S3 expires
an object at the first midnight UTC after it reaches its rule's age, never before. The bucket
is versioned: expiring or deleting a current version leaves a noncurrent
one, which the prefix's own rule (1 day) or the bucket-wide one (30 days) removes; S3 honours
the shorter of two overlapping expirations.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.nag import acknowledge
from infra.settings import Settings

TMP_PREFIX = "tmp/"
EXPORTS_PREFIX = "exports/"
CONVERSIONS_PREFIX = "conversions/"
UPLOADS_PREFIX = "uploads/"
# Days a current object lives under each transient prefix (its noncurrent version: 1 more day).
EXPIRING_PREFIXES = {TMP_PREFIX: 1, EXPORTS_PREFIX: 7, CONVERSIONS_PREFIX: 7, UPLOADS_PREFIX: 1}
NONCURRENT_DAYS = 30
# How long browsers may cache a CORS preflight answer.
CORS_MAX_AGE_SECONDS = 3000


def cors_rules(origins: tuple[str, ...]) -> list[s3.CorsRule] | None:
    """Browser access to presigned URLs from `origins` (Settings.cors_allowed_origins); None without any.

    POST: the presigned upload form (kiln.adapters.s3_transfer.presigned_upload), a multipart/
    form-data body that needs no preflight; GET and HEAD: presigned downloads read with fetch.
    The signature, not CORS, authorizes each request: CORS only lets the origin read the answer.
    """
    if not origins:
        return None
    return [
        s3.CorsRule(
            id="browser-presigned-transfers",
            allowed_origins=list(origins),
            allowed_methods=[s3.HttpMethods.POST, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
            # Whatever headers a preflight announces (a client may send Range, for example).
            allowed_headers=["*"],
            # ETag: the uploaded object's; Content-Disposition: the download's file name.
            exposed_headers=["ETag", "Content-Disposition"],
            max_age=CORS_MAX_AGE_SECONDS,
        )
    ]


class Storage(Construct):
    def __init__(self, scope: Construct, id: str, *, settings: Settings) -> None:
        super().__init__(scope, id)
        common: dict[str, Any] = dict(
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=settings.removal_policy,
            # dev: `cdk destroy` empties the buckets (every object version) so they can go too.
            auto_delete_objects=settings.dev,
        )
        self.log_bucket = s3.Bucket(
            self,
            "AccessLogs",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=Duration.days(90),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            **common,
        )
        acknowledge(
            self.log_bucket,
            "AwsSolutions-S1",
            "This bucket receives the data bucket's server access logs; logging it to itself "
            "would loop and logging it elsewhere only moves the problem.",
        )

        self.bucket = s3.Bucket(
            self,
            "Bucket",
            versioned=True,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="data-bucket/",
            lifecycle_rules=[
                *(
                    s3.LifecycleRule(
                        id=f"expire-{prefix.strip('/')}",
                        prefix=prefix,
                        expiration=Duration.days(days),
                        noncurrent_version_expiration=Duration.days(1),
                    )
                    for prefix, days in EXPIRING_PREFIXES.items()
                ),
                # Parts of multipart uploads never completed nor aborted (a worker killed mid-stream).
                s3.LifecycleRule(
                    id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)
                ),
                # Versioning protects against overwrites; old versions are kept 30 days, not forever.
                s3.LifecycleRule(
                    id="expire-noncurrent-versions", noncurrent_version_expiration=Duration.days(NONCURRENT_DAYS)
                ),
                s3.LifecycleRule(id="remove-expired-delete-markers", expired_object_delete_marker=True),
            ],
            cors=cors_rules(settings.cors_allowed_origins),
            **common,
        )
