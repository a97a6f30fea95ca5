from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiln.domain.access import (
    ALL_SCOPES,
    AccessService,
    ApiKey,
    KeyRequest,
    Principal,
    canonical_paths,
    canonical_scopes,
    generate_secret,
    glob_within,
    hash_secret,
    is_well_formed,
    key_view,
    parse_bearer,
)
from kiln.envelope import ErrorCode, KilnError
from kiln.http.api import path_allowed
from tests.fakes import FakeClock, FakeWorld


def test_generated_secrets_are_well_formed_and_unique():
    secrets = {generate_secret() for _ in range(200)}
    assert len(secrets) == 200
    assert all(is_well_formed(s) and len(s) == 48 for s in secrets)


def test_hash_is_sha256_hex():
    import hashlib

    assert hash_secret("kiln_x") == hashlib.sha256(b"kiln_x").hexdigest()
    assert len(hash_secret("kiln_x")) == 64


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80))
def test_parse_bearer_accepts_only_bearer_kiln_keys(header):
    token = parse_bearer(header)
    assert token is None or (is_well_formed(token) and header.strip().lower().startswith("bearer"))


def test_key_usability():
    key = ApiKey("key_x", "ws", "n", "kiln_abc", "h", ("project:read",), expires_at="2026-12-01T00:00:00.000Z")
    assert key.usable_at(datetime(2026, 11, 30, tzinfo=UTC))
    assert not key.usable_at(datetime(2026, 12, 1, tzinfo=UTC))


# --- rotation, revocation and status ------------------------------------------------------------

NOON = datetime(2026, 6, 1, 12, tzinfo=UTC)


def test_a_superseded_secret_works_until_its_grace_period_ends():
    old = ApiKey(
        "key_x",
        "ws",
        "n",
        "kiln_abc",
        "h",
        ("project:read",),
        superseded_at="2026-06-01T00:00:00.000Z",
        grace_until="2026-06-01T12:00:00.000Z",
    )
    assert old.usable_at(datetime(2026, 6, 1, 11, 59, 59, tzinfo=UTC))
    assert not old.usable_at(NOON)


def test_status_precedence():
    key = ApiKey("key_x", "ws", "n", "kiln_abc", "h", ("project:read",))
    assert key.status_at(NOON) == "active"
    rotating = ApiKey(
        "key_x",
        "ws",
        "n",
        "kiln_abc",
        "h",
        ("project:read",),
        previous_secret_hash="g",
        previous_secret_expires_at="2026-06-01T13:00:00.000Z",
    )
    assert rotating.status_at(NOON) == "rotated"
    assert rotating.status_at(datetime(2026, 6, 1, 13, tzinfo=UTC)) == "active"
    expired = ApiKey(
        "key_x",
        "ws",
        "n",
        "kiln_abc",
        "h",
        ("project:read",),
        expires_at="2026-06-01T12:00:00.000Z",
        previous_secret_hash="g",
        previous_secret_expires_at="2026-06-01T13:00:00.000Z",
    )
    assert expired.status_at(NOON) == "expired"
    revoked = ApiKey(
        "key_x",
        "ws",
        "n",
        "kiln_abc",
        "h",
        ("project:read",),
        expires_at="2026-06-01T12:00:00.000Z",
        revoked_at="2026-05-01T00:00:00.000Z",
    )
    assert revoked.status_at(NOON) == "revoked"


def test_the_view_never_carries_a_hash():
    key = ApiKey(
        "key_x",
        "ws",
        "n",
        "kiln_abc",
        "secret-hash",
        ("project:read",),
        previous_secret_hash="previous-hash",
        previous_secret_expires_at="2026-06-01T13:00:00.000Z",
    )
    view = key_view(key, NOON)
    assert "secret-hash" not in str(view) and "previous-hash" not in str(view)
    assert view["status"] == "rotated" and view["previousSecretExpiresAt"] == "2026-06-01T13:00:00.000Z"


def test_scopes_are_known_deduplicated_and_in_canonical_order():
    assert canonical_scopes(["admin", "project:read", "admin"]) == ("project:read", "admin")
    assert canonical_scopes(list(reversed(ALL_SCOPES))) == ALL_SCOPES
    with pytest.raises(KilnError) as empty:
        canonical_scopes([])
    assert empty.value.details["fields"][0]["field"] == "scopes"
    with pytest.raises(KilnError) as unknown:
        canonical_scopes(["project:read", "root"])
    assert unknown.value.details["fields"][0]["field"] == "scopes.1"


