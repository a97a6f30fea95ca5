"""The DynamoDB single table, built from kiln.adapters.schema (the local cloud uses the same constants)."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.settings import Settings
from kiln.adapters import schema


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class Data(Construct):
    def __init__(self, scope: Construct, id: str, *, settings: Settings) -> None:
        super().__init__(scope, id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=_string(schema.PARTITION_KEY),
            sort_key=_string(schema.SORT_KEY),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True,
            ),
            time_to_live_attribute=schema.TTL_ATTRIBUTE,
            # Every change, with the item before and after it, for kiln.workers.table_stream (the
            # events of CONTRACT section 8, stats, real time; docs/events.md says why a stream).
            stream=dynamodb.StreamViewType(schema.STREAM_VIEW_TYPE),
            deletion_protection=not settings.dev,
            removal_policy=settings.removal_policy,
        )
        self.table.add_global_secondary_index(
            index_name=schema.GSI1,
            partition_key=_string(schema.GSI1_PARTITION_KEY),
            sort_key=_string(schema.GSI1_SORT_KEY),
            projection_type=dynamodb.ProjectionType.ALL,
        )
