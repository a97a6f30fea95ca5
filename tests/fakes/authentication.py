"""The credential chain's own ports in memory (kiln.domain.authentication): which OAuth grants
are still active, and which session cookies resolve to a signed-in person. Each records what it
was asked, so a test can tell a cached answer from a fresh look-up."""

from __future__ import annotations

from kiln.domain.sessions import ActiveSession


class FakeGrants:
    """kiln.domain.authentication.GrantChecker: `active` holds the grants not revoked."""

    def __init__(self, *active: str) -> None:
        self.active: set[str] = set(active)
        self.asked: list[str] = []

    def grant_active(self, grant_id: str) -> bool:
        self.asked.append(grant_id)
        return grant_id in self.active


class FakeSessionResolver:
    """kiln.domain.authentication.SessionResolver: session token -> the active session."""

    def __init__(self) -> None:
        self.by_token: dict[str, ActiveSession] = {}
        self.asked: list[str] = []

    def resolve(self, token: str) -> ActiveSession | None:
        self.asked.append(token)
        return self.by_token.get(token)
