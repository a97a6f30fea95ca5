"""kiln.domain.git_paths: the paths and .gitmodules git refuses, checked on tables of hostile
names and their legitimate look-alikes, on git's own test vectors (t0060-path-utils.sh,
t7450-bad-git-dotfiles.sh), and against the real `git fsck --strict` where git is installed."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tarfile
import zlib
from pathlib import Path

import pytest

from kiln.domain import git_paths
from kiln.domain.archives import InvalidArchive, inspect
from kiln.domain.git_paths import (
    check_submodule_name,
    check_submodule_url,
    content_problem,
    gitmodules_problem,
    is_dotgitattributes,
    is_dotgitmodules,
    path_problem,
)
from kiln.domain.repository import (
    DIR_MODE,
    FILE_MODE,
    RefusedByGit,
    Repository,
    TreeEntry,
    encode_object,
    encode_tree,
    normalize_path,
)
from tests.fakes import FakeObjects, FakeRefs
from tests.unit.kiln.domain import hostile_archives as hostile
from tests.unit.kiln.domain.test_repository import AUTHOR, ticking

ZWNJ = "\u200c"

# Every spelling git reads as `.git` on some file system it protects.
HOSTILE = [
    ".git/config",
    ".GIT/config",
    ".Git/hooks/pre-commit",
    ".git./config",  # NTFS drops trailing dots ...
    ".git /config",  # ... and spaces
    ".git . ./config",
    ".GIT./hooks/x",
    "git~1/config",  # the 8.3 short name of .git
    "GIT~1/config",
    ".git::$INDEX_ALLOCATION/config",  # an NTFS alternate data stream of the directory
    ".git:stream",
    f".g{ZWNJ}it/config",  # HFS+ ignores zero-width code points
    f"{ZWNJ}.git/config",
    ".git\u200d/config",
    ".gi\ufefft/config",
    ".G\u200eI\u202at/config",
    "a/.git./b",  # nested: any segment
    "deep/er/git~1/x",
    "src/.git",
    "x/.GIT ",
]

# Names that look like .git but are not, to git or to any file system: they must stay.
LEGITIMATE = [
    ".github/workflows/ci.yml",
    ".gitignore",
    ".gitattributes",
    ".gitmodules",
    ".gitkeep",
    "git.txt",
    "git/objects.md",
    "digit~1/x",
    "git~2/x",  # git only guarantees .git the first short name
    "git~1x/y",
    ".git~1/y",
    ".git.x/y",
    ".gitx/y",
    "..git/y",
    ".gi/t",
    " .git/y",  # a leading space is kept by every file system
    "x.git/y",
    "src/app.git",
    ".g\u0130t/y",  # dotted capital I: not ASCII, HFS+ does not fold it to 'i'
]


@pytest.mark.parametrize("path", HOSTILE)
def test_every_alias_of_dotgit_is_refused(path):
    problem = path_problem(path)
    assert problem is not None and problem.reason == "git_path"
    assert "git refuses" in problem.message
    with pytest.raises(RefusedByGit) as refused:
        normalize_path(path)
    assert refused.value.code == "git_path"


@pytest.mark.parametrize("path", LEGITIMATE)
def test_look_alikes_stay_accepted(path):
    assert path_problem(path) is None
    assert normalize_path(path) == path


def test_the_message_names_the_segment_and_why():
    assert "'.git.'" in path_problem("a/.git./b").message and "Windows" in path_problem(".git./b").message
    assert "short (8.3) name" in path_problem("git~1/x").message
    hfs = path_problem(f".g{ZWNJ}it/config").message
    assert "macOS" in hfs and "\\u200c" in hfs  # the invisible character is shown


def test_symbolic_links_named_like_gitmodules_are_refused():
    for name in (".gitmodules", ".GITMODULES", "gitmod~1", ".gitmodules .", f".git{ZWNJ}modules"):
        assert path_problem(name) is None
        assert path_problem(name, symlink=True) is not None


# --- git's own vectors (t/t0060-path-utils.sh) -----------------------------------------------

GITMODULES_ALIASES = [
    ".gitmodules",
    f".git{ZWNJ}modules",
    ".Gitmodules",
    ".gitmoduleS",
    ".gitmodules ",
    ".gitmodules.",
    ".gitmodules  ",
    ".gitmodules. ",
    ".gitmodules .",
    ".gitmodules..",
    ".gitmodules   ",
    ".gitmodules.  ",
    ".gitmodules . ",
    ".gitmodules  .",
    ".Gitmodules ",
    ".Gitmodules.",
    ".Gitmodules  ",
    ".Gitmodules. ",
    ".Gitmodules .",
    ".Gitmodules..",
    "GITMOD~1",
    "gitmod~1",
    "GITMOD~2",
    "gitmod~3",
    "GITMOD~4",
    "GITMOD~1 ",
    "gitmod~2.",
    "GITMOD~3  ",
    "gitmod~4. ",
    "GITMOD~1 .",
    "gitmod~2   ",
    "GITMOD~3.  ",
    "gitmod~4 . ",
    "GI7EBA~1",
    "gi7eba~9",
    "GI7EB~10",
    "GI7EB~11",
    "GI7EB~99",
    "GI7E~100",
    "GI7E~101",
    "GI7E~999",
    "~1000000",
    "~9999999",
    ".gitmodules:$DATA",
    "gitmod~4 . :$DATA",
]
NOT_GITMODULES = [
    ".gitmodules x",
    ".gitmodules .x",
    " .gitmodules",
    "..gitmodules",
    "gitmodules",
    ".gitmodule",
    ".gitmodules x ",
    "GI7EBA~",
    "GI7EBA~0",
    "GI7EBA~~1",
    "GI7EBA~X",
    "Gx7EBA~1",
    "GI7EBX~1",
    "GI7EB~1",
    "GI7EB~01",
    "GI7EB~1X",
    ".gitmodules,:$DATA",
]


def test_gitmodules_aliases_as_git_tests_them():
    assert [name for name in GITMODULES_ALIASES if not is_dotgitmodules(name)] == []
    assert [name for name in NOT_GITMODULES if is_dotgitmodules(name)] == []
    for name in (".gitattributes", f".git{ZWNJ}attributes", ".Gitattributes", ".gitattributeS", "GITATT~1", "GI7D29~1"):
        assert is_dotgitattributes(name), name


# --- .gitmodules (t/t7450-bad-git-dotfiles.sh) -----------------------------------------------


def test_submodule_names_as_git_checks_them():
    assert check_submodule_name("valid") and check_submodule_name("valid/with/paths")
    for name in (
        "",
        "../foo",
        "/../foo",
        "..\\foo",
        "\\..\\foo",
        "foo/..",
        "foo/../",
        "foo\\..",
        "foo\\..\\",
        "foo/../bar",
    ):
        assert not check_submodule_name(name), name


def test_submodule_urls_as_git_checks_them():
    for url in (
        "./bar/baz/foo.git",
        "https://example.com/foo.git",
        "http://example.com:80/deeper/foo.git",
        "git@github.com:org/repo.git",
        "ssh://git@host/x.git",
        "../sibling.git",
    ):
        assert check_submodule_url(url), url
    for url in (
        "-a./foo",
        "../../..//test/foo.git",
        "../../../../../:localhost:8080/foo.git",
        "..\\../.\\../:example.com/foo.git",
        "./%0ahost=example.com/foo.git",
        "https://one.example.com/evil?%0ahost=two.example.com",
        "https:///example.com/foo.git",
        "http://example.com:test/foo.git",
        "https::example.com/foo.git",
        "http:::example.com/foo.git",
        "--upload-pack=touch /tmp/pwned",
        "git://host/%0Afoo",
        "https://host:0/x",
        "https://host:65536/x",
        "https://host/%zz",
        "https://host/../../x",
    ):
        assert not check_submodule_url(url), url


def gitmodules(**settings: str) -> bytes:
    lines = ['[submodule "lib"]'] + [f"\t{key} = {value}" for key, value in settings.items()]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(
    "content, reason",
    [
        (gitmodules(path="lib", url="--upload-pack=touch /tmp/pwned"), "gitmodules_url"),
        (gitmodules(path="lib", url='"--upload-pack=x"'), "gitmodules_url"),  # quotes are not part of it
        (gitmodules(path="lib", url="./%0ahost=example.com/x.git"), "gitmodules_url"),
        (gitmodules(path="-lib", url="https://example.com/x.git"), "gitmodules_path"),
        (gitmodules(path="../outside", url="https://example.com/x.git"), "gitmodules_path"),
        (gitmodules(path="lib", update="!touch /tmp/pwned"), "gitmodules_update"),
        (b'[submodule "../../modules/evil"]\n\tpath = evil\n', "gitmodules_name"),
        (b'[submodule "-evil"]\n\tpath = evil\n', "gitmodules_name"),
        (b'[submodule "lib"]\n\turl = "unterminated\n', "gitmodules_parse"),
        (b'[submodule "lib"\n', "gitmodules_parse"),
        (b"\xef\xbb[core]\n", "gitmodules_parse"),  # a partial byte order mark
        # The hostile line comes after one git parses: every line is checked.
        (gitmodules(path="lib", url="https://example.com/ok.git") + b'[submodule "b"]\n\turl = -x\n', "gitmodules_url"),
        (b"[submodule.old]\n\turl = --upload-pack=x\n", "gitmodules_url"),  # the old section syntax
        (b'[SubModule "x"]\n\tURL = \\\n  -oops\n', "gitmodules_url"),  # case, and a continued line
    ],
)
def test_hostile_gitmodules_are_refused(content, reason):
    problem = gitmodules_problem(content)
    assert problem is not None and problem.reason == reason, problem
    assert content_problem("vendor/.gitmodules", content) == problem  # in any directory
    assert content_problem("gitmod~1", content) == problem  # under any alias
    assert content_problem("docs/gitmodules.md", content) is None  # other names are not read


def test_ordinary_gitmodules_pass():
    content = (
        b"\xef\xbb\xbf# submodules\n"
        b'[submodule "vendor/lib"]\n\tpath = vendor/lib\n\turl = https://github.com/org/lib.git\n'
        b'\tbranch = main ; a comment\n[submodule "docs"]\n\tpath = docs\n\turl = ../docs.git\n'
        b"\tupdate = rebase\n[core]\n\tbare\n"
    )
    assert gitmodules_problem(content) is None
    assert gitmodules_problem(b"") is None


def test_gitattributes_lines_and_size():
    assert content_problem(".gitattributes", b"*.py text\n" + b"a" * 2047 + b"\n") is None
    long_line = content_problem("src/.gitattributes", b"*.py text\n" + b"a" * 2048)
    assert long_line is not None and long_line.reason == "gitattributes"
    assert content_problem(".gitattributes", b"ok\0" + b"a" * 5000) is None  # git reads up to a NUL
    check = git_paths.content_check(".gitattributes")
    assert check is not None
    assert [check.feed(b"a" * 1000) for _ in range(2)] == [None, None]
    assert check.feed(b"a" * 48) is not None  # one line across three chunks


def test_a_large_gitmodules_is_refused_without_being_held_whole():
    check = git_paths.content_check(".gitmodules")
    assert check is not None
    assert check.feed(b"#" * git_paths.GITMODULES_MAX_BYTES) is None
    problem = check.feed(b"#")
    assert problem is not None and problem.reason == "gitmodules_parse"


# --- where Kiln uses it ----------------------------------------------------------------------


def archive_reason(data: bytes) -> str:
    with pytest.raises(InvalidArchive) as caught:
        inspect(io.BytesIO(data))
    return caught.value.reason


def tar_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("path", HOSTILE)
def test_archives_refuse_every_alias_in_zip_tar_and_kiln(path):
    files = {"README.md": b"ok", path: b"[core]\n"}
    assert archive_reason(hostile.zip_of(files)) == "git_path"
    assert archive_reason(tar_of(files)) == "git_path"
    assert archive_reason(hostile.kiln_zip(hostile.kiln_document(files), files)) == "git_path"


def test_archives_refuse_a_hostile_gitmodules_and_name_the_entry():
    evil = gitmodules(path="lib", url="--upload-pack=touch /tmp/pwned")
    with pytest.raises(InvalidArchive) as caught:
        inspect(io.BytesIO(hostile.zip_of({"project/README.md": b"x", "project/.gitmodules": evil})))
    assert caught.value.reason == "gitmodules_url"
    assert caught.value.details == {"reason": "gitmodules_url", "entry": "project/.gitmodules"}
    assert "--upload-pack" in str(caught.value.message)
    assert archive_reason(tar_of({"a/GITMOD~1": evil})) == "gitmodules_url"
    attributes = {".gitattributes": b"x" * 3000}
    assert archive_reason(hostile.kiln_zip(hostile.kiln_document(attributes), attributes)) == "gitattributes"


def test_archives_keep_the_look_alikes():
    files = {path: b"x" for path in LEGITIMATE if path != ".gitmodules"}
    files[".gitmodules"] = gitmodules(path="lib", url="https://example.com/lib.git")
    files["ROOT"] = b"keeps the tree from sharing one top directory"
    assert {entry.path for entry in inspect(io.BytesIO(hostile.zip_of(files))).entries} == set(files)


def test_the_repository_refuses_what_git_refuses_and_writes_nothing():
    objects, refs = FakeObjects(), FakeRefs()
    repo = Repository(objects, refs, clock=ticking())
    with pytest.raises(RefusedByGit):
        repo.commit("main", {"ok.txt": b"x", ".GIT./hooks/post-checkout": b"#!/bin/sh\n"}, "evil", AUTHOR)
    with pytest.raises(RefusedByGit) as refused:
        repo.commit("main", {".gitmodules": gitmodules(url="-x")}, "evil", AUTHOR)
    assert refused.value.code == "gitmodules_url"
    assert objects.objects == {} and refs.refs == {}


# --- against git itself ----------------------------------------------------------------------

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


class GitRepository:
    """A bare repository fed raw objects, as Kiln's object store holds them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)

    def put(self, raw: bytes) -> str:
        """Writes an object as it is: --literally skips the checks hash-object would make."""
        kind, body = raw.split(b" ", 1)[0].decode(), raw.split(b"\0", 1)[1]
        done = subprocess.run(
            ["git", "--git-dir", str(self.path), "hash-object", "-t", kind, "--literally", "-w", "--stdin"],
            input=body,
            capture_output=True,
            check=True,
        )
        return done.stdout.decode().strip()

    def put_loose(self, object_id: str, raw: bytes) -> None:
        target = self.path / "objects" / object_id[:2] / object_id[2:]
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(zlib.compress(raw))

    def fsck(self) -> tuple[int, str]:
        done = subprocess.run(
            ["git", "--git-dir", str(self.path), "fsck", "--strict", "--no-dangling"], capture_output=True
        )
        return done.returncode, (done.stdout + done.stderr).decode("utf-8", "replace")


