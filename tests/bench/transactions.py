"""The local cloud's TransactWriteItems against moto's own, at two table sizes.

moto's TransactWriteItems deep-copies every table it names before writing; the local cloud
replaces it (local/dynamodb_transactions.py) with one that checks every condition first and
writes only then, so a transaction costs the items it names. Every Kiln event append, status
change and counter update is a transaction, and moto runs them one at a time (local.atomic),
so this cost is paid by every request of a local cloud that has been running for a while.

Each side runs in a fresh process (moto's backend is patched per process): it fills a table
with `size` items of about 300 bytes, then times `TRANSACTIONS` one-item transactions.
"""

from __future__ import annotations

import subprocess
import sys

from tests.bench.report import ratio, table, times
from tests.bench.world import ROOT

SIZES = (1_000, 10_000)
TRANSACTIONS = 20

CHILD = """\
import sys, time
import boto3
from moto import mock_aws
if {replaced!r}:
    from local import atomic
    atomic.install()
with mock_aws():
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName="t",
        KeySchema=[{{"AttributeName": "pk", "KeyType": "HASH"}}, {{"AttributeName": "sk", "KeyType": "RANGE"}}],
        AttributeDefinitions=[
            {{"AttributeName": "pk", "AttributeType": "S"}}, {{"AttributeName": "sk", "AttributeType": "S"}}
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    for n in range({size}):  # straight into the backend: filling is not what is measured
        backend.put_item("t", {{"pk": {{"S": f"W#{{n % 50}}"}}, "sk": {{"S": f"E#{{n}}"}}, "a": {{"S": "x" * 300}}}})
    t0 = time.perf_counter()
    for n in range({transactions}):
        item = {{"pk": {{"S": "X"}}, "sk": {{"S": str(n)}}}}
        client.transact_write_items(TransactItems=[{{"Put": {{"TableName": "t", "Item": item}}}}])
    print("BENCH", (time.perf_counter() - t0) / {transactions})
"""


def _per_transaction(size: int, replaced: bool) -> float:
    code = CHILD.format(size=size, replaced=replaced, transactions=TRANSACTIONS)
    env = {"PYTHONPATH": str(ROOT), "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=600
    ).stdout
    return float(next(line for line in output.splitlines() if line.startswith("BENCH")).split()[1])


def run() -> tuple[str, list[tuple[int, float, float]]]:
    results = [(size, _per_transaction(size, False), _per_transaction(size, True)) for size in SIZES]
    rows = [
        (f"{size:,} items", f"{moto * 1e3:.2f}", f"{ours * 1e3:.2f}", times(ratio(ours, moto)))
        for size, moto, ours in results
    ]
    text = table(
        "Local cloud: TransactWriteItems of one item (ms)",
        ["table", "moto's", "local cloud's", "ratio"],
        rows,
        note="moto's grows with the table (it deep-copies it); the local cloud's stays flat.",
    )
    return text, results
