"""A project's repository: a git-compatible, content-addressed store of its files. No AWS here.

Builds write files task by task, each task on its own branch (`feat/task-001-<slug>`), and
merge branches into `main`; the files API reads any branch or commit. Objects are encoded
exactly as git encodes them (`<type> <length>\\0<body>`, named by the SHA-1 of those bytes),
so ids match what `git` computes and a repository can be handed to git as it is.

    blob    the bytes of one file
    tree    one directory: entries `<mode> <name>\\0<20-byte id>` in git's order
            (modes 100644 for files, 40000 for directories; empty directories do not exist)
    commit  a tree, its parents, author and committer (seconds since the epoch, +0000), message

Two ports keep storage out of this module: an ObjectStore (immutable objects by id, so a
write is idempotent) and a RefStore (branch -> commit id, moved only by compare-and-swap, so
of two writers that started from the same head exactly one moves the branch; the other gets
RefConflict and can rebuild on the new head). Objects are written before the branch moves,
so a branch never points at anything missing; objects of a commit that lost its race are
unreferenced and harmless.

A Repository instance caches every object it reads or writes: one request reading a tree
never fetches the same object twice. Instances are cheap; use one per request or task.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol

from kiln.clock import Clock, utc_now
from kiln.domain import git_paths
from kiln.domain.git_paths import GitProblem
from kiln.domain.projects import CONTROL_CHARACTERS

FILE_MODE = "100644"
DIR_MODE = "40000"
_FILE_MODES = frozenset({"100644", "100755", "120000"})  # readable as files; Kiln writes 100644 only

EMPTY_BLOB_ID = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
EMPTY_TREE_ID = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
DEFAULT_BRANCH = "main"

MAX_PATH_BYTES = 1024
MAX_PATH_SEGMENTS = 32
MAX_SEGMENT_BYTES = 255
MAX_REF_LENGTH = 200

_OBJECT_ID = re.compile(r"^[0-9a-f]{40}$")
_OBJECT_ID_ANY_CASE = re.compile(r"^[0-9a-fA-F]{40}$")
_BRANCH_CHARACTERS = re.compile(r"^[A-Za-z0-9._/-]+$")
_SIGNATURE = re.compile(r"^(?P<name>[^<>\n]*) <(?P<email>[^<>\n]*)> (?P<time>\d+) (?P<offset>[+-]\d{4})$")


# --- errors ------------------------------------------------------------------------------


class RepositoryError(Exception):
    """Base of the repository's errors that callers are expected to handle."""


