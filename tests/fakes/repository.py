"""A project's git objects and branches in memory: kiln.domain.repository.ObjectStore and
RefStore, with kiln.adapters.objects' and kiln.adapters.dynamodb.refs' semantics.

Objects are content-addressed (storing an id again keeps the first copy) and, when the fakes
are given a FakeStorage, live in its bucket under the key S3 would use, so deleting a
project's prefix deletes its objects as it does in S3. A branch moves only by
compare-and-swap: of two writers that read the same head, exactly one moves it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, MutableMapping

from kiln import ids
from kiln.clock import Clock, utc_now
from kiln.domain.repository import Repository
from tests.fakes._hooks import Hooks
from tests.fakes.storage import FakeStorage

_OBJECT_ID = re.compile(r"^[0-9a-f]{40}$")


class _InBucket(MutableMapping[str, bytes]):
    """object id -> raw object, stored in a bucket under `<prefix><id[:2]>/<id[2:]>`."""

    def __init__(self, storage: FakeStorage, prefix: str) -> None:
        self._storage, self._prefix = storage, prefix

    def _key(self, object_id: str) -> str:
        return f"{self._prefix}{object_id[:2]}/{object_id[2:]}"

    def __getitem__(self, object_id: str) -> bytes:
        return self._storage.objects[self._key(object_id)]

    def __setitem__(self, object_id: str, raw: bytes) -> None:
        self._storage.put(self._key(object_id), raw)

    def __delitem__(self, object_id: str) -> None:
        if self._key(object_id) not in self._storage.objects:
            raise KeyError(object_id)
        self._storage._remove(self._key(object_id))

    def __iter__(self) -> Iterator[str]:
        for key in self._storage.keys(self._prefix):
            yield key[len(self._prefix) :].replace("/", "")

    def __len__(self) -> int:
        return len(self._storage.keys(self._prefix))


class FakeObjects(Hooks):
    """`objects` is id -> raw object; `puts` and `gets` list the ids written and read, in order."""

    def __init__(self, objects: MutableMapping[str, bytes] | None = None) -> None:
        super().__init__()
        self.objects: MutableMapping[str, bytes] = {} if objects is None else objects
        self.puts: list[str] = []
        self.gets: list[str] = []

    def put(self, object_id: str, raw: bytes) -> None:
        self._hook("put")
        _check_id(object_id)
        self.puts.append(object_id)
        if object_id not in self.objects:  # content-addressed: the same id is the same bytes
            self.objects[object_id] = raw

    def put_many(self, objects: Mapping[str, bytes]) -> None:
        self._hook("put_many")
        for object_id, raw in objects.items():
            self.put(object_id, raw)

    def get(self, object_id: str) -> bytes | None:
        self._hook("get")
        _check_id(object_id)
        self.gets.append(object_id)
        return self.objects.get(object_id)

    def get_many(self, object_ids: Iterable[str]) -> dict[str, bytes]:
        self._hook("get_many")
        return {object_id: raw for object_id in dict.fromkeys(object_ids) if (raw := self.get(object_id)) is not None}

    def has(self, object_id: str) -> bool:
        self._hook("has")
        _check_id(object_id)
        return object_id in self.objects


class FakeRefs(Hooks):
    """`refs` is branch -> commit id."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: dict[str, str] = {}

    def get(self, ref: str) -> str | None:
        self._hook("get")
        return self.refs.get(ref)

    def compare_and_swap(self, ref: str, expected: str | None, new: str) -> bool:
        self._hook("compare_and_swap")
        if self.refs.get(ref) != expected:
            return self.refs.get(ref) == new
        self.refs[ref] = new
        return True

    def list_refs(self) -> dict[str, str]:
        self._hook("list_refs")
        return dict(self.refs)


class FakeRepositories:
    """The `repository(workspace_id, project_id)` factory the build and archive steps take:
    a fresh Repository (an empty object cache) over the project's stores each time, as
    kiln.services.repository gives one per request or task."""

    def __init__(self, storage: FakeStorage | None = None, clock: Clock = utc_now) -> None:
        self.storage = storage
        self.clock = clock
        self.objects: dict[tuple[str, str], FakeObjects] = {}
        self.refs: dict[tuple[str, str], FakeRefs] = {}

    def __call__(self, workspace_id: str, project_id: str) -> Repository:
        return Repository(
            self.objects_of(workspace_id, project_id), self.refs_of(workspace_id, project_id), clock=self.clock
        )

    def objects_of(self, workspace_id: str, project_id: str) -> FakeObjects:
        key = _project(workspace_id, project_id)
        if key not in self.objects:
            where = (
                None if self.storage is None else _InBucket(self.storage, f"repos/{workspace_id}/{project_id}/objects/")
            )
            self.objects[key] = FakeObjects(where)
        return self.objects[key]

    def refs_of(self, workspace_id: str, project_id: str) -> FakeRefs:
        return self.refs.setdefault(_project(workspace_id, project_id), FakeRefs())


def _check_id(object_id: str) -> None:
    if not _OBJECT_ID.match(object_id):
        raise ValueError(f"not an object id: {object_id!r}")


def _project(workspace_id: str, project_id: str) -> tuple[str, str]:
    if not ids.is_valid("workspace", workspace_id) or not ids.is_valid("project", project_id):
        raise ValueError("a repository needs a workspace id and a project id")
    return workspace_id, project_id
