"""Physical layout of Kiln's DynamoDB table, declared once for CDK, the local cloud and tests.

The logical single-table design (which item lives under which key) is in docs/data-model.md
and in the kiln.adapters.dynamodb package.
"""

PARTITION_KEY = "pk"
SORT_KEY = "sk"
GSI1 = "gsi1"
GSI1_PARTITION_KEY = "gsi1pk"
GSI1_SORT_KEY = "gsi1sk"
TTL_ATTRIBUTE = "expiresAtEpoch"
# The table's stream: every change with the item before and after it (kiln.workers.table_stream).
STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"
STREAM_SPECIFICATION = {"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE}


def create_table_kwargs(table_name: str) -> dict:
    """Arguments for DynamoDB CreateTable matching the CDK definition in infra/."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"}
            for name in (PARTITION_KEY, SORT_KEY, GSI1_PARTITION_KEY, GSI1_SORT_KEY)
        ],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": GSI1,
                "KeySchema": [
                    {"AttributeName": GSI1_PARTITION_KEY, "KeyType": "HASH"},
                    {"AttributeName": GSI1_SORT_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }


def create_connections_table_kwargs(table_name: str) -> dict:
    """CreateTable for the WebSocket connections' table (kiln.adapters.dynamodb.connections):
    keys only, no index, no stream; TTL on the same attribute as the main table."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in (PARTITION_KEY, SORT_KEY)],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
    }