def _tree_with(name: str, blob: str) -> bytes:
    return encode_object("tree", encode_tree([TreeEntry(name, FILE_MODE, blob)]))


@needs_git
def test_git_fsck_refuses_exactly_the_segments_kiln_refuses(tmp_path):
    segments = sorted(
        {segment for path in HOSTILE + LEGITIMATE for segment in path.split("/")}
        | set(GITMODULES_ALIASES)
        | set(NOT_GITMODULES)
    )
    git = GitRepository(tmp_path / "names.git")
    blob = git.put(encode_object("blob", b"x"))
    trees = {git.put(_tree_with(segment, blob)): segment for segment in segments}
    _, report = git.fsck()
    refused_by_git = {trees[tree] for tree in re.findall(r"tree ([0-9a-f]{40}): hasDotgit", report)}
    refused_by_kiln = {segment for segment in segments if path_problem(segment) is not None}
    assert refused_by_kiln == refused_by_git
    assert len(refused_by_git) >= 15


@needs_git
def test_git_fsck_refuses_no_gitmodules_kiln_accepts(tmp_path):
    """Kiln refuses every .gitmodules the installed git refuses (and, being git's newest rules
    plus a few of its own, sometimes more: never less)."""
    urls = [
        "https://example.com/x.git",
        "../x.git",
        "--upload-pack=x",
        "./%0ahost=example.com/x.git",
        "../../:x",
        "https:///example.com",
        "https::example.com/x.git",
        "git://h/%0a",
        "https://h/%0A",
        "http::https://h/x",
        "./ok",
        "..\\..\\:x",
        "-",
        "https://u%0a@h/x",
    ]
    git = GitRepository(tmp_path / "modules.git")
    contents = {}
    for index, url in enumerate(urls):
        escaped = url.replace("\\", "\\\\")
        content = f'[submodule "s{index}"]\n\tpath = s{index}\n\turl = "{escaped}"\n'.encode()
        blob = git.put(encode_object("blob", content))
        git.put(_tree_with(".gitmodules", blob))
        contents[blob] = content
    _, report = git.fsck()
    refused_by_git = set(re.findall(r"blob ([0-9a-f]{40}): gitmodules", report))
    assert len(refused_by_git) >= 6, report
    assert [contents[blob] for blob in refused_by_git if gitmodules_problem(contents[blob]) is None] == []
    accepted_by_kiln = [blob for blob, content in contents.items() if gitmodules_problem(content) is None]
    assert len(accepted_by_kiln) >= 3 and not set(accepted_by_kiln) & refused_by_git


