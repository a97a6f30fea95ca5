"""The OAuth authorization server over HTTP against a local cloud: a client registered through
/v1/oauth/clients, a person who signs in and approves on the /oauth/authorize pages, then what
the client sees at /oauth/token, /oauth/revoke and /oauth/introspect, and what a token can do
on the API itself (the authorizer asks whether its grant is still active)."""

from __future__ import annotations

import threading

import pytest
import requests

from tests.integration.oauth_helpers import (
    REDIRECT,
    authorize,
    call,
    exchange,
    form,
    new_client,
    new_person,
    pkce,
    tokens,
)

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]


@pytest.fixture(scope="module")
def setup(local_cloud):
    person = new_person(local_cloud, ["project:read", "project:write"])
    client = new_client(local_cloud, ["project:read", "admin"])
    return {"email": person["email"], "person": person, "client": client}


def code_for(cloud, setup, challenge: str, scope: str = "project:read admin") -> str:
    return authorize(cloud, setup["email"], setup["client"]["clientId"], challenge, scope)


def refresh(cloud, setup, token: str) -> requests.Response:
    return form(
        cloud, "/oauth/token", grant_type="refresh_token", refresh_token=token, client_id=setup["client"]["clientId"]
    )


def introspect(cloud, token: str) -> dict:
    answer = requests.post(
        cloud.url + "/oauth/introspect",
        data={"token": token},
        headers={"Authorization": f"Bearer {cloud.admin_key}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def issued(cloud, setup) -> dict:
    return tokens(cloud, setup["email"], setup["client"])


def test_registered_clients_are_listed_and_bad_redirect_uris_refused(local_cloud, setup):
    listed = call(local_cloud, "GET", "/v1/oauth/clients").json()["data"]
    assert setup["client"]["clientId"] in [c["clientId"] for c in listed]
    assert setup["client"]["redirectUris"] == [REDIRECT] and setup["client"]["scopes"] == ["project:read", "admin"]
    bad = call(
        local_cloud,
        "POST",
        "/v1/oauth/clients",
        json={"name": "Evil", "redirectUris": ["http://evil.example.com/cb"], "scopes": ["project:read"]},
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "VALIDATION_ERROR"


def test_a_code_becomes_tokens_that_work_on_the_api(local_cloud, setup):
    answer = issued(local_cloud, setup)
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 900
    # Granted: requested ∩ the client's ∩ the person's (who has no admin scope).
    assert answer["scope"] == "project:read"
    projects = call(local_cloud, "GET", "/v1/projects", key=answer["access_token"])
    assert projects.status_code == 200, projects.text
    described = introspect(local_cloud, answer["access_token"])
    assert described["active"] is True and described["sub"] == setup["person"]["id"]
    assert described["client_id"] == setup["client"]["clientId"] and described["scope"] == "project:read"


def test_the_token_answer_is_never_cached_and_errors_are_rfc6749_json(local_cloud, setup):
    verifier, challenge = pkce()
    code = code_for(local_cloud, setup, challenge)
    wrong = exchange(local_cloud, setup["client"]["clientId"], code, pkce()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert "success" not in wrong.json() and wrong.headers["Cache-Control"] == "no-store"
    # The wrong verifier did not spend the code.
    good = exchange(local_cloud, setup["client"]["clientId"], code, verifier)
    assert good.status_code == 200 and good.headers["Cache-Control"] == "no-store"
    json_body = requests.post(local_cloud.url + "/oauth/token", json={"grant_type": "refresh_token"}, timeout=30)
    assert json_body.status_code == 400 and json_body.json()["error"] == "invalid_request"
    other = form(local_cloud, "/oauth/token", grant_type="password", client_id=setup["client"]["clientId"])
    assert other.json()["error"] == "unsupported_grant_type"


def test_a_reused_code_is_refused_and_ends_the_tokens_it_gave(local_cloud, setup):
    verifier, challenge = pkce()
    code = code_for(local_cloud, setup, challenge)
    first = exchange(local_cloud, setup["client"]["clientId"], code, verifier).json()
    again = exchange(local_cloud, setup["client"]["clientId"], code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert introspect(local_cloud, first["access_token"]) == {"active": False}
    assert call(local_cloud, "GET", "/v1/projects", key=first["access_token"]).status_code == 401
    assert refresh(local_cloud, setup, first["refresh_token"]).json()["error"] == "invalid_grant"


def test_refresh_rotates_and_a_replay_revokes_the_family(local_cloud, setup):
    first = issued(local_cloud, setup)
    second = refresh(local_cloud, setup, first["refresh_token"])
    assert second.status_code == 200, second.text
    second_tokens = second.json()
    assert second_tokens["refresh_token"] != first["refresh_token"]
    assert introspect(local_cloud, second_tokens["access_token"])["active"] is True
    replay = refresh(local_cloud, setup, first["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert introspect(local_cloud, second_tokens["access_token"]) == {"active": False}
    assert introspect(local_cloud, second_tokens["refresh_token"]) == {"active": False}
    assert refresh(local_cloud, setup, second_tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_concurrent_refreshes_with_one_token_have_exactly_one_success(local_cloud, setup):
    first = issued(local_cloud, setup)
    barrier = threading.Barrier(3)
    statuses: list[int] = []

    def go() -> None:
        barrier.wait()
        statuses.append(refresh(local_cloud, setup, first["refresh_token"]).status_code)

    threads = [threading.Thread(target=go) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 400, 400]


def test_revoking_a_token_ends_its_grant_and_unknown_tokens_are_fine(local_cloud, setup):
    answer = issued(local_cloud, setup)
    client_id = setup["client"]["clientId"]
    revoked = form(local_cloud, "/oauth/revoke", token=answer["access_token"], client_id=client_id)
    assert revoked.status_code == 200, revoked.text
    assert call(local_cloud, "GET", "/v1/projects", key=answer["access_token"]).status_code == 401
    assert refresh(local_cloud, setup, answer["refresh_token"]).json()["error"] == "invalid_grant"
    assert form(local_cloud, "/oauth/revoke", token="nonsense", client_id=client_id).status_code == 200


def test_deleting_the_client_ends_its_tokens(local_cloud, setup):
    client = call(
        local_cloud,
        "POST",
        "/v1/oauth/clients",
        json={"name": "Short-lived", "redirectUris": [REDIRECT], "scopes": ["project:read"]},
    ).json()["data"]
    own = {**setup, "client": client}
    answer = issued(local_cloud, own)
    assert call(local_cloud, "DELETE", f"/v1/oauth/clients/{client['clientId']}").status_code == 204
    assert introspect(local_cloud, answer["access_token"]) == {"active": False}
    assert call(local_cloud, "DELETE", f"/v1/oauth/clients/{client['clientId']}").status_code == 404
