"""`python -m local`'s bootstrap person: refused settings stop the start with a message that
never holds the password; the banner shows the email only."""

from __future__ import annotations

import pytest

import local.__main__ as entry
from local.constants import ADMIN_EMAIL_VARIABLE, ADMIN_PASSWORD_VARIABLE


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({ADMIN_EMAIL_VARIABLE: "owner@example.com"}, "go together"),
        ({ADMIN_PASSWORD_VARIABLE: "a long enough password"}, "go together"),
        ({ADMIN_EMAIL_VARIABLE: "owner@example.com", ADMIN_PASSWORD_VARIABLE: "short pw"}, "12 to 256"),
        ({ADMIN_EMAIL_VARIABLE: "not an email", ADMIN_PASSWORD_VARIABLE: "a long enough password"}, "12 to 256"),
    ],
)
def test_an_incomplete_or_malformed_person_stops_the_start(monkeypatch, capsys, environ, message):
    for name in (ADMIN_EMAIL_VARIABLE, ADMIN_PASSWORD_VARIABLE, "KILN_LOCAL_ADMIN_KEY", "KILN_LOCAL_ADMIN_TIER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert entry.main([]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert environ.get(ADMIN_PASSWORD_VARIABLE, "\x00") not in err


def test_the_banner_names_the_person_by_email_only():
    text = entry.banner("http://x", "http://m", "kiln_key", "pro", "owner@example.com")
    assert "owner@example.com" in text and ADMIN_PASSWORD_VARIABLE in text
    assert "Person" not in entry.banner("http://x", "http://m", "kiln_key", "pro")
