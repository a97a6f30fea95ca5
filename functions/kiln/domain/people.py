"""People: the members of a workspace who sign in with an email and a password. No AWS here.

A person holds scopes as a key does, and the same rule governs who may grant them: a caller
can only give a person scopes it holds itself. An email belongs to one person in the whole
deployment (sign-in names no workspace), compared case-insensitively: it is stored trimmed
and lowercased.

Passwords (12 to 256 characters) are hashed with scrypt from the standard library, a
memory-hard KDF: n=2**15, r=8, p=1 takes 128 * n * r = 32 MiB and about 0.1 s per hash, well
within the 512 MB of an API function (infra.settings.api_memory_mb). The hash is stored as a
self-describing string, `scrypt$<n>$<r>$<p>$<salt>$<key>` (base64 without padding), so the
parameters can be raised later: a stored hash is always verified with its own parameters.
A password is never logged, never stored in clear and never part of any answer.

`verify_password` answers one failure (None) for a wrong email and a wrong password alike,
and spends the same KDF time on an unknown email (it hashes against a fixed dummy hash), so
neither the answer nor its timing tells which emails exist.

Deleting a person, or changing their password, ends their browser sessions (`end_sessions`,
wired to kiln.domain.sessions.SessionService.end_all by kiln.services).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, Protocol

from kiln import ids
from kiln.clock import Clock, iso, utc_now
from kiln.domain.access import (
    AccessRepository,
    Principal,
    canonical_scopes,
    managed_workspace,
    require_held_scopes,
)
from kiln.envelope import ErrorCode, KilnError, not_found, validation_error

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path

SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
# OpenSSL refuses above 32 MiB by default, which n=2**15, r=8 needs exactly plus overhead.
_SCRYPT_MAXMEM = 64 * 1024 * 1024
_SCHEME = "scrypt"


class EmailTaken(Exception):
    """Another person already has this email (the uniqueness item exists)."""


class PersonMissing(Exception):
    """The person's item is gone (deleted meanwhile)."""


