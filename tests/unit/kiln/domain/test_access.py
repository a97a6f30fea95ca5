from datetime import UTC, datetime

from hypothesis import given, settings, strategies as st

from kiln.domain.access import ApiKey, generate_secret, hash_secret, is_well_formed, parse_bearer


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
