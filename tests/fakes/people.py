"""People in memory: kiln.domain.people.PeopleRepository with kiln.adapters.dynamodb.people's
semantics. The person and its email item are written, moved and removed together: an insert
or an email change onto a held email raises EmailTaken having written nothing.
"""

from __future__ import annotations

from typing import Any

from kiln.domain.people import EmailTaken, Person, PersonMissing
from tests.fakes._hooks import Hooks


class FakePeople(Hooks):
    def __init__(self) -> None:
        super().__init__()
        self.people: dict[tuple[str, str], Person] = {}  # (workspace, user id) -> person
        self.emails: dict[str, tuple[str, str]] = {}  # email -> (workspace, user id)

    def get_person(self, workspace_id: str, user_id: str) -> Person | None:
        self._hook("get_person")
        return self.people.get((workspace_id, user_id))

    def find_by_email(self, email: str) -> Person | None:
        self._hook("find_by_email")
        held = self.emails.get(email)
        return self.people.get(held) if held else None

    def insert_person(self, person: Person) -> None:
        self._hook("insert_person")
        if person.email in self.emails:
            raise EmailTaken(person.email)
        self.emails[person.email] = (person.workspace_id, person.id)
        self.people[(person.workspace_id, person.id)] = person

    def replace_person(self, current: Person, updated: Person) -> None:
        self._hook("replace_person")
        key = (current.workspace_id, current.id)
        if key not in self.people:
            raise PersonMissing(current.id)
        if updated.email != current.email:
            if updated.email in self.emails:
                raise EmailTaken(updated.email)
            del self.emails[current.email]
            self.emails[updated.email] = key
        self.people[key] = updated

    def delete_person(self, person: Person) -> bool:
        self._hook("delete_person")
        key = (person.workspace_id, person.id)
        if key not in self.people or self.emails.get(person.email) != key:
            return False
        del self.people[key]
        del self.emails[person.email]
        return True

    def _listed(self, workspace_id: str) -> list[Person]:
        # Newest first, as the Query over ids that start with their creation time.
        return sorted((p for (ws, _), p in self.people.items() if ws == workspace_id), key=lambda p: p.id, reverse=True)

    def list_people_page(self, workspace_id: str, page: int, size: int) -> tuple[list[Person], int]:
        self._hook("list_people_page")
        listed = self._listed(workspace_id)
        return listed[(page - 1) * size : page * size], len(listed)

    def list_people_cursor(
        self, workspace_id: str, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Person], dict[str, Any] | None]:
        self._hook("list_people_cursor")
        listed = self._listed(workspace_id)
        if after is not None:
            listed = [p for p in listed if f"USER#{p.id}" < after["sk"]]
        page = listed[:limit]
        position = None
        if len(listed) > limit:
            position = {"pk": f"WS#{workspace_id}", "sk": f"USER#{page[-1].id}"}
        return page, position
