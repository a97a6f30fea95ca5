"""`kiln login --browser` against the local cloud, with this test as the person's browser: the
CLI listens on its registered loopback redirect URI and prints the authorization URL; the test
signs in and approves on Kiln's real pages over HTTP and follows the redirect to the CLI, which
exchanges the code and stores the tokens. Later commands use them and refresh them."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.integration.conftest import LocalCloudProcess
from tests.integration.oauth_helpers import PASSWORD, form, new_person

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

KILN = Path(sys.executable).parent / "kiln"


def approve_as_a_browser(cloud: LocalCloudProcess, authorize_url: str, email: str) -> requests.Response:
    """What the person does in the browser the CLI opened: sign in, approve; answers the
    redirect's answer (the CLI's loopback listener)."""
    request = {name: values[0] for name, values in parse_qs(urlsplit(authorize_url).query).items()}
    page = requests.get(authorize_url, timeout=30)
    assert page.status_code == 200 and "Sign in" in page.text
    signed = requests.post(
        cloud.url + "/oauth/authorize",
        data={**request, "action": "sign_in", "email": email, "password": PASSWORD},
        timeout=30,
        allow_redirects=False,
    )
    assert signed.status_code == 200, signed.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', signed.text)
    assert csrf, signed.text
    approved = requests.post(
        cloud.url + "/oauth/authorize",
        data={**request, "action": "approve", "csrf_token": csrf.group(1)},
        headers={"Cookie": signed.headers["Set-Cookie"].split(";")[0]},
        timeout=30,
        allow_redirects=False,
    )
    assert approved.status_code == 303, approved.text
    assert approved.headers["Location"].startswith(request["redirect_uri"] + "?")
    return requests.get(approved.headers["Location"], timeout=30)  # lands on the CLI's listener


@pytest.fixture
def kiln(tmp_path: Path) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KILN_")}
    env.update({"XDG_CONFIG_HOME": str(tmp_path / "config"), "COLUMNS": "160"})

    def run(*args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(KILN), *args], capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == expect, f"kiln {' '.join(args)} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr
        return done

    run.env = env  # type: ignore[attr-defined]
    return run


def test_login_through_the_browser_then_commands_refresh_the_tokens(
    kiln: Any, local_cloud: LocalCloudProcess, tmp_path: Path
) -> None:
    url = local_cloud.url
    # An admin registers the CLI once: a loopback redirect URI on a port free now.
    registered = kiln(
        "--api-key", local_cloud.admin_key, "--base-url", url, "oauth-clients", "create",
        "--name", "kiln CLI", "--scope", "project:read", "--scope", "project:write", "--json",
    )  # fmt: skip
    client = json.loads(registered.stdout)
    redirect_uri = client["redirectUris"][0]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/callback", redirect_uri)
    person = new_person(local_cloud, scopes=("project:read", "project:write"))

    # The person signs in: the CLI waits on the redirect URI and prints where to sign in.
    login = subprocess.Popen(
        [str(KILN), "login", "--browser", "--no-browser", "--base-url", url,
         "--client-id", client["clientId"], "--redirect-uri", redirect_uri, "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=kiln.env,
    )  # fmt: skip
    try:
        assert login.stderr is not None
        shown = login.stderr.readline()
        assert shown.startswith("Sign in at: "), shown
        authorize_url = shown.removeprefix("Sign in at: ").strip()
        assert authorize_url.startswith(url + "/oauth/authorize?")
        query = parse_qs(urlsplit(authorize_url).query)
        assert query["code_challenge_method"] == ["S256"] and query["redirect_uri"] == [redirect_uri]

        # Another page guessing at the listener (no state) is turned away and changes nothing.
        assert requests.get(f"{redirect_uri}?code=stolen", timeout=10).status_code == 400

        landed = approve_as_a_browser(local_cloud, authorize_url, person["email"])
        assert landed.status_code == 200 and "Signed in" in landed.text
        stdout, stderr = login.communicate(timeout=60)
    finally:
        if login.poll() is None:
            login.kill()
    assert login.returncode == 0, stderr
    assert json.loads(stdout)["credential"] == "oauth"

    config_file = tmp_path / "config" / "kiln" / "config.json"
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    config = json.loads(config_file.read_text())
    assert "apiKey" not in config and config["clientId"] == client["clientId"]
    assert config["refreshToken"].startswith("kilnrt_") and config["accessToken"].count(".") == 2

    # Commands now act as the person, with no key anywhere.
    description = "Made by a person signed in through OAuth."
    made = kiln("projects", "create", "--name", "Signed in", "--description", description, "--json")
    created = json.loads(made.stdout)
    assert created["status"] == "draft"

    # A token the API refuses (here: mangled) is refreshed once; the rotated refresh token is saved.
    config["accessToken"] = config["accessToken"][:-4] + "AAAA"
    config_file.write_text(json.dumps(config))
    shown_project = json.loads(kiln("projects", "show", created["id"], "--json").stdout)
    assert shown_project["id"] == created["id"]
    refreshed = json.loads(config_file.read_text())
    assert refreshed["refreshToken"] != config["refreshToken"]
    assert refreshed["accessToken"] != config["accessToken"]
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600

    # The spent refresh token is really spent: presenting it again revokes the grant, and the
    # CLI then says to sign in again (exit 3) instead of failing obscurely.
    replay = form(
        local_cloud, "/oauth/token", grant_type="refresh_token",
        refresh_token=config["refreshToken"], client_id=client["clientId"],
    )  # fmt: skip
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    refreshed["accessToken"] = refreshed["accessToken"][:-4] + "AAAA"  # forces a refresh with the revoked grant
    config_file.write_text(json.dumps(refreshed))
    refused = kiln("projects", "list", expect=3)
    assert "invalid_grant" in refused.stderr and "kiln login --browser" in refused.stderr
