"""The project repository against in-memory ports: git-exact ids, commits, reads, diffs, merges."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiln.domain.repository import (
    DIR_MODE,
    EMPTY_BLOB_ID,
    EMPTY_TREE_ID,
    FILE_MODE,
    Author,
    CorruptObject,
    Entry,
    InvalidPath,
    InvalidRef,
    IsADirectory,
    MergeConflict,
    NotADirectory,
    PathNotFound,
    RefConflict,
    RefNotFound,
    Repository,
    Signature,
    TreeEntry,
    blob_id,
    decode_commit,
    decode_object,
    decode_tree,
    encode_commit,
    encode_object,
    encode_tree,
    hash_object,
    normalize_dir,
    normalize_path,
    object_id,
    validate_branch,
    validate_ref,
)
from tests.fakes import FakeClock, FakeObjects, FakeRefs

AUTHOR = Author("Kiln Builder", "builder@kiln.dev")


def ticking() -> FakeClock:
    """A clock that advances one minute per call (commits get distinct, ordered times)."""
    return FakeClock(datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC), step=timedelta(minutes=1))


@pytest.fixture
def store() -> tuple[FakeObjects, FakeRefs]:
    return FakeObjects(), FakeRefs()


@pytest.fixture
def repo(store) -> Repository:
    return Repository(*store, clock=ticking())


def fresh(store: tuple[FakeObjects, FakeRefs]) -> Repository:
    """Another instance over the same stores (an empty cache, like another Lambda)."""
    return Repository(*store, clock=ticking())


def subtree(objects: FakeObjects, tree_id: str, name: str) -> str:
    [entry] = [e for e in decode_tree(tree_id, decode_object(tree_id, objects.objects[tree_id])[1]) if e.name == name]
    return entry.id


# --- git object ids ---------------------------------------------------------------------------


def test_object_ids_match_git():
    assert blob_id(b"") == EMPTY_BLOB_ID == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    assert blob_id(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"
    assert object_id("tree", encode_tree([])) == EMPTY_TREE_ID == "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def test_tree_entries_are_sorted_the_way_git_sorts_them():
    # A directory sorts as if its name ended with "/": after "a-b" and "a.b", before "a0".
    # Ids computed by git (git write-tree / git commit-tree) for the same files.
    sub = object_id("tree", encode_tree([TreeEntry("x", FILE_MODE, blob_id(b"x\n"))]))
    assert sub == "ab69b4abf3bb84d4e268bd42d84e4a9a5e242bd3"
    entries = [
        TreeEntry("a0", FILE_MODE, blob_id(b"a0\n")),
        TreeEntry("a", DIR_MODE, sub),
        TreeEntry("a.b", FILE_MODE, blob_id(b"a.b\n")),
        TreeEntry("a-b", FILE_MODE, blob_id(b"ab\n")),
    ]
    tree = object_id("tree", encode_tree(entries))
    assert tree == "22198ecf894e7cfd5b1f70723d8708207325e936"
    assert object_id("tree", encode_tree(reversed(entries))) == tree
    who = Signature("Kiln Builder", "builder@kiln.dev", 1700000000)
    root = object_id("commit", encode_commit(tree, [], who, who, "Initial commit\n"))
    assert root == "26d257b15f0d7189796ebdac873ab86641d7c57b"
    later = Signature("Kiln Builder", "builder@kiln.dev", 1700000060)
    assert (
        object_id("commit", encode_commit(EMPTY_TREE_ID, [root], later, later, "Remove everything\n"))
        == "443d9cd9859c523edc337afe9e073ed4032e17c0"
    )


def test_commit_round_trips_and_objects_are_checked_against_their_id():
    who = Signature("A", "a@example.com", 1700000000)
    body = encode_commit(EMPTY_TREE_ID, ["1" * 40, "2" * 40], who, who, "two parents\n")
    commit = decode_commit("c" * 40, body)
    assert (commit.tree, commit.parents, commit.author, commit.message) == (
        EMPTY_TREE_ID,
        ("1" * 40, "2" * 40),
        who,
        "two parents\n",
    )
    raw = encode_object("blob", b"hello\n")
    assert decode_object(hash_object(raw), raw) == ("blob", b"hello\n")
    with pytest.raises(CorruptObject):
        decode_object("0" * 40, raw)


def test_commits_made_by_the_repository_have_git_ids(repo, store):
    objects, _ = store
    commit = repo.commit("main", {"hello.txt": b"hello\n"}, "First", AUTHOR)
    raw = objects.objects[commit.id]
    assert hash_object(raw) == commit.id
    assert raw.startswith(b"commit ")
    assert b"\nauthor Kiln Builder <builder@kiln.dev> 1700000060 +0000\n" in raw
    assert raw.endswith(b"\n\nFirst\n")
    assert repo.files("main") == {"hello.txt": "ce013625030ba8dba906f756967f9e9ca394464a"}


# --- commit, read, list, diff -------------------------------------------------------------------


def test_commit_then_read_list_and_resolve(repo):
    first = repo.commit(
        "main",
        {"/README.md": b"# App\n", "src/app.py": b"print('hi')\n", "src/lib/util.py": b"", "logo.png": b"\x89PNG\0"},
        "Scaffold",
        AUTHOR,
    )
    assert first.parents == ()
    assert repo.resolve("main") == first.id
    assert repo.resolve(first.id.upper()) == first.id
    assert repo.branches() == {"main": first.id}
    assert repo.read_file("main", "src/app.py") == b"print('hi')\n"
    assert repo.read_file(first.id, "/README.md") == b"# App\n"
    assert repo.list_dir("main", "/") == [
        Entry("src", "directory", None),
        Entry("README.md", "file", 6),
        Entry("logo.png", "file", 5),
    ]
    assert repo.list_dir("main", "src/") == [Entry("lib", "directory", None), Entry("app.py", "file", 12)]
    assert repo.list_dir("main", "src/lib", sizes=False) == [Entry("util.py", "file", None)]
    with pytest.raises(PathNotFound):
        repo.read_file("main", "src/missing.py")
    with pytest.raises(PathNotFound):
        repo.read_file("main", "README.md/x")
    with pytest.raises(IsADirectory):
        repo.read_file("main", "src")
    with pytest.raises(NotADirectory):
        repo.list_dir("main", "README.md")
    with pytest.raises(PathNotFound):
        repo.list_dir("main", "docs")
    for unknown in ("develop", "0" * 40, "bad ref", ""):
        with pytest.raises(RefNotFound):
            repo.resolve(unknown)
    tree_id = first.tree  # an object that is not a commit is not a ref
    with pytest.raises(RefNotFound):
        repo.resolve(tree_id)


def test_second_commit_rewrites_only_the_changed_subtrees(repo, store):
    objects, _ = store
    first = repo.commit("main", {"a/x.txt": b"x", "b/y.txt": b"y", "b/c/z.txt": b"z"}, "one", AUTHOR)
    b_tree = subtree(objects, first.tree, "b")
    objects.puts.clear()
    second = repo.commit("main", {"a/x.txt": b"x2"}, "two", AUTHOR)
    assert second.parents == (first.id,)
    assert subtree(objects, second.tree, "b") == b_tree  # untouched subtree kept by id
    # New blob, new a/ tree, new root tree, new commit: nothing else is written.
    assert len(objects.puts) == 4


def test_deletes_prune_empty_directories_and_ignore_missing_paths(repo):
    repo.commit("main", {"a/b/c.txt": b"c", "keep.txt": b"k"}, "one", AUTHOR)
    repo.commit("main", {"a/b/c.txt": None, "never/there.txt": None}, "two", AUTHOR)
    assert repo.files("main") == {"keep.txt": blob_id(b"k")}
    assert repo.list_dir("main") == [Entry("keep.txt", "file", 1)]
    third = repo.commit("main", {"keep.txt": None}, "three", AUTHOR)
    assert third.tree == EMPTY_TREE_ID
    assert repo.list_dir("main") == []


def test_file_and_directory_cannot_swap_places_implicitly(repo):
    repo.commit("main", {"src/app.py": b"", "notes": b"n"}, "one", AUTHOR)
    with pytest.raises(IsADirectory):
        repo.commit("main", {"src": b"file over a directory"}, "x", AUTHOR)
    with pytest.raises(NotADirectory):
        repo.commit("main", {"notes/today.md": b"under a file"}, "x", AUTHOR)
    with pytest.raises(IsADirectory):
        repo.commit("main", {"src": None}, "deleting a directory", AUTHOR)
    # Deleting first makes room: deletions apply before writes.
    repo.commit("main", {"notes": None, "notes/today.md": b"t"}, "file becomes directory", AUTHOR)
    assert repo.files("main") == {"src/app.py": blob_id(b""), "notes/today.md": blob_id(b"t")}
    repo.commit("main", {"src/app.py": None, "src": b"directory becomes file"}, "and back", AUTHOR)
    assert repo.files("main") == {"src": blob_id(b"directory becomes file"), "notes/today.md": blob_id(b"t")}


@pytest.mark.parametrize(
    "changes, error",
    [
        ({"../etc/passwd": b"x"}, InvalidPath),
        ({"a.txt": b"x", "/a.txt": b"y"}, InvalidPath),
        ({"a.txt": "text, not bytes"}, TypeError),
    ],
)
def test_bad_changes_are_refused_before_anything_is_written(repo, store, changes, error):
    with pytest.raises(error):
        repo.commit("main", changes, "bad", AUTHOR)
    assert store[0].objects == {} and store[1].refs == {}


@pytest.mark.parametrize(
    "message, author",
    [
        ("", AUTHOR),
        ("   \n", AUTHOR),
        ("nul\0", AUTHOR),
        ("ok", Author("Evil <x@y>", "a@b")),
        ("ok", Author("", "a@b")),
        ("ok", Author("A", "a@b\n")),
    ],
)
def test_bad_messages_and_authors_are_refused(repo, message, author):
    with pytest.raises(ValueError):
        repo.commit("main", {"a": b""}, message, author)


def test_diff_between_commits(repo):
    first = repo.commit(
        "main", {"a.txt": b"a", "dir/b.txt": b"b", "dir/c.txt": b"c", "same/s.txt": b"s"}, "one", AUTHOR
    )
    second = repo.commit(
        "main",
        {"a.txt": b"A", "dir/b.txt": None, "new/d.txt": b"d", "dir/c.txt": None, "dir": b"now a file"},
        "two",
        AUTHOR,
    )
    assert repo.diff(first.id, second.id) == (["dir", "new/d.txt"], ["a.txt"], ["dir/b.txt", "dir/c.txt"])
    assert repo.diff(None, first.id).created == ["a.txt", "dir/b.txt", "dir/c.txt", "same/s.txt"]
    assert repo.diff(second.id, first.id) == (["dir/b.txt", "dir/c.txt"], ["a.txt"], ["dir", "new/d.txt"])
    assert repo.diff("main", "main") == ([], [], [])


def test_objects_are_fetched_once_per_instance(repo, store):
    objects, _ = store
    repo.commit("main", {"src/a.py": b"a", "src/b.py": b"b", "README.md": b"r"}, "one", AUTHOR)
    reader = fresh(store)
    objects.gets.clear()
    for _ in range(3):
        reader.list_dir("main", "src")
        reader.read_file("main", "src/a.py")
        reader.files("main")
    assert len(objects.gets) == len(set(objects.gets))


def test_a_missing_object_is_corruption_not_absence(repo, store):
    objects, _ = store
    commit = repo.commit("main", {"a.txt": b"a"}, "one", AUTHOR)
    del objects.objects[blob_id(b"a")]
    with pytest.raises(CorruptObject):
        fresh(store).read_file(commit.id, "a.txt")


# --- branches and compare-and-swap --------------------------------------------------------------


def test_two_writers_racing_from_the_same_head_one_wins(repo, store):
    base = repo.commit("main", {"a.txt": b"a"}, "base", AUTHOR)
    writer_one, writer_two = fresh(store), fresh(store)
    won = writer_one.commit("main", {"b.txt": b"b"}, "one", AUTHOR, parent=base.id)
    with pytest.raises(RefConflict) as lost:
        writer_two.commit("main", {"c.txt": b"c"}, "two", AUTHOR, parent=base.id)
    assert (lost.value.expected, lost.value.actual) == (base.id, won.id)
    assert repo.resolve("main") == won.id


def test_cas_refuses_a_branch_that_moved_between_read_and_swap(repo, store):
    base = repo.commit("main", {"a.txt": b"a"}, "base", AUTHOR)
    objects, refs = store
    other = fresh(store)

    # Another writer commits after this one read the head, before it swaps.
    refs.before("compare_and_swap", lambda: other.commit("main", {"other.txt": b"o"}, "sneaks in", AUTHOR))
    racer = Repository(objects, refs, clock=ticking())
    with pytest.raises(RefConflict):
        racer.commit("main", {"mine.txt": b"m"}, "loses", AUTHOR)
    assert set(repo.files("main")) == {"a.txt", "other.txt"}
    assert repo.get_commit("main").parents == (base.id,)


def test_new_branch_from_a_parent_and_bad_branch_names(repo):
    base = repo.commit("main", {"a.txt": b"a"}, "base", AUTHOR)
    task = repo.commit("feat/task-001-add-b", {"b.txt": b"b"}, "task", AUTHOR, parent="main")
    assert task.parents == (base.id,)
    assert repo.resolve("main") == base.id
    with pytest.raises(RefNotFound):
        repo.commit("feat/task-002-x", {"c": b""}, "task", AUTHOR, parent="nope")
    with pytest.raises(InvalidRef):
        repo.commit("bad..name", {"c": b""}, "task", AUTHOR)


@pytest.mark.parametrize("name", ["main", "feat/task-001-some-slug", "release-1.2", "a_b/c.d", "x" * 200])
def test_good_branch_names(name):
    assert validate_branch(name) == name
    assert validate_ref(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "x" * 201,
        "a..b",
        "has space",
        "tab\there",
        "ctl\x01",
        "/lead",
        "trail/",
        "a//b",
        ".hidden",
        "a/.b",
        "x.lock",
        "a/x.lock/b",
        "-dash",
        "dot.",
        "HEAD",
        "a" * 40,
        "a~1",
        "a^",
        "a:b",
        "a?",
        "a*",
        "a[b",
        "a\\b",
        "a@{b",
        "ümlaut",
    ],
)
def test_bad_branch_names(name):
    with pytest.raises(InvalidRef):
        validate_branch(name)


def test_a_commit_sha_is_a_valid_ref_but_not_a_branch_name():
    assert validate_ref("A" * 40) == "a" * 40
    with pytest.raises(InvalidRef) as error:
        validate_ref("a..b")
    assert "commit sha" in error.value.reason


# --- merges -------------------------------------------------------------------------------------


def test_fast_forward_merge(repo):
    base = repo.commit("main", {"a.txt": b"a"}, "base", AUTHOR)
    task = repo.commit("feat/task-001-b", {"b.txt": b"b"}, "task", AUTHOR, parent=base.id)
    result = repo.merge("main", "feat/task-001-b", "Merge task 1", AUTHOR)
    assert (result.kind, result.commit, result.base) == ("fast_forward", task.id, base.id)
    assert repo.resolve("main") == task.id
    again = repo.merge("main", "feat/task-001-b", "Merge task 1", AUTHOR)
    assert (again.kind, again.commit) == ("up_to_date", task.id)
    older = repo.merge("main", base.id, "Merge an ancestor", AUTHOR)
    assert (older.kind, older.commit) == ("up_to_date", task.id)


def test_merge_into_a_branch_that_does_not_exist_creates_it(repo):
    task = repo.commit("feat/task-001-first", {"a.txt": b"a"}, "first", AUTHOR)
    result = repo.merge("main", task.id, "Merge", AUTHOR)
    assert (result.kind, result.commit, repo.resolve("main")) == ("fast_forward", task.id, task.id)


def test_three_way_merge_of_disjoint_changes(repo):
    base = repo.commit(
        "main",
        {"shared.txt": b"s", "ours.txt": b"o", "theirs.txt": b"t", "both.txt": b"b", "gone.txt": b"g"},
        "base",
        AUTHOR,
    )
    theirs = repo.commit(
        "feat/task-002-theirs",
        {"theirs.txt": b"T", "both.txt": b"B", "gone.txt": None, "lib/new.py": b"n"},
        "theirs",
        AUTHOR,
        parent=base.id,
    )
    ours = repo.commit("main", {"ours.txt": b"O", "both.txt": b"B", "docs/x.md": b"x"}, "ours", AUTHOR)
    result = repo.merge("main", "feat/task-002-theirs", "Merge task 2", AUTHOR)
    assert (result.kind, result.base) == ("merge", base.id)
    merged = repo.get_commit("main")
    assert merged.id == result.commit and merged.parents == (ours.id, theirs.id)
    assert repo.files("main") == {
        "shared.txt": blob_id(b"s"),
        "ours.txt": blob_id(b"O"),
        "theirs.txt": blob_id(b"T"),
        "both.txt": blob_id(b"B"),
        "lib/new.py": blob_id(b"n"),
        "docs/x.md": blob_id(b"x"),
    }
    # Merging the same branch again: it is contained now.
    assert repo.merge("main", "feat/task-002-theirs", "again", AUTHOR).kind == "up_to_date"
    # A later task branched from main before the merge still merges against the right base.
    late = repo.commit("feat/task-003-late", {"late.txt": b"l"}, "late", AUTHOR, parent=ours.id)
    result = repo.merge("main", late.id, "Merge task 3", AUTHOR)
    assert (result.kind, result.base) == ("merge", ours.id)
    assert "late.txt" in repo.files("main") and "lib/new.py" in repo.files("main")


@pytest.mark.parametrize(
    "ours, theirs, conflicts",
    [
        ({"f.txt": b"ours"}, {"f.txt": b"theirs"}, ("f.txt",)),  # both modified differently
        ({"f.txt": None}, {"f.txt": b"theirs"}, ("f.txt",)),  # deleted vs modified
        ({"new.txt": b"1"}, {"new.txt": b"2"}, ("new.txt",)),  # both added differently
        ({"d": b"file"}, {"d/inner.txt": b"dir"}, ("d",)),  # a file on one side, a directory on the other
    ],
)
def test_conflicting_changes_raise_merge_conflict_and_move_nothing(repo, ours, theirs, conflicts):
    base = repo.commit("main", {"f.txt": b"base"}, "base", AUTHOR)
    repo.commit("feat/task-004-x", theirs, "theirs", AUTHOR, parent=base.id)
    head = repo.commit("main", ours, "ours", AUTHOR)
    with pytest.raises(MergeConflict) as error:
        repo.merge("main", "feat/task-004-x", "Merge", AUTHOR)
    assert error.value.paths == conflicts
    assert repo.resolve("main") == head.id


def test_merge_loses_a_race_with_another_writer(repo, store):
    base = repo.commit("main", {"a.txt": b"a"}, "base", AUTHOR)
    repo.commit("feat/task-005-x", {"x.txt": b"x"}, "x", AUTHOR, parent=base.id)
    repo.commit("main", {"m.txt": b"m"}, "m", AUTHOR)
    objects, refs = store

    # Another writer moves main just before this merge swaps it.
    refs.before("compare_and_swap", lambda: repo.commit("main", {"late.txt": b"l"}, "late", AUTHOR))
    slow = Repository(objects, refs, clock=ticking())
    with pytest.raises(RefConflict):
        slow.merge("main", "feat/task-005-x", "Merge", AUTHOR)
    assert "x.txt" not in repo.files("main")


def test_unrelated_histories_merge_when_they_do_not_overlap(repo):
    repo.commit("main", {"a.txt": b"a"}, "a", AUTHOR)
    repo.commit("feat/task-006-orphan", {"b.txt": b"b"}, "b", AUTHOR)
    result = repo.merge("main", "feat/task-006-orphan", "Merge", AUTHOR)
    assert (result.kind, result.base) == ("merge", None)
    assert set(repo.files("main")) == {"a.txt", "b.txt"}


# --- paths --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("README.md", "README.md"),
        ("/src/app.py", "src/app.py"),
        (".env", ".env"),
        ("..hidden/x", "..hidden/x"),
        ("a/.gitignore", "a/.gitignore"),
        ("dir with spaces/file name.txt", "dir with spaces/file name.txt"),
        ("ünïcödé/文件.txt", "ünïcödé/文件.txt"),
        ("/".join(["d"] * 32), "/".join(["d"] * 32)),
        ("x" * 255, "x" * 255),
        ("/".join(["y" * 200] * 5) + "/" + "z" * 19, "/".join(["y" * 200] * 5) + "/" + "z" * 19),  # 1,024 bytes
    ],
)
def test_good_paths(raw, expected):
    assert normalize_path(raw) == expected


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("", "empty"),
        ("/", "empty"),
        ("//a", "empty segments"),
        ("a//b", "empty segments"),
        ("a/", "empty segments"),
        ("../a", "'..'"),
        ("a/../b", "'..'"),
        ("a/..", "'..'"),
        ("./a", "'.'"),
        ("a\\b", "backslash"),
        ("a\0b", "control"),
        ("a\nb", "control"),
        ("a\x7fb", "control"),
        ("a\x85b", "control"),
        (".git/config", ".git"),
        ("sub/.GIT/hooks/pre-commit", ".git"),
        ("/".join(["d"] * 33), "segments"),
        ("x" * 256, "255 bytes"),
        ("é" * 128, "255 bytes"),
        ("/".join(["y" * 200] * 5) + "/" + "z" * 20, "1024 bytes"),
        ("bad\ud800surrogate", "Unicode"),
    ],
)
def test_bad_paths(raw, reason):
    with pytest.raises(InvalidPath) as error:
        normalize_path(raw)
    assert reason in error.value.reason


@pytest.mark.parametrize("raw, expected", [("", ""), ("/", ""), ("src", "src"), ("/src/", "src"), ("a/b/", "a/b")])
def test_directory_paths(raw, expected):
    assert normalize_dir(raw) == expected


@pytest.mark.parametrize("raw", ["//", "src//", "/../", "a/./"])
def test_bad_directory_paths(raw):
    with pytest.raises(InvalidPath):
        normalize_dir(raw)


# --- property: whatever is committed reads back -------------------------------------------------

_segment = st.sampled_from(["a", "b", "c", "a.b", "a-b", "a0", "Z", "é", ".env", "long-name.txt"])
_path = st.lists(_segment, min_size=1, max_size=4).map("/".join)
_content = st.binary(max_size=40)


def _conflicts(paths: Iterable[str]) -> bool:
    """Some path is also a directory of another path (a file and a directory of one name)."""
    paths = set(paths)
    return any("/".join(p.split("/")[:i]) in paths for p in paths for i in range(1, p.count("/") + 1))


def _directories(paths: Iterable[str]) -> set[str]:
    return {"/".join(p.split("/")[:i]) for p in paths for i in range(p.count("/") + 1)}


def _check_reads(repo: Repository, ref: str, model: dict[str, bytes]) -> None:
    assert repo.files(ref) == {path: blob_id(data) for path, data in model.items()}
    for path, data in model.items():
        assert repo.read_file(ref, path) == data
    for directory in _directories(model):
        listing = repo.list_dir(ref, directory or "/")
        prefix = directory + "/" if directory else ""
        children = {p[len(prefix) :].split("/")[0] for p in model if p.startswith(prefix)}
        assert sorted(e.name for e in listing) == sorted(children)
        dirs = [e for e in listing if e.type == "directory"]
        assert listing == dirs + [e for e in listing if e.type == "file"]
        assert [e.name for e in dirs] == sorted(e.name for e in dirs)
        for entry in listing:
            if entry.type == "file":
                assert entry.size == len(model[prefix + entry.name])
            else:
                assert entry.size is None and prefix + entry.name in _directories(model) | {""}


@settings(max_examples=40, deadline=None)
@given(
    first=st.dictionaries(_path, _content, max_size=12), second=st.dictionaries(_path, st.none() | _content, max_size=8)
)
def test_committed_files_read_back_exactly(first, second):
    store = FakeObjects(), FakeRefs()
    repo = Repository(*store, clock=ticking())
    first = {p: d for p, d in first.items() if not any(q.startswith(p + "/") for q in first)}
    one = repo.commit("main", first, "one", AUTHOR)
    _check_reads(fresh(store), "main", first)
    # Deleting a directory is an error by design; keep the deletions to files or absent paths.
    second = {p: d for p, d in second.items() if d is not None or p not in _directories(first)}
    model = {p: d for p, d in first.items() if second.get(p, d) is not None}
    model.update({p: d for p, d in second.items() if d is not None})
    if _conflicts(model):
        with pytest.raises((IsADirectory, NotADirectory)):
            repo.commit("main", second, "two", AUTHOR)
        return
    two = repo.commit("main", second, "two", AUTHOR)
    _check_reads(fresh(store), two.id, model)
    _check_reads(repo, one.id, first)
    created, modified, deleted = repo.diff(one.id, two.id)
    assert created == sorted(set(model) - set(first))
    assert deleted == sorted(set(first) - set(model))
    assert modified == sorted(p for p in set(first) & set(model) if first[p] != model[p])