@needs_git
def test_a_tree_kiln_accepts_passes_git_fsck_strict_and_the_refused_ones_fail_it(tmp_path):
    objects, refs = FakeObjects(), FakeRefs()
    files = {path: b"x\n" for path in LEGITIMATE}
    files[".gitmodules"] = gitmodules(path="vendor/lib", url="https://example.com/lib.git")
    files[".gitattributes"] = b"*.py text eol=lf\n"
    commit = Repository(objects, refs, clock=ticking()).commit("main", files, "Look-alikes", AUTHOR)
    good = GitRepository(tmp_path / "good.git")
    for object_id, raw in objects.objects.items():
        good.put_loose(object_id, raw)
    (good.path / "refs" / "heads" / "main").write_text(commit.id + "\n")
    (good.path / "HEAD").write_text("ref: refs/heads/main\n")
    assert good.fsck() == (0, "")

    bad = GitRepository(tmp_path / "bad.git")
    blob = bad.put(encode_object("blob", b"x"))
    trees: dict[str, set[str]] = {}  # each hostile path: the trees written for it
    for path in HOSTILE:
        *parents, name = path.split("/")
        tree = bad.put(_tree_with(name, blob))
        trees[path] = {tree}
        for parent in reversed(parents):
            tree = bad.put(encode_object("tree", encode_tree([TreeEntry(parent, DIR_MODE, tree)])))
            trees[path].add(tree)
    status, report = bad.fsck()
    flagged = set(re.findall(r"tree ([0-9a-f]{40}): hasDotgit", report))
    assert status != 0 and [path for path, written in trees.items() if not written & flagged] == []
