"""Repository objects in S3 as git loose objects; with git installed, git reads them as they are."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import zlib

import boto3
import pytest

from kiln import services
from kiln.adapters.aws import client
from kiln.adapters.objects import S3ObjectStore
from kiln.domain.repository import Author, Repository, blob_id, encode_object, hash_object
from tests.unit.conftest import BUCKET

pytestmark = pytest.mark.usefixtures("cloud")

WORKSPACE = "ws_01m885m8rskqxxjknrtpgbxm1p"
PROJECT = "proj_01m885m8rskqxxjknrtpgbxm1p"
OTHER_PROJECT = "proj_01m885m8rskqxxjknrtpgbxm1q"
PREFIX = f"repos/{WORKSPACE}/{PROJECT}/objects/"


def repository(workspace_id: str, project_id: str) -> Repository:
    """A project's repository as the handlers and workers get it: from the composition root."""
    return services.current().repository(workspace_id, project_id)


def raw_blob(content: bytes) -> tuple[str, bytes]:
    raw = encode_object("blob", content)
    return hash_object(raw), raw


@pytest.fixture
def s3_calls() -> list[str]:
    calls: list[str] = []
    client("s3").meta.events.register("before-call.s3.*", lambda model, **_: calls.append(model.name))
    return calls


def test_objects_are_stored_as_compressed_loose_objects():
    object_id, raw = raw_blob(b"hello\n")
    store = S3ObjectStore(WORKSPACE, PROJECT)
    store.put(object_id, raw)
    key = PREFIX + "ce/013625030ba8dba906f756967f9e9ca394464a"
    assert store.key(object_id) == key
    body = boto3.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert zlib.decompress(body) == b"blob 6\0hello\n"
    assert S3ObjectStore(WORKSPACE, PROJECT).get(object_id) == raw


def test_missing_objects_and_other_projects():
    object_id, raw = raw_blob(b"mine")
    S3ObjectStore(WORKSPACE, PROJECT).put(object_id, raw)
    fresh = S3ObjectStore(WORKSPACE, PROJECT)
    assert fresh.has(object_id) is True
    other = S3ObjectStore(WORKSPACE, OTHER_PROJECT)
    assert other.get(object_id) is None
    assert other.has(object_id) is False


def test_a_put_of_a_known_object_is_skipped(s3_calls):
    object_id, raw = raw_blob(b"once")
    store = S3ObjectStore(WORKSPACE, PROJECT)
    store.put(object_id, raw)
    store.put(object_id, raw)
    store.put_many({object_id: raw})
    assert s3_calls.count("PutObject") == 1
    reader = S3ObjectStore(WORKSPACE, PROJECT)
    assert reader.get(object_id) == raw
    reader.put(object_id, raw)  # read back, so known to be stored
    assert reader.has(object_id)
    assert s3_calls.count("PutObject") == 1 and "HeadObject" not in s3_calls


def test_batches_round_trip_and_leave_out_missing_ids():
    objects = dict(raw_blob(f"file {n}".encode()) for n in range(40))
    S3ObjectStore(WORKSPACE, PROJECT).put_many(objects)
    missing = blob_id(b"never stored")
    found = S3ObjectStore(WORKSPACE, PROJECT).get_many([*objects, missing, next(iter(objects))])
    assert found == objects


@pytest.mark.parametrize("bad", ["../../etc", "A" * 40, "a" * 39, "g" * 40])
def test_keys_accept_only_object_ids(bad):
    with pytest.raises(ValueError):
        S3ObjectStore(WORKSPACE, PROJECT).key(bad)


def test_the_store_needs_real_ids():
    with pytest.raises(ValueError):
        S3ObjectStore("../x", PROJECT)


def test_one_request_fetches_each_object_once(s3_calls):
    writer = repository(WORKSPACE, PROJECT)
    writer.commit(
        "main",
        {f"src/m{n}.py": f"# {n}\n".encode() for n in range(10)} | {"README.md": b"r"},
        "Scaffold",
        Author("Kiln Builder", "builder@kiln.dev"),
    )
    s3_calls.clear()
    reader = repository(WORKSPACE, PROJECT)
    for _ in range(2):
        reader.list_dir("main", "src")
        reader.read_file("main", "src/m1.py")
        reader.files("main")
    # commit + root tree + src tree + 10 blobs, each fetched once.
    assert s3_calls.count("GetObject") == 13


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_reads_the_stored_repository(tmp_path: pathlib.Path):
    repo = repository(WORKSPACE, PROJECT)
    author = Author("Kiln Builder", "builder@kiln.dev")
    base = repo.commit(
        "main",
        {
            "README.md": b"# App\n",
            "src/app.py": b"print('hi')\n",
            "a-b": b"1",
            "a.b": b"2",
            "a/x": b"3",
            "a0": b"4",
            "bin/logo.png": b"\x89PNG\r\n\0",
        },
        "Scaffold",
        author,
    )
    repo.commit("feat/task-001-docs", {"docs/guide.md": b"guide\n", "a-b": None}, "Docs", author, parent=base.id)
    repo.commit("main", {"src/app.py": b"print('hello')\n"}, "Greet", author)
    merged = repo.merge("main", "feat/task-001-docs", "Merge task 1", author)

    git_dir = tmp_path / "repo.git"
    subprocess.run(["git", "init", "-q", "--bare", str(git_dir)], check=True)
    s3 = boto3.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX):
        for item in page.get("Contents", []):
            target = git_dir / "objects" / item["Key"][len(PREFIX) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read())
    (git_dir / "refs" / "heads" / "main").write_text(merged.commit + "\n")

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "--git-dir", str(git_dir), *args], check=True, capture_output=True, text=True
        ).stdout

    git("fsck", "--strict", "--no-dangling")
    assert git("rev-parse", "main").strip() == merged.commit
    assert git("show", "main:src/app.py") == "print('hello')\n"
    assert git("show", "main:docs/guide.md") == "guide\n"
    assert sorted(git("ls-tree", "-r", "--name-only", "main").split()) == sorted(repo.files("main"))
    assert git("rev-list", "--count", "main").strip() == "4"
