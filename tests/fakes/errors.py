"""Failures the fakes raise where the DynamoDB adapters let a ClientError through untranslated."""

from __future__ import annotations


class ConditionFailed(Exception):
    """A conditional write the real table refuses and no adapter translates (a duplicate key on
    an insert, a transaction that lost to a write the domain never expects): the stand-in for
    botocore's ConditionalCheckFailedException / TransactionCanceledException."""
