"""The S3 bucket for uploads, exports and scratch files, plus its server access log bucket."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.nag import acknowledge
from infra.settings import Settings

TMP_PREFIX = "tmp/"
EXPORTS_PREFIX = "exports/"


class Storage(Construct):
    def __init__(self, scope: Construct, id: str, *, settings: Settings) -> None:
        super().__init__(scope, id)
        common = dict(
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
            self, "AccessLogs",
            lifecycle_rules=[s3.LifecycleRule(id="expire-access-logs", expiration=Duration.days(90),
                                              abort_incomplete_multipart_upload_after=Duration.days(1))],
            **common,
        )
        acknowledge(self.log_bucket, "AwsSolutions-S1",
                    "This bucket receives the data bucket's server access logs; logging it to itself "
                    "would loop and logging it elsewhere only moves the problem.")

        self.bucket = s3.Bucket(
            self, "Bucket",
            versioned=True,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="data-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-tmp", prefix=TMP_PREFIX, expiration=Duration.days(1),
                                 noncurrent_version_expiration=Duration.days(1)),
                s3.LifecycleRule(id="expire-exports", prefix=EXPORTS_PREFIX, expiration=Duration.days(7),
                                 noncurrent_version_expiration=Duration.days(1)),
                s3.LifecycleRule(id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
                # Versioning protects against overwrites; old versions are kept 30 days, not forever.
                s3.LifecycleRule(id="expire-noncurrent-versions", noncurrent_version_expiration=Duration.days(30)),
                s3.LifecycleRule(id="remove-expired-delete-markers", expired_object_delete_marker=True),
            ],
            **common,
        )