def test_path_globs_start_with_a_slash_and_are_bounded():
    assert canonical_paths(["/a", "/b/*", "/a"]) == ("/a", "/b/*")
    for bad in (["a"], ["/a b"], ["/" + "x" * 200], [f"/p{i}" for i in range(21)], [""]):
        with pytest.raises(KilnError):
            canonical_paths(bad)


@pytest.mark.parametrize(
    "inner, outer, within",
    [
        ("/v1/projects", "/v1/projects", True),
        ("/v1/projects/*", "/v1/projects/**", True),
        ("/v1/projects/proj_1", "/v1/projects/*", True),
        ("/v1/projects/*/runs", "/v1/projects/**", True),
        ("/v1/projects/*/runs", "/v1/projects/*/*", True),
        ("/v1/projects/a*", "/v1/projects/*", True),
        ("/v1/projects/?", "/v1/projects/*", True),
        ("/v1/**", "/**", True),
        ("/v1/projects", "/v1/projects/*", False),  # `*` is one whole segment, never an empty path
        ("/v1/projects/**", "/v1/projects/*", False),
        ("/v1/projects/*", "/v1/projects", False),
        ("/v1/projects/*/runs", "/v1/projects/*", False),
        ("/v1/*", "/v1/projects", False),
        ("/v1/projects/*", "/v1/projects/a*", False),
        ("/v1/workspaces", "/v1/projects/**", False),
    ],
)
def test_glob_within(inner, outer, within):
    assert glob_within(inner, outer) is within


_SEGMENTS = st.sampled_from(["a", "b", "ab", "*", "**", "?", "a*", "*b"])
_GLOBS = st.lists(_SEGMENTS, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts))
_PATHS = st.lists(st.sampled_from(["a", "b", "ab", "ba", "aab", ""]), min_size=1, max_size=5).map(
    lambda parts: "/" + "/".join(parts)
)


@settings(max_examples=400, deadline=None)
@given(_GLOBS, _GLOBS, _PATHS)
def test_glob_within_is_sound_for_the_pipeline_s_matcher(inner, outer, path):
    """Whatever `inner` lets through, `outer` lets through too, as kiln.http.api matches paths."""
    if glob_within(inner, outer) and path_allowed(path, (inner,)):
        assert path_allowed(path, (outer,))


# --- AccessService on the shared fakes ------------------------------------------------------------------


def access_world() -> tuple[FakeWorld, AccessService, Principal]:
    """A workspace and its admin key; the principal is what the authorizer hands the functions."""
    fakes = FakeWorld(clock=FakeClock(NOON, step=timedelta(0)))
    service = fakes.access_service()
    workspace = service.create_workspace("Acme", "pro")
    key, _ = service.mint_key(workspace.id, "admin", ALL_SCOPES)
    return fakes, service, Principal(workspace.id, key.id, frozenset(key.scopes), "pro")


def test_a_workspace_is_metered_in_its_tier_and_moves_plans_with_its_tier():
    fakes, service, admin = access_world()
    workspace = service.get_workspace(admin.workspace_id)
    assert fakes.usage_keys.tier_of(workspace.usage_key_id) == "pro"
    assert service.update_workspace(workspace.id, tier="enterprise").tier == "enterprise"
    assert fakes.usage_keys.tier_of(workspace.usage_key_id) == "enterprise"


def test_a_tier_change_that_cannot_be_stored_moves_the_meter_back():
    fakes, service, admin = access_world()
    workspace = service.get_workspace(admin.workspace_id)
    fakes.access.fail_next("update_workspace", RuntimeError("throttled"))
    with pytest.raises(RuntimeError):
        service.update_workspace(workspace.id, tier="free")
    assert fakes.usage_keys.tier_of(workspace.usage_key_id) == "pro"
    assert service.get_workspace(workspace.id).tier == "pro"


def test_a_workspace_that_cannot_be_stored_leaves_no_meter():
    fakes = FakeWorld()
    fakes.access.fail_next("insert_workspace", RuntimeError("throttled"))
    with pytest.raises(RuntimeError):
        fakes.access_service().create_workspace("Acme", "free")
    assert fakes.usage_keys.values == {} and all(not keys for keys in fakes.usage_keys.plans.values())


def test_a_rotated_key_has_two_working_secrets_until_the_grace_period_ends_then_one():
    fakes, service, admin = access_world()
    key, first = service.create_key(admin, KeyRequest(name="ci", scopes=("project:read",)))
    rotated, second = service.rotate_key(admin, key.id, grace=timedelta(hours=1))
    assert rotated.id == key.id and rotated.previous_secret_expires_at == "2026-06-01T13:00:00.000Z"
    for secret in (first, second):
        authenticated = service.authenticate(f"Bearer {secret}")
        assert authenticated is not None and authenticated.principal.key_id == key.id
    fakes.clock.advance(hours=1)
    assert service.authenticate(f"Bearer {first}") is None and service.authenticate(f"Bearer {second}") is not None
    listed, total = service.list_keys_page(admin, None, 1, 10)
    assert total == 2 and [k.id for k in listed].count(key.id) == 1


