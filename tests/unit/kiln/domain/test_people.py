"""People through the shared fakes: emails, passwords (scrypt), scopes within the caller's,
tenancy, and a sign-in check that answers alike for an unknown email and a wrong password."""

from __future__ import annotations

import base64
import hashlib

import pytest

from kiln.domain import people as people_module
from kiln.domain.access import Principal, Workspace
from kiln.domain.people import (
    PeopleService,
    PersonChanges,
    PersonRequest,
    hash_password,
    password_matches,
)
from kiln.envelope import KilnError
from tests.fakes import FakeAccess, FakeClock, FakePeople

WS = "ws_01m885m8rskqxxjknrtpgbxm1p"
OTHER_WS = "ws_01m885m8rskqxxjknrtpgbxm2p"
PASSWORD = "correct horse battery staple"
ADMIN = Principal(WS, "key_01m885m8rskqxxjknrtpgbxm1q", frozenset({"project:read", "admin"}), "pro")


@pytest.fixture
def world() -> tuple[PeopleService, FakePeople]:
    store, access = FakePeople(), FakeAccess()
    for ws in (WS, OTHER_WS):
        access.insert_workspace(Workspace(ws, ws, "pro", "u", "v", "2026-01-01T00:00:00.000Z"))
    return PeopleService(store, access, FakeClock()), store


def create(service: PeopleService, email: str = "Ada@Example.com", **overrides) -> object:
    request = {"email": email, "name": "Ada", "password": PASSWORD, "scopes": ("project:read",), **overrides}
    return service.create(ADMIN, PersonRequest(**request))


def refusal(call) -> KilnError:
    with pytest.raises(KilnError) as caught:
        call()
    return caught.value


def test_a_person_is_stored_with_a_normalised_email_and_a_scrypt_hash(world):
    service, store = world
    person = create(service, " Ada@Example.COM ")
    assert person.email == "ada@example.com" and person.workspace_id == WS and person.id.startswith("usr_")
    stored = store.people[(WS, person.id)]
    assert PASSWORD not in repr(stored)
    scheme, n, r, p, salt, key = stored.password_hash.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(2**15), "8", "1")
    assert len(base64.b64decode(salt + "==")) == 16
    expected = hashlib.scrypt(
        PASSWORD.encode(), salt=base64.b64decode(salt + "=="), n=2**15, r=8, p=1, maxmem=2**26, dklen=32
    )
    assert base64.b64decode(key + "=") == expected
    assert stored.created_at == stored.updated_at == stored.password_changed_at


def test_each_hash_has_its_own_salt_and_keeps_its_parameters():
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second and password_matches(PASSWORD, first) and password_matches(PASSWORD, second)
    assert not password_matches(PASSWORD + "!", first)
    # A hash made with other parameters is verified with its own (they can be raised later).
    salt = b"0123456789abcdef"
    low = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**10, r=8, p=1, dklen=32)
    encoded = f"scrypt$1024$8$1${base64.b64encode(salt).decode()}${base64.b64encode(low).decode()}"
    assert password_matches(PASSWORD, encoded)
    assert not password_matches(PASSWORD, "bcrypt$whatever") and not password_matches(PASSWORD, "scrypt$1$2")


@pytest.mark.parametrize("password", ["a" * 11, "b" * 257, ""])
def test_a_password_outside_12_to_256_characters_is_refused_and_never_echoed(world, password):
    service, store = world
    error = refusal(lambda: create(service, password=password))
    assert error.code.value == "VALIDATION_ERROR"
    assert error.details["fields"][0]["field"] == "password"
    assert (password or "\x00") not in str(error.details) and not store.people


def test_an_email_is_unique_case_insensitively_across_workspaces(world):
    service, store = world
    create(service, "ada@example.com")
    error = refusal(lambda: create(service, "ADA@example.com", workspace_id=OTHER_WS))
    assert error.code.value == "CONFLICT" and error.details["reason"] == "email_taken"
    assert len(store.people) == 1


def test_scopes_never_exceed_the_creator_s(world):
    service, store = world
    error = refusal(lambda: create(service, scopes=("project:read", "project:write")))
    assert error.code.value == "FORBIDDEN" and error.details["missingScopes"] == ["project:write"]
    person = create(service)
    error = refusal(lambda: service.update(ADMIN, person.id, PersonChanges(scopes=("ai:invoke",))))
    assert error.code.value == "FORBIDDEN"
    assert store.people[(WS, person.id)].scopes == ("project:read",)


def test_another_workspace_s_person_is_not_found_and_a_named_workspace_is_reached_by_admin(world):
    service, _ = world
    theirs = create(service, workspace_id=OTHER_WS)
    assert theirs.workspace_id == OTHER_WS
    for call in (
        lambda: service.get(ADMIN, theirs.id),
        lambda: service.update(ADMIN, theirs.id, PersonChanges(name="x")),
        lambda: service.delete(ADMIN, theirs.id),
    ):
        assert refusal(call).code.value == "NOT_FOUND"
    assert service.get(ADMIN, theirs.id, OTHER_WS) == theirs
    outsider = Principal(OTHER_WS, "key_x", frozenset({"project:read"}), "pro")
    assert refusal(lambda: service.get(outsider, theirs.id, WS)).code.value == "FORBIDDEN"


def test_update_moves_the_email_rehashes_the_password_and_delete_frees_the_email(world):
    service, store = world
    person = create(service)
    create(service, "grace@example.com")
    assert refusal(lambda: service.update(ADMIN, person.id, PersonChanges(email="Grace@example.com"))).code.value == (
        "CONFLICT"
    )
    updated = service.update(
        ADMIN, person.id, PersonChanges(email="Lovelace@Example.com", name="Ada L.", password="a new long password")
    )
    assert updated.email == "lovelace@example.com" and updated.name == "Ada L."
    assert updated.password_changed_at > person.password_changed_at
    assert set(store.emails) == {"lovelace@example.com", "grace@example.com"}
    assert service.verify_password("lovelace@example.com", "a new long password") == updated
    assert service.verify_password("lovelace@example.com", PASSWORD) is None
    service.delete(ADMIN, person.id)
    assert set(store.emails) == {"grace@example.com"}
    create(service, "lovelace@example.com")  # the email is free again


def test_listing_in_both_modes_newest_first(world):
    service, _ = world
    made = [create(service, f"p{i}@example.com") for i in range(3)]
    create(service, "elsewhere@example.com", workspace_id=OTHER_WS)
    page, total = service.list_page(ADMIN, None, 1, 2)
    assert total == 3 and [p.id for p in page] == [made[2].id, made[1].id]
    first, after = service.list_cursor(ADMIN, None, 2, None)
    rest, end = service.list_cursor(ADMIN, None, 2, after)
    assert [p.id for p in first + rest] == [m.id for m in reversed(made)] and end is None


def test_verify_password_answers_alike_and_spends_the_kdf_on_an_unknown_email(world, monkeypatch):
    service, _ = world
    person = create(service)
    assert service.verify_password("ADA@example.com", PASSWORD) == person
    derivations: list[int] = []
    people_module._dummy_hash()  # made once, on first use: not part of what is counted
    real = people_module._derive

    def counting(*args):
        derivations.append(args[2])
        return real(*args)

    monkeypatch.setattr(people_module, "_derive", counting)
    assert service.verify_password("ada@example.com", "wrong password!") is None
    assert service.verify_password("nobody@example.com", PASSWORD) is None
    assert service.verify_password("not an email", PASSWORD) is None
    # One full-cost derivation each: a miss is not answered faster than a wrong password.
    assert derivations == [2**15, 2**15, 2**15]