# --- passwords ---------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=length)


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$key`: a fresh random salt each time."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES)
    return f"{_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def password_matches(password: str, stored: str) -> bool:
    """Derive with the stored hash's own parameters and compare in constant time."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != _SCHEME:
            return False
        expected = _unb64(key)
        derived = _derive(password, _unb64(salt), int(n), int(r), int(p), len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(derived, expected)


@cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so a miss costs the same KDF time as a hit
    (made on first use: importing this module costs no KDF time)."""
    return hash_password(secrets.token_urlsafe(24))


def check_password(password: str, field: str = "password") -> str:
    """VALIDATION_ERROR (never echoing the value) unless 12 to 256 characters."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise validation_error(
            [
                {
                    "field": field,
                    "location": "body",
                    "message": f"must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters",
                    "type": "password_length",
                }
            ]
        )
    return password


def normalise_email(email: str) -> str:
    """Trimmed and lowercased; VALIDATION_ERROR unless it looks like local@domain."""
    value = email.strip().lower()
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain or len(value) > MAX_EMAIL_LENGTH or any(c.isspace() for c in value):
        raise validation_error(
            [{"field": "email", "location": "body", "message": "not an email address", "type": "email_format"}]
        )
    return value


# --- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: str
    workspace_id: str
    email: str
    name: str
    scopes: tuple[str, ...]
    password_hash: str  # scrypt, self-describing; never leaves the domain and its store
    created_at: str
    updated_at: str
    password_changed_at: str


def person_view(person: Person) -> dict[str, Any]:
    """A person as the API shows them: never the password or its hash."""
    return {
        "id": person.id,
        "email": person.email,
        "name": person.name,
        "scopes": list(person.scopes),
        "workspaceId": person.workspace_id,
        "createdAt": person.created_at,
        "updatedAt": person.updated_at,
        "passwordChangedAt": person.password_changed_at,
    }


@dataclass(frozen=True)
class PersonRequest:
    """POST /v1/users, after its shape has been checked."""

    email: str
    name: str
    password: str
    scopes: tuple[str, ...]
    workspace_id: str | None = None


@dataclass(frozen=True)
class PersonChanges:
    """PATCH /v1/users/{userId}: None leaves a field as it is."""

    email: str | None = None
    name: str | None = None
    password: str | None = None
    scopes: tuple[str, ...] | None = None


class PeopleRepository(Protocol):
    def get_person(self, workspace_id: str, user_id: str) -> Person | None:
        """The person of this workspace (never another workspace's), read consistently."""
        ...

    def find_by_email(self, email: str) -> Person | None:
        """The person holding this (normalised) email, in any workspace."""
        ...

    def insert_person(self, person: Person) -> None:
        """Write the person and its email item together; EmailTaken if the email is held."""
        ...

    def replace_person(self, current: Person, updated: Person) -> None:
        """Write `updated`, moving the email item when it changed, in one transaction;
        EmailTaken if the new email is held, PersonMissing if the person is gone."""
        ...

    def delete_person(self, person: Person) -> bool:
        """Remove the person and its email item together; False when already gone."""
        ...

    def list_people_page(self, workspace_id: str, page: int, size: int) -> tuple[list[Person], int]: ...

    def list_people_cursor(
        self, workspace_id: str, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Person], dict[str, Any] | None]: ...


def _person_not_found(user_id: str) -> KilnError:
    return not_found("user", user_id)


def _email_taken() -> KilnError:
    return KilnError(
        ErrorCode.CONFLICT, "A person with this email exists.", {"reason": "email_taken", "field": "email"}
    )


class PeopleService:
    def __init__(
        self,
        repository: PeopleRepository,
        workspaces: AccessRepository,
        clock: Clock = utc_now,
        end_sessions: Callable[[str, str], object] | None = None,
        end_grants: Callable[[str, str], object] | None = None,
    ) -> None:
        self._repository = repository
        self._workspaces = workspaces  # only to check that a named workspace exists
        self._clock = clock
        # (workspace id, user id) -> end the person's sessions: kiln.domain.sessions.SessionService.end_all,
        # given as a function because that service checks passwords with this one.
        self._end_sessions = end_sessions
        # Revokes the person's OAuth grants when they are deleted (kiln.domain.oauth.end_all_grants).
        self._end_grants = end_grants

    def create(self, caller: Principal, request: PersonRequest) -> Person:
        workspace_id = self._target_workspace(caller, request.workspace_id, "body")
        email = normalise_email(request.email)
        check_password(request.password)
        scopes = canonical_scopes(request.scopes)
        require_held_scopes(caller, scopes, "This caller")
        return self.add(workspace_id, email, request.name, request.password, scopes)

    def add(self, workspace_id: str, email: str, name: str, password: str, scopes: tuple[str, ...]) -> Person:
        """Store a new person; no permission checks (create has made them; the bootstrap needs none)."""
        moment = self._clock()
        now = iso(moment)
        person = Person(
            id=ids.new_id("user", int(moment.timestamp() * 1000)),
            workspace_id=workspace_id,
            email=normalise_email(email),
            name=name,
            scopes=scopes,
            password_hash=hash_password(check_password(password)),
            created_at=now,
            updated_at=now,
            password_changed_at=now,
        )
        try:
            self._repository.insert_person(person)
        except EmailTaken:
            raise _email_taken() from None
        return person

    def find_by_email(self, email: str) -> Person | None:
        try:
            return self._repository.find_by_email(normalise_email(email))
        except KilnError:
            return None

    def get(self, caller: Principal, user_id: str, workspace_id: str | None = None) -> Person:
        target = self._target_workspace(caller, workspace_id, "query")
        person = self._repository.get_person(target, user_id)
        if person is None:
            raise _person_not_found(user_id)
        return person

    def update(
        self, caller: Principal, user_id: str, changes: PersonChanges, workspace_id: str | None = None
    ) -> Person:
        person = self.get(caller, user_id, workspace_id)
        now = iso(self._clock())
        updated = replace(person, updated_at=now)
        if changes.name is not None:
            updated = replace(updated, name=changes.name)
        if changes.email is not None:
            updated = replace(updated, email=normalise_email(changes.email))
        if changes.scopes is not None:
            scopes = canonical_scopes(changes.scopes)
            require_held_scopes(caller, scopes, "This caller")
            updated = replace(updated, scopes=scopes)
        if changes.password is not None:
            updated = replace(
                updated, password_hash=hash_password(check_password(changes.password)), password_changed_at=now
            )
        try:
            self._repository.replace_person(person, updated)
        except EmailTaken:
            raise _email_taken() from None
        except PersonMissing:
            raise _person_not_found(user_id) from None
        if changes.password is not None and self._end_sessions is not None:
            self._end_sessions(updated.workspace_id, updated.id)  # a new password signs every browser out
        return updated

    def delete(self, caller: Principal, user_id: str, workspace_id: str | None = None) -> None:
        person = self.get(caller, user_id, workspace_id)
        if not self._repository.delete_person(person):
            raise _person_not_found(user_id)
        if self._end_sessions is not None:
            self._end_sessions(person.workspace_id, person.id)
        if self._end_grants is not None:
            self._end_grants(person.workspace_id, person.id)

    def list_page(self, caller: Principal, workspace_id: str | None, page: int, size: int) -> tuple[list[Person], int]:
        return self._repository.list_people_page(self._target_workspace(caller, workspace_id, "query"), page, size)

    def list_cursor(
        self, caller: Principal, workspace_id: str | None, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Person], dict[str, Any] | None]:
        return self._repository.list_people_cursor(self._target_workspace(caller, workspace_id, "query"), limit, after)

    def verify_password(self, email: str, password: str) -> Person | None:
        """The person when the email and password match; None for any failure, alike."""
        try:
            person = self._repository.find_by_email(normalise_email(email))
        except KilnError:  # a malformed email is an unknown one
            person = None
        if person is None:
            password_matches(password, _dummy_hash())  # the same KDF time as a real check
            return None
        return person if password_matches(password, person.password_hash) else None

    def _target_workspace(self, caller: Principal, requested: str | None, location: str) -> str:
        """The caller's workspace, or (admin only) one named that exists."""
        return managed_workspace(
            caller,
            requested,
            location,
            refusal="Only the admin scope can manage another workspace's people.",
            workspace_exists=lambda ws: self._workspaces.get_workspace(ws, consistent=True) is not None,
        )