def test_revoking_stops_every_secret_of_the_key_and_is_idempotent():
    fakes, service, admin = access_world()
    key, first = service.create_key(admin, KeyRequest(name="ci", scopes=("project:read",)))
    _, second = service.rotate_key(admin, key.id)
    revoked = service.revoke_key(admin, key.id)
    fakes.clock.advance(minutes=1)
    assert service.revoke_key(admin, key.id).revoked_at == revoked.revoked_at
    assert service.authenticate(f"Bearer {first}") is None and service.authenticate(f"Bearer {second}") is None
    error = refused_by(lambda: service.rotate_key(admin, key.id))
    assert error.code is ErrorCode.CONFLICT and error.details["currentStatus"] == "revoked"


def test_of_two_concurrent_rotations_one_wins_and_the_other_is_told_to_retry():
    fakes, service, admin = access_world()
    key, _ = service.create_key(admin, KeyRequest(name="ci", scopes=("project:read",)))
    fakes.access.before("rotate_key", lambda: service.rotate_key(admin, key.id))
    error = refused_by(lambda: service.rotate_key(admin, key.id))
    assert error.code is ErrorCode.CONFLICT and error.details == {"reason": "concurrent_change"}
    assert sum(1 for k in fakes.access.keys.values() if k.id == key.id) == 2


def test_a_revoked_caller_cannot_make_keys_within_the_authorizer_cache_window():
    fakes, service, admin = access_world()
    service.revoke_key(admin, admin.key_id)
    error = refused_by(lambda: service.create_key(admin, KeyRequest(name="more", scopes=("project:read",))))
    assert error.code is ErrorCode.UNAUTHORIZED
    assert len(fakes.access.keys) == 1


def test_a_key_cannot_grant_what_it_does_not_hold():
    fakes, service, admin = access_world()
    reader_key, _ = service.create_key(admin, KeyRequest(name="reader", scopes=("project:read",)))
    reader = Principal(admin.workspace_id, reader_key.id, frozenset(reader_key.scopes), "pro")
    error = refused_by(lambda: service.create_key(reader, KeyRequest(name="x", scopes=("project:write",))))
    assert error.code is ErrorCode.FORBIDDEN and error.details["missingScopes"] == ["project:write"]


@pytest.mark.parametrize("credential", ["session", "token"])
def test_a_person_manages_keys_within_their_scopes_with_no_key_of_their_own(credential):
    fakes, service, admin = access_world()
    person = Principal(
        admin.workspace_id,
        "user_0123456789abcdef01234567",
        frozenset({"project:read", "project:write"}),
        "pro",
        credential=credential,
        user_id="user_0123456789abcdef01234567",
    )
    key, secret = service.create_key(person, KeyRequest(name="ci", scopes=("project:read",)))
    assert key.expires_at is None and service.authenticate(f"Bearer {secret}") is not None
    rotated, new_secret = service.rotate_key(person, key.id)
    assert service.authenticate(f"Bearer {new_secret}") is not None
    assert service.revoke_key(person, key.id).revoked_at is not None
    error = refused_by(lambda: service.create_key(person, KeyRequest(name="x", scopes=("admin",))))
    assert error.code is ErrorCode.FORBIDDEN and error.details["missingScopes"] == ["admin"]
    assert error.message.startswith("This person")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["rotate", "revoke", "hour", "day"]), max_size=10))
def test_at_most_two_secrets_of_a_key_work_and_none_once_revoked(actions):
    fakes, service, admin = access_world()
    key, secret = service.create_key(admin, KeyRequest(name="ci", scopes=("project:read",)))
    secrets_made, revoked = [secret], False
    for action in actions:
        if action == "rotate":
            try:
                secrets_made.append(service.rotate_key(admin, key.id, grace=timedelta(hours=2))[1])
            except KilnError as error:
                assert revoked and error.code is ErrorCode.CONFLICT
        elif action == "revoke":
            service.revoke_key(admin, key.id)
            revoked = True
        else:
            fakes.clock.advance(**{f"{action}s": 1})
        working = [s for s in secrets_made if service.authenticate(f"Bearer {s}") is not None]
        assert len(working) <= (0 if revoked else 2)
        if not revoked:
            assert secrets_made[-1] in working, "the newest secret always works"


def refused_by(call: Callable[[], object]) -> KilnError:
    with pytest.raises(KilnError) as error:
        call()
    return error.value
