"""TransactWriteItems in the emulation: all or nothing, the reasons DynamoDB gives, idempotent by token."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local import atomic

TABLE = "transactions"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    atomic.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        yield client


def key(sk: str) -> dict[str, Any]:
    return {"pk": {"S": "P"}, "sk": {"S": sk}}


def put(sk: str, **attributes: Any) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": {**key(sk), **attributes}}}


def items(client: Any) -> dict[str, dict[str, Any]]:
    return {i["sk"]["S"]: i for i in client.scan(TableName=TABLE)["Items"]}


def stream_records(client: Any) -> list[Any]:
    # moto's in-process streams API answers 404; its shard is what the local poller reads anyway.
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return list(dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables[TABLE].stream_shard.items)


def cancellation(error: pytest.ExceptionInfo[ClientError]) -> list[dict[str, Any]]:
    assert error.value.response["Error"]["Code"] == "TransactionCanceledException"
    return list(error.value.response["CancellationReasons"])


def test_a_transaction_writes_every_item_and_a_stream_record_each(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item={**key("counter"), "n": {"N": "1"}})
    dynamodb.transact_write_items(
        TransactItems=[
            put("a", v={"S": "1"}),
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": key("counter"),
                    "UpdateExpression": "SET n = n + :one",
                    "ConditionExpression": "n = :current",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":current": {"N": "1"}},
                }
            },
            {"Delete": {"TableName": TABLE, "Key": key("absent")}},
        ]
    )
    stored = items(dynamodb)
    assert stored["a"]["v"] == {"S": "1"} and stored["counter"]["n"] == {"N": "2"}
    assert [r.to_json()["eventName"] for r in stream_records(dynamodb)] == ["INSERT", "INSERT", "MODIFY"]


def test_a_failed_condition_cancels_everything_with_a_reason_per_item(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item={**key("taken"), "v": {"S": "old"}})
    before = items(dynamodb)
    with pytest.raises(ClientError) as error:
        dynamodb.transact_write_items(
            TransactItems=[
                put("new", v={"S": "1"}),
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {**key("taken"), "v": {"S": "new"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        )
    reasons = cancellation(error)
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed"]
    assert reasons[1]["Item"]["v"] == {"S": "old"}
    assert items(dynamodb) == before
    assert len(stream_records(dynamodb)) == 1  # the put before the transaction only


def test_a_write_that_fails_while_applying_is_undone_with_its_stream_records(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item={**key("text"), "v": {"S": "not a number"}})
    dynamodb.put_item(TableName=TABLE, Item={**key("kept"), "v": {"S": "before"}})
    before = copy.deepcopy(items(dynamodb))
    with pytest.raises(ClientError) as error:
        dynamodb.transact_write_items(
            TransactItems=[
                put("kept", v={"S": "after"}),
                put("fresh", v={"S": "1"}),
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": key("text"),
                        "UpdateExpression": "SET v = v + :one",  # a string plus a number
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
        )
    assert error.value.response["Error"]["Code"] in ("TransactionCanceledException", "ValidationException")
    assert items(dynamodb) == before
    assert len(stream_records(dynamodb)) == 2


def test_two_operations_on_one_item_are_a_validation_error_and_write_nothing(dynamodb: Any) -> None:
    with pytest.raises(ClientError) as error:
        dynamodb.transact_write_items(TransactItems=[put("a"), put("b"), put("a")])
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert items(dynamodb) == {}


def test_a_token_repeated_after_success_writes_nothing_again(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item={**key("counter"), "n": {"N": "0"}})
    increment = [
        {
            "Update": {
                "TableName": TABLE,
                "Key": key("counter"),
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }
    ]
    # What botocore does when a response is lost: the same call, the same token, again.
    dynamodb.transact_write_items(TransactItems=increment, ClientRequestToken="retried-call")
    dynamodb.transact_write_items(TransactItems=increment, ClientRequestToken="retried-call")
    assert items(dynamodb)["counter"]["n"] == {"N": "1"}

    dynamodb.transact_write_items(TransactItems=increment, ClientRequestToken="another-call")
    assert items(dynamodb)["counter"]["n"] == {"N": "2"}

    with pytest.raises(ClientError) as error:
        dynamodb.transact_write_items(TransactItems=[put("other")], ClientRequestToken="retried-call")
    assert error.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert "other" not in items(dynamodb)


def test_a_cancelled_transaction_may_be_sent_again_with_its_token(dynamodb: Any) -> None:
    guarded = [
        {
            "Put": {
                "TableName": TABLE,
                "Item": {**key("guarded"), "v": {"S": "1"}},
                "ConditionExpression": "attribute_exists(pk)",
            }
        }
    ]
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=guarded, ClientRequestToken="after-a-failure")
    dynamodb.put_item(TableName=TABLE, Item={**key("guarded"), "v": {"S": "0"}})
    dynamodb.transact_write_items(TransactItems=guarded, ClientRequestToken="after-a-failure")
    assert items(dynamodb)["guarded"]["v"] == {"S": "1"}