class InvalidPath(ValueError):
    """A repository path that can never be stored (`..`, control characters, too long, ...)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(reason)


class RefusedByGit(InvalidPath):
    """A path (or a file's content) git itself refuses in a tree (kiln.domain.git_paths): a
    `.git` alias, a hostile `.gitmodules`. `code` is the git_paths reason."""

    def __init__(self, path: str, problem: GitProblem) -> None:
        self.code = problem.reason
        super().__init__(path, problem.message)


class InvalidRef(ValueError):
    """A branch name (or ref) that is not well formed."""

    def __init__(self, ref: str, reason: str) -> None:
        self.ref = ref
        self.reason = reason
        super().__init__(reason)


class RefNotFound(RepositoryError):
    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(f"no branch or commit {ref!r}")


class PathNotFound(RepositoryError):
    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"no such path: {path!r}")


class IsADirectory(RepositoryError):
    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"is a directory: {path!r}")


class NotADirectory(RepositoryError):
    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"not a directory: {path!r}")


class RefConflict(RepositoryError):
    """The branch moved between reading its head and moving it (compare-and-swap failed)."""

    def __init__(self, branch: str, expected: str | None, actual: str | None) -> None:
        self.branch = branch
        self.expected = expected
        self.actual = actual
        super().__init__(f"branch {branch!r} is at {actual}, not at {expected}")


class MergeConflict(RepositoryError):
    """Both sides changed the same paths differently (or one side's file is the other's directory)."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths = tuple(sorted(set(paths)))
        super().__init__("conflicting changes to " + ", ".join(self.paths))


class CorruptObject(RepositoryError):
    """An object is missing or does not hash to its id: the store is damaged, not the request."""

    def __init__(self, object_id: str, reason: str) -> None:
        self.object_id = object_id
        super().__init__(f"object {object_id}: {reason}")


# --- paths and ref names ------------------------------------------------------------------


def normalize_path(raw: str) -> str:
    """The canonical form of a file path in the repository: `src/app.py` (no leading `/`).

    Raises InvalidPath naming the reason: empty, `.`/`..`/empty segments, backslashes, control
    characters, over MAX_PATH_BYTES bytes or MAX_PATH_SEGMENTS segments, a segment over
    MAX_SEGMENT_BYTES bytes; RefusedByGit for a segment git reads as `.git` (`.GIT`, `.git.`,
    `git~1`, `.g\u200cit`, ...: see kiln.domain.git_paths), since git would refuse the tree.
    """
    if not isinstance(raw, str):
        raise InvalidPath(repr(raw), "must be a string")
    path = raw[1:] if raw.startswith("/") else raw
    if not path:
        raise InvalidPath(raw, "must not be empty")
    if CONTROL_CHARACTERS.search(path):
        raise InvalidPath(raw, "must not contain control characters")
    if "\\" in path:
        raise InvalidPath(raw, "must not contain backslashes; separate segments with '/'")
    try:
        size = len(path.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidPath(raw, "must be valid Unicode text") from None
    if size > MAX_PATH_BYTES:
        raise InvalidPath(raw, f"must be at most {MAX_PATH_BYTES} bytes long")
    segments = path.split("/")
    if len(segments) > MAX_PATH_SEGMENTS:
        raise InvalidPath(raw, f"must have at most {MAX_PATH_SEGMENTS} segments")
    for segment in segments:
        if not segment:
            raise InvalidPath(raw, "must not contain empty segments ('//' or a trailing '/')")
        if segment in (".", ".."):
            raise InvalidPath(raw, f"must not contain '{segment}' segments")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidPath(raw, f"segments must be at most {MAX_SEGMENT_BYTES} bytes long")
    problem = git_paths.path_problem(path)
    if problem is not None:
        raise RefusedByGit(raw, problem)
    return path


def normalize_dir(raw: str) -> str:
    """A directory path: like normalize_path, but one trailing `/` is allowed and the root
    (`/` or the empty string) is answered as ""."""
    if raw in ("", "/"):
        return ""
    return normalize_path(raw[:-1] if raw.endswith("/") else raw)


def is_object_id(value: str) -> bool:
    """A full 40-hex object id (either letter case)."""
    return isinstance(value, str) and bool(_OBJECT_ID_ANY_CASE.match(value))


def validate_branch(name: str) -> str:
    """A branch name such as `main` or `feat/task-001-some-slug`, or InvalidRef with the reason.

    Stricter than git: ASCII letters, digits, `.`, `_`, `-` and `/` only, at most
    MAX_REF_LENGTH characters; no `..`, no empty segment, no segment starting with `.` or
    ending with `.lock`, no leading `-`, no trailing `.`, and not 40 hex digits (which would
    read as a commit id).
    """
    if not isinstance(name, str) or not name:
        raise InvalidRef(str(name), "must not be empty")
    if len(name) > MAX_REF_LENGTH:
        raise InvalidRef(name, f"must be at most {MAX_REF_LENGTH} characters long")
    if not _BRANCH_CHARACTERS.match(name):
        raise InvalidRef(name, "may contain only letters, digits, '.', '_', '-' and '/'")
    if ".." in name:
        raise InvalidRef(name, "must not contain '..'")
    if name.startswith("-"):
        raise InvalidRef(name, "must not start with '-'")
    if name.endswith("."):
        raise InvalidRef(name, "must not end with '.'")
    for segment in name.split("/"):
        if not segment:
            raise InvalidRef(name, "must not contain empty segments ('//', or a leading or trailing '/')")
        if segment.startswith("."):
            raise InvalidRef(name, "segments must not start with '.'")
        if segment.endswith(".lock"):
            raise InvalidRef(name, "segments must not end with '.lock'")
    if name == "HEAD" or is_object_id(name):
        raise InvalidRef(name, "is reserved")
    return name


def validate_ref(ref: str) -> str:
    """A ref the files API accepts: a branch name or a full commit id (returned lowercased)."""
    if is_object_id(ref):
        return ref.lower()
    try:
        return validate_branch(ref)
    except InvalidRef as error:
        raise InvalidRef(ref, f"must be a branch name or a full 40-character commit sha ({error.reason})") from None


# --- objects ------------------------------------------------------------------------------


def encode_object(kind: str, body: bytes) -> bytes:
    """git's object encoding: `<type> <length>\\0<body>` (what a loose object compresses)."""
    return f"{kind} {len(body)}\0".encode("ascii") + body


def hash_object(raw: bytes) -> str:
    return hashlib.sha1(raw, usedforsecurity=False).hexdigest()


def object_id(kind: str, body: bytes) -> str:
    return hash_object(encode_object(kind, body))


def blob_id(content: bytes) -> str:
    return object_id("blob", content)


def decode_object(object_id_: str, raw: bytes) -> tuple[str, bytes]:
    """(kind, body) of an encoded object, checked against its id."""
    if hash_object(raw) != object_id_:
        raise CorruptObject(object_id_, "content does not match the id")
    nul = raw.find(b"\0")
    header = raw[:nul].decode("ascii", "replace") if nul > 0 else ""
    kind, _, length = header.partition(" ")
    if kind not in ("blob", "tree", "commit") or not length.isdigit() or int(length) != len(raw) - nul - 1:
        raise CorruptObject(object_id_, "malformed header")
    return kind, raw[nul + 1 :]


@dataclass(frozen=True)
class TreeEntry:
    name: str
    mode: str
    id: str

    @property
    def is_dir(self) -> bool:
        return self.mode == DIR_MODE


def _tree_order(entry: TreeEntry) -> bytes:
    # git sorts entries by name bytes, a directory's name compared as if it ended with '/'.
    name = entry.name.encode("utf-8", "surrogateescape")
    return name + b"/" if entry.is_dir else name


def encode_tree(entries: Iterable[TreeEntry]) -> bytes:
    parts = []
    for entry in sorted(entries, key=_tree_order):
        header = f"{entry.mode} {entry.name}".encode("utf-8", "surrogateescape")
        parts.append(header + b"\0" + bytes.fromhex(entry.id))
    return b"".join(parts)


def decode_tree(tree_id: str, body: bytes) -> tuple[TreeEntry, ...]:
    entries = []
    position = 0
    while position < len(body):
        nul = body.find(b"\0", position)
        if nul < 0 or nul + 21 > len(body):
            raise CorruptObject(tree_id, "truncated tree entry")
        mode, _, name = body[position:nul].decode("utf-8", "surrogateescape").partition(" ")
        if mode != DIR_MODE and mode not in _FILE_MODES:
            raise CorruptObject(tree_id, f"unsupported tree entry mode {mode}")
        entries.append(TreeEntry(name, mode, body[nul + 1 : nul + 21].hex()))
        position = nul + 21
    return tuple(entries)


@dataclass(frozen=True)
class Author:
    """Who writes a commit; the repository stamps the time."""

    name: str
    email: str


@dataclass(frozen=True)
class Signature:
    name: str
    email: str
    timestamp: int  # seconds since the epoch
    offset: str = "+0000"

    def encode(self) -> str:
        return f"{self.name} <{self.email}> {self.timestamp} {self.offset}"


@dataclass(frozen=True)
class Commit:
    id: str
    tree: str
    parents: tuple[str, ...]
    author: Signature
    committer: Signature
    message: str


def encode_commit(tree: str, parents: Iterable[str], author: Signature, committer: Signature, message: str) -> bytes:
    lines = [f"tree {tree}"]
    lines += [f"parent {parent}" for parent in parents]
    lines += [f"author {author.encode()}", f"committer {committer.encode()}"]
    return ("\n".join(lines) + "\n\n" + message).encode("utf-8")


def decode_commit(commit_id: str, body: bytes) -> Commit:
    text = body.decode("utf-8", "replace")
    header, separator, message = text.partition("\n\n")
    if not separator:
        raise CorruptObject(commit_id, "commit without a message separator")
    fields: dict[str, list[str]] = {}
    for line in header.split("\n"):
        if line.startswith(" "):  # continuation of a multi-line header (gpgsig)
            continue
        key, _, value = line.partition(" ")
        fields.setdefault(key, []).append(value)
    try:
        return Commit(
            id=commit_id,
            tree=fields["tree"][0],
            parents=tuple(fields.get("parent", ())),
            author=_parse_signature(commit_id, fields["author"][0]),
            committer=_parse_signature(commit_id, fields["committer"][0]),
            message=message,
        )
    except (KeyError, IndexError):
        raise CorruptObject(commit_id, "commit without tree, author or committer") from None


def _parse_signature(commit_id: str, value: str) -> Signature:
    match = _SIGNATURE.match(value)
    if not match:
        raise CorruptObject(commit_id, "malformed signature")
    return Signature(match["name"], match["email"], int(match["time"]), match["offset"])


def _check_author(author: Author) -> None:
    for label, value in (("name", author.name), ("email", author.email)):
        if not isinstance(value, str) or any(c in value for c in "<>\n\0") or value != value.strip():
            raise ValueError(f"author {label} must not contain '<', '>', newlines or surrounding spaces")
    if not author.name:
        raise ValueError("author name must not be empty")


def _check_message(message: str) -> str:
    if not isinstance(message, str) or not message.strip():
        raise ValueError("commit message must not be empty")
    if "\0" in message:
        raise ValueError("commit message must not contain NUL characters")
    return message if message.endswith("\n") else message + "\n"


# --- ports --------------------------------------------------------------------------------


class ObjectStore(Protocol):
    """Encoded objects (`encode_object` bytes) by id, for one (workspace, project)."""

    def put(self, object_id: str, raw: bytes) -> None:
        """Store an object; storing an id again is a no-op (content-addressed)."""
        ...

    def put_many(self, objects: Mapping[str, bytes]) -> None:
        """put() for many objects (an adapter may write them concurrently)."""
        ...

    def get(self, object_id: str) -> bytes | None: ...

    def get_many(self, object_ids: Iterable[str]) -> dict[str, bytes]:
        """The objects found among `object_ids` (missing ones are left out)."""
        ...

    def has(self, object_id: str) -> bool: ...


class RefStore(Protocol):
    """Branch name -> commit id, for one (workspace, project)."""

    def get(self, ref: str) -> str | None: ...

    def compare_and_swap(self, ref: str, expected: str | None, new: str) -> bool:
        """Point `ref` at `new` only if it points at `expected` (None: only if it does not
        exist). True when `ref` is at `new` afterwards, including when it already was (a write
        retried after its answer was lost finds its own first attempt); False otherwise, and
        nothing changed then."""
        ...

    def list_refs(self) -> dict[str, str]: ...


# --- the service --------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One entry of a directory listing."""

    name: str
    type: Literal["file", "directory"]
    size: int | None  # bytes of a file; None for a directory


class Diff(NamedTuple):
    created: list[str]
    modified: list[str]
    deleted: list[str]


@dataclass(frozen=True)
class MergeResult:
    # up_to_date: the source was already contained in the target, nothing changed;
    # fast_forward: the target moved to the source commit; merge: a new two-parent commit.
    kind: Literal["up_to_date", "fast_forward", "merge"]
    commit: str  # the target branch's head after the merge
    base: str | None  # the merge base used (None: unrelated histories or a new target)


class _Node:
    """A directory being edited: untouched children stay TreeEntry (never loaded)."""

    __slots__ = ("children",)

    def __init__(self, children: dict[str, TreeEntry | _Node]) -> None:
        self.children = children


def _emptied(child: TreeEntry | _Node) -> bool:
    """A directory whose files were all deleted by this edit: it no longer exists."""
    return isinstance(child, _Node) and all(_emptied(c) for c in child.children.values())


_P1, _P2, _STALE, _RESULT = 1, 2, 4, 8


class Repository:
    def __init__(self, objects: ObjectStore, refs: RefStore, clock: Clock = utc_now) -> None:
        self._objects = objects
        self._refs = refs
        self._clock = clock
        self._bodies: dict[str, tuple[str, bytes]] = {}  # id -> (kind, body), every object seen
        self._trees: dict[str, dict[str, TreeEntry]] = {}
        self._commits: dict[str, Commit] = {}
        self._stored: set[str] = set()  # ids known to be in the store
        self._pending: dict[str, bytes] = {}  # encoded objects written but not yet flushed

    # -- reading ---------------------------------------------------------------------------

    def branches(self) -> dict[str, str]:
        return self._refs.list_refs()

    def resolve(self, ref: str) -> str:
        """The commit id a branch name or a full commit id stands for; RefNotFound otherwise."""
        if is_object_id(ref):
            commit_id = ref.lower()
            if self._find(commit_id) == "commit":
                return commit_id
            raise RefNotFound(ref)
        try:
            validate_branch(ref)
        except InvalidRef:
            raise RefNotFound(ref) from None
        head = self._refs.get(ref)
        if head is None:
            raise RefNotFound(ref)
        return head

    def get_commit(self, ref: str) -> Commit:
        return self._commit(self.resolve(ref))

    def read_file(self, ref: str, path: str) -> bytes:
        path = normalize_path(path)
        entry = self._lookup(self.get_commit(ref).tree, path)
        if entry is None:
            raise PathNotFound(path)
        if entry.is_dir:
            raise IsADirectory(path)
        return self._load(entry.id, "blob")

    def list_dir(self, ref: str, path: str = "/", sizes: bool = True) -> list[Entry]:
        """A directory's entries: directories first, then files, each sorted by name.

        `sizes` reads every file of the directory (concurrently, through get_many) to report
        its size; without it files are listed with size None.
        """
        path = normalize_dir(path)
        tree_id = self.get_commit(ref).tree
        if path:
            entry = self._lookup(tree_id, path)
            if entry is None:
                raise PathNotFound(path)
            if not entry.is_dir:
                raise NotADirectory(path)
            tree_id = entry.id
        children = list(self._tree(tree_id).values())
        files = [e for e in children if not e.is_dir]
        if sizes:
            self._load_many(e.id for e in files)
        listing = [Entry(e.name, "directory", None) for e in children if e.is_dir]
        listing.sort(key=lambda e: e.name)
        listed_files = [Entry(e.name, "file", len(self._bodies[e.id][1]) if sizes else None) for e in files]
        return listing + sorted(listed_files, key=lambda e: e.name)

    def files(self, ref: str) -> dict[str, str]:
        """Every file at `ref`: path -> blob id (trees are fetched one level at a time)."""
        result: dict[str, str] = {}
        level = [("", self.get_commit(ref).tree)]
        while level:
            self._load_many(tree_id for _, tree_id in level)
            next_level = []
            for prefix, tree_id in level:
                for entry in self._tree(tree_id).values():
                    path = prefix + entry.name
                    if entry.is_dir:
                        next_level.append((path + "/", entry.id))
                    else:
                        result[path] = entry.id
            level = next_level
        return result

    def diff(self, base: str | None, head: str) -> Diff:
        """Paths created, modified and deleted from `base` (None: nothing) to `head` (refs or ids)."""
        old_tree = self.get_commit(base).tree if base is not None else None
        created: list[str] = []
        modified: list[str] = []
        deleted: list[str] = []
        for path, old, new in self._changes(old_tree, self.get_commit(head).tree):
            (created if old is None else deleted if new is None else modified).append(path)
        return Diff(sorted(created), sorted(modified), sorted(deleted))

    def merge_base(self, one: str, two: str) -> str | None:
        bases = self._merge_bases(self.resolve(one), self.resolve(two))
        return bases[0] if bases else None

    # -- writing ---------------------------------------------------------------------------

    def commit(
        self, branch: str, changes: Mapping[str, bytes | None], message: str, author: Author, parent: str | None = None
    ) -> Commit:
        """Commit `changes` (path -> new content, None deletes) on `branch`.

        The new tree starts from `parent` (a commit id or branch) or, without it, from the
        branch head; a branch that does not exist yet is created (with no parent, a root
        commit). Deletions apply first; deleting a path that does not exist is a no-op, and
        deleting a directory is IsADirectory. Writing a file where a directory is (or under a
        file) is IsADirectory / NotADirectory. RefConflict when the branch is not at `parent`
        or moved while the commit was being written.
        """
        validate_branch(branch)
        message = _check_message(message)
        _check_author(author)
        edits = self._normalize_changes(changes)
        head = self._refs.get(branch)
        base = head
        if parent is not None:
            base = self.resolve(parent)
            if head is not None and head != base:
                raise RefConflict(branch, base, head)
        base_tree = self._commit(base).tree if base is not None else None
        blobs = {path: (self._write("blob", data) if data is not None else None) for path, data in edits.items()}
        tree = self._edit_tree(base_tree, blobs)
        commit = self._write_commit(tree, (base,) if base is not None else (), message, author)
        self._move(branch, head, commit.id)
        return commit

    def merge(self, target_branch: str, source_ref: str, message: str, author: Author) -> MergeResult:
        """Merge `source_ref` into `target_branch`.

        Fast-forward when the target is an ancestor of the source (or does not exist yet);
        nothing when the source is already contained in the target; otherwise a three-way
        merge at file level against the merge base: a path changed on one side only takes
        that change, the same change on both sides is taken once, and different changes to
        one path raise MergeConflict(paths). RefConflict when the target moved meanwhile.
        """
        validate_branch(target_branch)
        message = _check_message(message)
        _check_author(author)
        source = self.resolve(source_ref)
        head = self._refs.get(target_branch)
        if head is None:
            self._move(target_branch, None, source)
            return MergeResult("fast_forward", source, None)
        if head == source:
            return MergeResult("up_to_date", head, head)
        bases = self._merge_bases(head, source)
        if source in bases:
            return MergeResult("up_to_date", head, source)
        if head in bases:
            self._move(target_branch, head, source)
            return MergeResult("fast_forward", source, head)
        base = bases[0] if bases else None
        base_tree = self._commit(base).tree if base is not None else None
        ours_tree, theirs_tree = self._commit(head).tree, self._commit(source).tree
        ours = {path: new for path, _, new in self._changes(base_tree, ours_tree)}
        edits: dict[str, str | None] = {}
        conflicts = []
        for path, _, theirs in self._changes(base_tree, theirs_tree):
            if path not in ours:
                edits[path] = theirs
            elif ours[path] != theirs:
                conflicts.append(path)
        if conflicts:
            raise MergeConflict(conflicts)
        try:
            tree = self._edit_tree(ours_tree, edits)
        except (IsADirectory, NotADirectory) as error:
            # One side has a file where the other has a directory.
            raise MergeConflict([error.path]) from None
        merged = self._write_commit(tree, (head, source), message, author)
        self._move(target_branch, head, merged.id)
        return MergeResult("merge", merged.id, base)

    def read_blob(self, blob_id: str) -> bytes:
        """A blob's content, read from the store without keeping it: exports stream whole
        trees through here, one file in memory at a time."""
        if blob_id in self._bodies:
            kind, body = self._bodies[blob_id]
        else:
            raw = self._objects.get(blob_id)
            if raw is None:
                raise CorruptObject(blob_id, "missing from the store")
            kind, body = decode_object(blob_id, raw)
        if kind != "blob":
            raise CorruptObject(blob_id, f"is a {kind}, expected a blob")
        return body

    def store_blob(self, content: bytes) -> str:
        """Write one blob to the store now and forget its content (imports stream through
        here, one file in memory at a time); returns its id for commit_files."""
        raw = encode_object("blob", content)
        blob = hash_object(raw)
        if blob not in self._stored:
            self._objects.put(blob, raw)
            self._stored.add(blob)
        return blob

    def commit_files(self, files: Mapping[str, str], message: str, author: Author, branch: str | None = None) -> Commit:
        """A root commit whose tree is exactly `files` (path -> id of a stored blob), with every
        object stored. With `branch`, the branch is created at it (RefConflict if it exists);
        without, no ref moves (an import creates its ref with the project, atomically)."""
        if branch is not None:
            validate_branch(branch)
        message = _check_message(message)
        _check_author(author)
        edits = {normalize_path(path): blob for path, blob in files.items()}
        tree = self._edit_tree(None, edits) if edits else self._write("tree", encode_tree(()))
        commit = self._write_commit(tree, (), message, author)
        if branch is not None:
            self._move(branch, None, commit.id)
        else:
            self._flush()
        return commit

    def root_commit(self, message: str, author: Author) -> Commit:
        """A commit of the empty tree with no parent, on no branch: the base of a first build."""
        message = _check_message(message)
        _check_author(author)
        tree = self._write("tree", encode_tree(()))
        commit = self._write_commit(tree, (), message, author)
        self._flush()
        return commit

    def point(self, branch: str, commit_id: str) -> None:
        """Move (or create) `branch` to an existing commit, whatever it pointed at before.

        Build tasks restart their branch from a fresh base on every run and every attempt;
        the move is still a compare-and-swap, so a concurrent writer is detected.
        """
        validate_branch(branch)
        target = self.resolve(commit_id)
        head = self._refs.get(branch)
        if head != target:
            self._move(branch, head, target)

    # -- internals: objects ----------------------------------------------------------------

    def _find(self, object_id_: str) -> str | None:
        """The kind of an object, or None when the store does not have it."""
        if object_id_ not in self._bodies:
            raw = self._objects.get(object_id_)
            if raw is None:
                return None
            self._remember(object_id_, raw)
        return self._bodies[object_id_][0]

    def _load(self, object_id_: str, kind: str) -> bytes:
        if object_id_ not in self._bodies:
            raw = self._objects.get(object_id_)
            if raw is None:
                raise CorruptObject(object_id_, "missing from the store")
            self._remember(object_id_, raw)
        found, body = self._bodies[object_id_]
        if found != kind:
            raise CorruptObject(object_id_, f"is a {found}, expected a {kind}")
        return body

    def _load_many(self, object_ids: Iterable[str]) -> None:
        wanted = list(dict.fromkeys(i for i in object_ids if i not in self._bodies))
        if not wanted:
            return
        found = self._objects.get_many(wanted)
        for object_id_ in wanted:
            raw = found.get(object_id_)
            if raw is None:
                raise CorruptObject(object_id_, "missing from the store")
            self._remember(object_id_, raw)

    def _remember(self, object_id_: str, raw: bytes) -> None:
        self._bodies[object_id_] = decode_object(object_id_, raw)
        self._stored.add(object_id_)

    def _tree(self, tree_id: str) -> dict[str, TreeEntry]:
        entries = self._trees.get(tree_id)
        if entries is None:
            body = b"" if tree_id == EMPTY_TREE_ID else self._load(tree_id, "tree")
            entries = {e.name: e for e in decode_tree(tree_id, body)}
            self._trees[tree_id] = entries
        return entries

    def _commit(self, commit_id: str) -> Commit:
        commit = self._commits.get(commit_id)
        if commit is None:
            commit = decode_commit(commit_id, self._load(commit_id, "commit"))
            self._commits[commit_id] = commit
        return commit

    def _write(self, kind: str, body: bytes) -> str:
        raw = encode_object(kind, body)
        object_id_ = hash_object(raw)
        self._bodies.setdefault(object_id_, (kind, body))
        if object_id_ not in self._stored:
            self._pending[object_id_] = raw
        return object_id_

    def _flush(self) -> None:
        if self._pending:
            self._objects.put_many(self._pending)
            self._stored.update(self._pending)
            self._pending = {}

    def _write_commit(self, tree: str, parents: tuple[str, ...], message: str, author: Author) -> Commit:
        signature = Signature(author.name, author.email, int(self._clock().timestamp()))
        body = encode_commit(tree, parents, signature, signature, message)
        commit_id = self._write("commit", body)
        commit = Commit(commit_id, tree, parents, signature, signature, message)
        self._commits[commit_id] = commit
        return commit

    def _move(self, branch: str, expected: str | None, new: str) -> None:
        # Every object the new head reaches is stored before the branch points at it.
        self._flush()
        if not self._refs.compare_and_swap(branch, expected, new):
            raise RefConflict(branch, expected, self._refs.get(branch))

    # -- internals: trees ------------------------------------------------------------------

    @staticmethod
    def _normalize_changes(changes: Mapping[str, bytes | None]) -> dict[str, bytes | None]:
        edits: dict[str, bytes | None] = {}
        for raw_path, content in changes.items():
            path = normalize_path(raw_path)
            if path in edits:
                raise InvalidPath(raw_path, f"is given more than once (as {path!r})")
            if content is not None and not isinstance(content, (bytes, bytearray, memoryview)):
                raise TypeError(f"content of {path!r} must be bytes or None, not {type(content).__name__}")
            data = bytes(content) if content is not None else None
            # git's fsck also reads what some files say (.gitmodules, .gitattributes).
            problem = git_paths.content_problem(path, data) if data is not None else None
            if problem is not None:
                raise RefusedByGit(raw_path, problem)
            edits[path] = data
        return edits

    def _lookup(self, tree_id: str, path: str) -> TreeEntry | None:
        """The entry at `path` (a file path, or a directory), None when absent."""
        *dirs, name = path.split("/")
        for segment in dirs:
            entry = self._tree(tree_id).get(segment)
            if entry is None or not entry.is_dir:
                return None
            tree_id = entry.id
        return self._tree(tree_id).get(name)

    def _node(self, tree_id: str | None) -> _Node:
        return _Node(dict(self._tree(tree_id)) if tree_id is not None else {})

    def _edit_tree(self, base_tree: str | None, edits: Mapping[str, str | None]) -> str:
        """The id of `base_tree` with `edits` (path -> blob id, None deletes) applied.

        Only the directories on the edited paths are loaded and rewritten; every other
        subtree keeps its id. Directories left empty disappear (git has no empty directories).
        """
        root = self._node(base_tree)
        for path in sorted(p for p, blob in edits.items() if blob is None):
            self._remove(root, path)
        for path in sorted(p for p, blob in edits.items() if blob is not None):
            self._place(root, path, edits[path])  # type: ignore[arg-type]
        return self._write_node(root, is_root=True)  # type: ignore[return-value]

    def _descend(self, node: _Node, segments: list[str], create: bool) -> _Node | None:
        for depth, segment in enumerate(segments):
            child = node.children.get(segment)
            if child is None:
                if not create:
                    return None
                child = node.children[segment] = _Node({})
            elif isinstance(child, TreeEntry):
                if not child.is_dir:
                    if not create:
                        return None
                    raise NotADirectory("/".join(segments[: depth + 1]))
                child = node.children[segment] = self._node(child.id)
            node = child
        return node

    def _remove(self, root: _Node, path: str) -> None:
        *dirs, name = path.split("/")
        parent = self._descend(root, dirs, create=False)
        child = parent.children.get(name) if parent is not None else None
        if child is None or _emptied(child):
            return
        if isinstance(child, _Node) or child.is_dir:
            raise IsADirectory(path)
        del parent.children[name]  # type: ignore[union-attr]

    def _place(self, root: _Node, path: str, blob: str) -> None:
        *dirs, name = path.split("/")
        parent = self._descend(root, dirs, create=True)
        assert parent is not None
        existing = parent.children.get(name)
        if existing is not None and not _emptied(existing) and (isinstance(existing, _Node) or existing.is_dir):
            raise IsADirectory(path)
        parent.children[name] = TreeEntry(name, FILE_MODE, blob)

    def _write_node(self, node: _Node, is_root: bool = False) -> str | None:
        entries = []
        for name, child in node.children.items():
            if isinstance(child, _Node):
                child_id = self._write_node(child)
                if child_id is not None:
                    entries.append(TreeEntry(name, DIR_MODE, child_id))
            else:
                entries.append(child)
        if not entries and not is_root:
            return None
        tree_id = self._write("tree", encode_tree(entries))
        self._trees.setdefault(tree_id, {e.name: e for e in entries})
        return tree_id

    def _changes(
        self, old_tree: str | None, new_tree: str | None, prefix: str = ""
    ) -> Iterator[tuple[str, str | None, str | None]]:
        """(path, old blob, new blob) for every file that differs; equal subtrees are skipped."""
        if old_tree == new_tree:
            return
        old = self._tree(old_tree) if old_tree is not None else {}
        new = self._tree(new_tree) if new_tree is not None else {}
        for name in sorted(old.keys() | new.keys()):
            before, after = old.get(name), new.get(name)
            if before is not None and after is not None and before.id == after.id and before.mode == after.mode:
                continue
            path = prefix + name
            old_dir = before.id if before is not None and before.is_dir else None
            new_dir = after.id if after is not None and after.is_dir else None
            old_file = before.id if before is not None and not before.is_dir else None
            new_file = after.id if after is not None and not after.is_dir else None
            if old_file is not None or new_file is not None:  # noqa: SIM102 - as the directory case below
                if old_file != new_file:
                    yield path, old_file, new_file
            if old_dir is not None or new_dir is not None:
                yield from self._changes(old_dir, new_dir, path + "/")

    # -- internals: history ----------------------------------------------------------------

    def _merge_bases(self, one: str, two: str) -> list[str]:
        """The best common ancestors of two commits, newest first (git's paint-down walk)."""
        if one == two:
            return [one]
        flags: dict[str, int] = {one: _P1, two: _P2}
        queue: list[tuple[int, int, str]] = []
        order = itertools.count()

        def push(commit_id: str) -> None:
            heapq.heappush(queue, (-self._commit(commit_id).committer.timestamp, next(order), commit_id))

        push(one)
        push(two)
        results: list[str] = []
        while any(not flags[item[2]] & _STALE for item in queue):
            commit_id = heapq.heappop(queue)[2]
            paint = flags[commit_id] & (_P1 | _P2 | _STALE)
            if paint == _P1 | _P2:
                if not flags[commit_id] & _RESULT:
                    flags[commit_id] |= _RESULT
                    results.append(commit_id)
                paint |= _STALE
            for parent in self._commit(commit_id).parents:
                if flags.get(parent, 0) & paint == paint:
                    continue
                flags[parent] = flags.get(parent, 0) | paint
                push(parent)
        bases = [c for c in results if not flags[c] & _STALE]
        if len(bases) > 1:  # drop a base that is an ancestor of another (criss-cross histories)
            bases = [b for b in bases if not any(o != b and self._is_ancestor(b, o) for o in bases)]
        return sorted(bases, key=lambda c: -self._commit(c).committer.timestamp)

    def _is_ancestor(self, ancestor: str, descendant: str) -> bool:
        seen = {descendant}
        queue = deque([descendant])
        while queue:
            commit_id = queue.popleft()
            if commit_id == ancestor:
                return True
            for parent in self._commit(commit_id).parents:
                if parent not in seen:
                    seen.add(parent)
                    queue.append(parent)
        return False
