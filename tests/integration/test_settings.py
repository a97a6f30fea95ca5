"""Function settings (kiln.config) through the local cloud: checked at start, then in effect."""

from __future__ import annotations

import pytest
import requests

from kiln import config


def test_a_malformed_setting_stops_the_local_cloud_with_its_message(local_cloud_factory):
    with pytest.raises(RuntimeError) as failure:
        local_cloud_factory(env={config.SSE_HOLD_SECONDS: "soon", config.BUILD_TASK_CONCURRENCY: "0"})
    message = str(failure.value)
    assert "the local cloud exited with 2" in message
    assert (
        "local cloud could not start: invalid ApiSettings: "
        "KILN_BUILD_TASK_CONCURRENCY must be a whole number >= 1, got '0'; "
        "KILN_SSE_HOLD_SECONDS must be a number of seconds >= 0, got 'soon'"
    ) in message


def test_a_well_formed_setting_reaches_the_functions(local_cloud_factory):
    cloud = local_cloud_factory(env={config.DOCS_URL: "https://docs.example.com/kiln"})
    response = requests.get(f"{cloud.url}/", timeout=10)
    assert response.status_code == 200
    assert response.json()["data"]["docs"] == "https://docs.example.com/kiln"
