"""Sessions and sign-in attempts in memory: kiln.domain.sessions.SessionRepository and
SignInAttempts with kiln.adapters.dynamodb.sessions' semantics. Sessions are keyed by their
token's hash; the attempts of an email are replaced only at the revision the writer read.
"""

from __future__ import annotations

from dataclasses import replace

from kiln.domain.sessions import Attempts, Session
from tests.fakes._hooks import Hooks


class FakeSessions(Hooks):
    def __init__(self) -> None:
        super().__init__()
        self.sessions: dict[str, Session] = {}  # token hash -> session
        self.expiry_epochs: dict[str, int] = {}  # token hash -> the item's TTL
        self.attempts: dict[str, Attempts] = {}  # email hash -> counted attempts
        self.touches = 0

    def insert_session(self, session: Session, expires_at_epoch: int) -> None:
        self._hook("insert_session")
        if session.token_hash in self.sessions:
            raise AssertionError("a session token hash is never reused")
        self.sessions[session.token_hash] = session
        self.expiry_epochs[session.token_hash] = expires_at_epoch

    def get_session(self, token_hash: str) -> Session | None:
        self._hook("get_session")
        return self.sessions.get(token_hash)

    def touch_session(self, token_hash: str, at: str, stale_before: str) -> None:
        self._hook("touch_session")
        session = self.sessions.get(token_hash)
        if session is not None and session.last_seen_at < stale_before:
            self.sessions[token_hash] = replace(session, last_seen_at=at)
            self.touches += 1

    def delete_session(self, token_hash: str) -> None:
        self._hook("delete_session")
        self.sessions.pop(token_hash, None)

    def delete_person_sessions(self, workspace_id: str, user_id: str) -> int:
        self._hook("delete_person_sessions")
        mine = [h for h, s in self.sessions.items() if (s.workspace_id, s.user_id) == (workspace_id, user_id)]
        for token_hash in mine:
            del self.sessions[token_hash]
        return len(mine)

    def read_attempts(self, email_hash: str) -> Attempts | None:
        self._hook("read_attempts")
        return self.attempts.get(email_hash)

    def write_attempts(
        self, email_hash: str, expected_revision: int | None, times_ms: tuple[int, ...], expires_at_epoch: int
    ) -> bool:
        self._hook("write_attempts")
        current = self.attempts.get(email_hash)
        if (current.revision if current else None) != expected_revision:
            return False
        self.attempts[email_hash] = Attempts(times_ms, (expected_revision or 0) + 1)
        return True

    def clear_attempts(self, email_hash: str) -> None:
        self._hook("clear_attempts")
        self.attempts.pop(email_hash, None)
