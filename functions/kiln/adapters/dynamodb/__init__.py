"""DynamoDB adapter: every item Kiln stores in its single table, and how it is read.

One module per item family, so a function loads only what it touches (the authorizer never
imports the projects module, hence never pydantic). The item layout and each access
pattern's key condition are documented in docs/data-model.md. Code uses GetItem, Query,
PutItem and UpdateItem only: no Scan (tests/unit/kiln/test_architecture.py checks).
"""
