"""The local cloud: Kiln's API, state and workflows in one process, without Docker or AWS.

`python -m local` (or `make run`) starts moto (DynamoDB, S3, Step Functions, Secrets Manager,
API Gateway) behind a Lambda Invoke shim, provisions what CDK would, mints the bootstrap admin
key and serves an API Gateway REST v1 emulator built from `kiln.routes`. Handlers run
in-process, unmodified, against the emulated AWS endpoints.
"""
