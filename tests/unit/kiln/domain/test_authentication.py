"""The credential chain and the authorizer context that carries a principal to the functions."""

from __future__ import annotations

import pytest

from kiln.domain.access import Principal
from kiln.domain.authentication import principal_context, principal_from_context
from kiln.http.request import principal_of

KEY = Principal("ws_1", "key_1", frozenset({"project:read", "admin"}), "pro", ("/v1/projects/**",))
TOKEN = Principal(
    "ws_1", "user_1", frozenset({"project:read"}), "free", credential="token", user_id="user_1", client_id="client_1"
)
SESSION = Principal(
    "ws_1", "user_1", frozenset({"ai:invoke"}), "team", credential="session", user_id="user_1", csrf_hash="ab" * 32
)


def test_a_key_principal_keeps_its_defaults():
    assert (KEY.credential, KEY.user_id, KEY.client_id, KEY.csrf_hash) == ("key", None, None, None)


def test_context_values_are_strings_and_absent_fields_are_omitted():
    context = principal_context(KEY)
    assert all(isinstance(value, str) for value in context.values())
    assert context["credential"] == "key" and context["scopes"] == "admin project:read"
    assert not {"userId", "clientId", "csrfHash"} & context.keys()
    assert principal_context(TOKEN)["clientId"] == "client_1" and "csrfHash" not in principal_context(TOKEN)
    assert principal_context(SESSION)["csrfHash"] == "ab" * 32 and "clientId" not in principal_context(SESSION)


@pytest.mark.parametrize("principal", [KEY, TOKEN, SESSION], ids=["key", "token", "session"])
def test_principal_of_reads_back_what_the_authorizer_wrote(principal):
    event = {"requestContext": {"authorizer": principal_context(principal)}}
    assert principal_of(event) == principal


def test_a_context_written_before_credentials_existed_is_a_key():
    context = {"workspaceId": "ws_1", "keyId": "key_1", "scopes": "project:read", "tier": "free"}
    assert principal_from_context(context) == Principal("ws_1", "key_1", frozenset({"project:read"}), "free")


@pytest.mark.parametrize(
    "context",
    [
        {},
        {"workspaceId": "ws_1"},
        {"keyId": "key_1"},
        {"workspaceId": "ws_1", "keyId": "key_1", "credential": "password"},
    ],
)
def test_a_context_naming_no_known_caller_is_no_principal(context):
    assert principal_of({"requestContext": {"authorizer": context}}) is None
    assert principal_of({}) is None
