from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiln.domain.access import (
    ALL_SCOPES,
    ApiKey,
    canonical_paths,
    canonical_scopes,
    generate_secret,
    glob_within,
    hash_secret,
    is_well_formed,
    key_view,
    parse_bearer,
)
from kiln.envelope import KilnError
from kiln.http.api import path_allowed


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
    old = ApiKey("key_x", "ws", "n", "kiln_abc", "h", ("project:read",),
                 superseded_at="2026-06-01T00:00:00.000Z", grace_until="2026-06-01T12:00:00.000Z")
    assert old.usable_at(datetime(2026, 6, 1, 11, 59, 59, tzinfo=UTC))
    assert not old.usable_at(NOON)


def test_status_precedence():
    key = ApiKey("key_x", "ws", "n", "kiln_abc", "h", ("project:read",))
    assert key.status_at(NOON) == "active"
    rotating = ApiKey("key_x", "ws", "n", "kiln_abc", "h", ("project:read",),
                      previous_secret_hash="g", previous_secret_expires_at="2026-06-01T13:00:00.000Z")
    assert rotating.status_at(NOON) == "rotated"
    assert rotating.status_at(datetime(2026, 6, 1, 13, tzinfo=UTC)) == "active"
    expired = ApiKey("key_x", "ws", "n", "kiln_abc", "h", ("project:read",), expires_at="2026-06-01T12:00:00.000Z",
                     previous_secret_hash="g", previous_secret_expires_at="2026-06-01T13:00:00.000Z")
    assert expired.status_at(NOON) == "expired"
    revoked = ApiKey("key_x", "ws", "n", "kiln_abc", "h", ("project:read",), expires_at="2026-06-01T12:00:00.000Z",
                     revoked_at="2026-05-01T00:00:00.000Z")
    assert revoked.status_at(NOON) == "revoked"


def test_the_view_never_carries_a_hash():
    key = ApiKey("key_x", "ws", "n", "kiln_abc", "secret-hash", ("project:read",),
                 previous_secret_hash="previous-hash", previous_secret_expires_at="2026-06-01T13:00:00.000Z")
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


@pytest.mark.parametrize("inner, outer, within", [
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
])
def test_glob_within(inner, outer, within):
    assert glob_within(inner, outer) is within


_SEGMENTS = st.sampled_from(["a", "b", "ab", "*", "**", "?", "a*", "*b"])
_GLOBS = st.lists(_SEGMENTS, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts))
_PATHS = st.lists(st.sampled_from(["a", "b", "ab", "ba", "aab", ""]), min_size=1, max_size=5).map(
    lambda parts: "/" + "/".join(parts))


@settings(max_examples=400, deadline=None)
@given(_GLOBS, _GLOBS, _PATHS)
def test_glob_within_is_sound_for_the_pipeline_s_matcher(inner, outer, path):
    """Whatever `inner` lets through, `outer` lets through too, as kiln.http.api matches paths."""
    if glob_within(inner, outer) and path_allowed(path, (inner,)):
        assert path_allowed(path, (outer,))
