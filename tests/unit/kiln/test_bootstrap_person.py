"""The local cloud's bootstrap person (kiln.bootstrap.provision_person) on moto."""

from __future__ import annotations

import boto3
import pytest

from kiln import bootstrap, services
from kiln.domain.access import ALL_SCOPES
from tests.unit.conftest import TABLE

pytestmark = pytest.mark.usefixtures("cloud")

PASSWORD = "a bootstrap password"


def test_a_person_joins_the_admin_workspace_once_and_no_password_is_kept():
    key = bootstrap.provision_admin()
    assert bootstrap.provision_person(key, " Owner@Example.com", PASSWORD) == "owner@example.com"
    # Started again with the same settings: the person is kept, not duplicated or refused.
    assert bootstrap.provision_person(key, "owner@example.com", "another password!") == "owner@example.com"
    people = services.current().people
    person = people.verify_password("owner@example.com", PASSWORD)
    assert person is not None and person.scopes == ALL_SCOPES
    admin_key = services.current().access.find_key(key)
    assert admin_key is not None and person.workspace_id == admin_key.workspace_id
    assert PASSWORD not in str(boto3.client("dynamodb").scan(TableName=TABLE)["Items"])


def test_an_unknown_admin_key_is_refused():
    with pytest.raises(ValueError, match="unknown"):
        bootstrap.provision_person("kiln_" + "a" * 43, "owner@example.com", PASSWORD)
