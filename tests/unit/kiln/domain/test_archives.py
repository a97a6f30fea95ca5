"""Archives: hostile inputs refused with the exact reason, round trips, determinism, bounded memory."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
import time
import tracemalloc
import unicodedata
import zipfile

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kiln.domain import archives
from kiln.domain.archives import (
    ArchiveFormat,
    ArchiveManifest,
    InvalidArchive,
    KilnDocument,
    KilnProject,
    KilnSpec,
    KilnSpecVersion,
    Limits,
    ManifestEntry,
    convert,
    detect_format,
    inspect,
    iter_files,
    kiln_files,
    write_archive,
)
from kiln.envelope import ErrorCode, KilnError
from tests.fakes import FakeSink
from tests.unit.kiln.domain.hostile_archives import (
    RawEntry,
    build_zip,
    deflate,
    deflated_zeros,
    kiln_document,
    kiln_zip,
    pax_header,
    tar_gz,
    tar_gz_of_zeros,
    tar_member,
    zip_of,
)

MIB = 1024 * 1024
TREE = {
    "README.md": b"# Demo\n",
    "src/app.py": b"print('hello')\n" * 200,
    "src/static/logo.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    "docs/caf\u00e9.md": "caf\u00e9\n".encode(),
    "vendor/lib.zip": zip_of({"inner/evil.txt": b"nested archives are just files"}),
    "empty.txt": b"",
}
DOCUMENTS = {"SPEC.md": "# Spec\n", "ACCEPTANCE.md": "# Acceptance\n", "ROUTES.md": "# Routes\n", "DATA.md": "# Data\n"}


def reason(data: bytes, limits: Limits = Limits(), filename: str | None = None) -> str:
    with pytest.raises(InvalidArchive) as caught:
        inspect(io.BytesIO(data), limits, filename)
    return caught.value.reason


def entries(tree: dict[str, bytes]) -> list[tuple[str, int, object]]:
    return [(path, len(data), (lambda data=data: data)) for path, data in tree.items()]


def document_for(tree: dict[str, bytes], **fields) -> KilnDocument:
    listing = kiln_files(ManifestEntry(p, len(d), hashlib.sha256(d).hexdigest()) for p, d in tree.items())
    return KilnDocument(project=KilnProject(name="Demo", description="A demo"), files=listing, **fields)


def written(fmt: str, tree: dict[str, bytes], kiln: KilnDocument | None = None) -> bytes:
    sink = io.BytesIO()
    write_archive(fmt, entries(tree), sink, kiln=kiln)
    return sink.getvalue()


def read_back(data: bytes, filename: str | None = None) -> tuple[ArchiveManifest, dict[str, bytes]]:
    manifest = inspect(io.BytesIO(data), filename=filename)
    return manifest, dict(iter_files(io.BytesIO(data), manifest))


def one_file_zip(name: bytes, **fields) -> bytes:
    return build_zip([RawEntry(b"README.md", b"ok"), RawEntry(name, b"x", **fields)])


def one_file_tar(name: bytes, typeflag: bytes = b"0", **fields) -> bytes:
    content = b"x" if typeflag == b"0" else b""
    if len(name) > 100:  # a pax header carries the name
        return tar_gz(
            tar_member(b"README.md", b"ok"),
            pax_header({b"path": name}),
            tar_member(b"placeholder", content, typeflag, **fields),
        )
    return tar_gz(tar_member(b"README.md", b"ok"), tar_member(name, content, typeflag, **fields))


# --- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (b"../x", "path_traversal"),
        (b"a/../../x", "path_traversal"),
        (b"/etc/passwd", "absolute_path"),
        (b"C:\\x", "drive_letter"),
        (b"c:/windows/x", "drive_letter"),
        (b"a\\b", "backslash"),
        (b"a//b", "invalid_path"),
        (b"a/./b", "invalid_path"),
        (b"src/.git/config", "git_path"),
        (b"bell\x07.txt", "invalid_path"),
        (b"a" * 256, "name_too_long"),
    ],
)
def test_hostile_names_are_refused_in_zip_and_tar(name, expected):
    assert reason(one_file_zip(name)) == expected
    assert reason(one_file_tar(name)) == expected


def test_names_longer_than_1024_bytes_are_refused():
    name = "/".join(["d" * 200] * 5) + "/" + "f" * 20  # 1,025 bytes, every segment short enough
    assert len(name.encode()) == 1025
    assert reason(one_file_zip(name.encode())) == "name_too_long"
    assert reason(one_file_tar(name.encode())) == "name_too_long"
    exact = name[:-1]  # 1,024 bytes is fine, also below a top-level directory that is stripped
    manifest = inspect(io.BytesIO(zip_of({"project/" + exact: b"x", "project/README": b""})))
    assert manifest.root == "project" and exact in {e.path for e in manifest.entries}


def test_names_that_are_not_utf8_are_refused():
    assert reason(one_file_zip(b"caf\xc3(", flags=0x800)) == "name_not_utf8"  # flagged UTF-8, isn't
    assert reason(one_file_zip(b"caf\x82.txt")) == "name_not_utf8"  # cp437, not flagged
    assert reason(one_file_tar(b"caf\xe9.txt")) == "name_not_utf8"  # latin-1 in tar
    manifest = inspect(io.BytesIO(one_file_zip("caf\u00e9.txt".encode(), flags=0x800)))
    assert "caf\u00e9.txt" in {e.path for e in manifest.entries}


def test_leading_dot_slash_is_the_root_as_tar_writes_it():
    data = tar_gz(tar_member(b"./", typeflag=b"5"), tar_member(b"./README.md", b"hi"), tar_member(b"./src/a.py", b"a"))
    manifest = inspect(io.BytesIO(data))
    assert [e.path for e in manifest.entries] == ["README.md", "src/a.py"]


# --- entry types ----------------------------------------------------------------------------


def test_zip_symlinks_and_special_files_are_refused():
    assert reason(one_file_zip(b"link", external_attr=(stat.S_IFLNK | 0o777) << 16)) == "symlink"
    assert reason(one_file_zip(b"fifo", external_attr=(stat.S_IFIFO | 0o644) << 16)) == "special_file"
    assert reason(one_file_zip(b"dev", external_attr=(stat.S_IFCHR | 0o644) << 16)) == "special_file"


def test_tar_links_and_devices_are_refused():
    assert reason(one_file_tar(b"link", b"2", linkname=b"/etc/passwd")) == "symlink"
    assert reason(one_file_tar(b"hard", b"1", linkname=b"README.md")) == "hard_link"
    assert reason(one_file_tar(b"tty", b"3", devmajor=4, devminor=1)) == "special_file"
    assert reason(one_file_tar(b"disk", b"4", devmajor=8)) == "special_file"
    assert reason(one_file_tar(b"pipe", b"6")) == "special_file"


def test_links_written_by_tarfile_are_refused():
    for kind, expected in (
        (tarfile.SYMTYPE, "symlink"),
        (tarfile.LNKTYPE, "hard_link"),
        (tarfile.CHRTYPE, "special_file"),
    ):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            info = tarfile.TarInfo("evil")
            info.type = kind
            info.linkname = "../../etc/shadow"
            archive.addfile(info)
        assert reason(buffer.getvalue()) == expected


def test_encrypted_zip_entries_are_refused():
    assert reason(one_file_zip(b"secret.txt", flags=0x1)) == "encrypted"


def test_compression_methods_other_than_deflate_are_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("a.txt", b"bzip2")
    assert reason(buffer.getvalue()) == "unsupported_compression"


def test_directories_are_accepted_and_ignored():
    data = zip_of({"proj/": b"", "proj/src/": b"", "proj/src/a.py": b"a", "proj/README": b"r"})
    manifest = inspect(io.BytesIO(data))
    assert manifest.root == "proj" and [e.path for e in manifest.entries] == ["README", "src/a.py"]


def test_nested_archives_are_stored_as_files():
    manifest, files = read_back(written("zip", TREE))
    assert files["vendor/lib.zip"] == TREE["vendor/lib.zip"]
    assert "inner/evil.txt" not in files


# --- duplicates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "names",
    [
        ("A.txt", "a.txt"),
        ("same.txt", "same.txt"),
        (unicodedata.normalize("NFC", "caf\u00e9.txt"), unicodedata.normalize("NFD", "caf\u00e9.txt")),
        ("Stra\u00dfe.txt", "STRASSE.txt"),
        ("lib", "LIB/x.py"),
        ("src/a/", "src/A"),
    ],
)
def test_names_that_collide_are_refused(names):
    first, second = names
    members = [RawEntry(n.encode(), b"" if n.endswith("/") else b"x", flags=0x800) for n in (first, second)]
    assert reason(build_zip(members)) == "duplicate_name"
    assert (
        reason(
            tar_gz(
                *(
                    tar_member(n.encode(), b"" if n.endswith("/") else b"x", b"5" if n.endswith("/") else b"0")
                    for n in (first, second)
                )
            )
        )
        == "duplicate_name"
    )


# --- bombs and limits ----------------------------------------------------------------------


def test_a_200_mb_deflated_entry_of_zeros_is_refused_by_its_ratio():
    compressed, crc = deflated_zeros(200 * MIB)
    assert len(compressed) < 1 * MIB
    data = build_zip([RawEntry(b"zeros.bin", method=8, compressed=compressed, crc=crc, usize=200 * MIB)])
    started = time.monotonic()
    assert reason(data) == "compression_ratio"
    assert time.monotonic() - started < 1


def test_the_ratio_is_checked_while_streaming_not_only_from_headers():
    # 4 MiB of zeros then 120 KiB of noise: under 100:1 overall (the headers pass), far over it
    # for the first megabytes, which is where inspect stops.
    content = bytes(4 * MIB) + os.urandom(120 * 1024)
    compressed = deflate(content)
    assert len(content) < 100 * len(compressed)
    assert reason(build_zip([RawEntry(b"sparse.bin", content, method=8, compressed=compressed)])) == "compression_ratio"


def test_a_tar_gz_of_200_mb_of_zeros_is_refused_by_its_ratio():
    data = tar_gz_of_zeros(b"zeros.bin", 200 * MIB)
    started = time.monotonic()
    assert reason(data) == "compression_ratio"
    assert time.monotonic() - started < 1


def test_small_compressible_files_do_not_trip_the_ratio():
    tree = {"zeros.txt": bytes(MIB), "README": b"x"}  # exactly the floor: 1 MiB at about 1000:1
    assert read_back(written("zip", tree))[1] == tree
    assert read_back(written("tar.gz", tree))[1] == tree


def test_files_and_archives_over_the_size_limits_are_refused():
    tree = {"a.txt": os.urandom(3000), "b.txt": os.urandom(3000)}
    for fmt in ("zip", "tar.gz"):
        data = written(fmt, tree)
        assert reason(data, Limits(max_file_bytes=2999)) == "too_large"
        assert reason(data, Limits(max_total_bytes=5999)) == "too_large"
        inspect(io.BytesIO(data), Limits(max_file_bytes=3000, max_total_bytes=6000))


def test_a_zip_whose_header_lies_about_its_size_is_refused_without_expanding_it():
    compressed, crc = deflated_zeros(50 * MIB)
    liar = build_zip([RawEntry(b"small.txt", method=8, compressed=compressed, crc=crc, usize=1000)])
    started = time.monotonic()
    assert reason(liar) == "corrupt"
    assert time.monotonic() - started < 0.5
    content = b"twelve bytes" * 10
    short = build_zip([RawEntry(b"a.txt", content, method=8, usize=len(content) + 1)])
    assert reason(short) == "corrupt"
    assert reason(build_zip([RawEntry(b"a.txt", content, method=8, usize=300 * MIB)])) == "too_large"
    assert reason(build_zip([RawEntry(b"a.txt", content, usize=len(content) - 1)])) == "corrupt"  # stored


def test_a_zip_whose_compressed_size_lies_is_refused():
    content = b"some text " * 100
    payload = deflate(content)
    assert reason(build_zip([RawEntry(b"a.txt", content, method=8, csize=len(payload) - 3)])) == "corrupt"
    assert reason(build_zip([RawEntry(b"a.txt", content, method=8, compressed=payload + b"junk")])) == "corrupt"


def test_too_many_entries_are_refused():
    tree = {f"f{i}.txt": b"" for i in range(51)}
    for fmt in ("zip", "tar.gz"):
        data = written(fmt, tree)
        assert reason(data, Limits(max_entries=50)) == "too_many_entries"
        assert len(inspect(io.BytesIO(data), Limits(max_entries=51)).entries) == 51
    # An end record that understates the count does not help.
    lying = build_zip([RawEntry(f"f{i}".encode()) for i in range(20)], count=5)
    assert reason(lying, Limits(max_entries=10)) == "too_many_entries"


def test_more_than_20000_entries_are_refused_at_the_default_limit():
    data = build_zip([RawEntry(b"f%d" % i) for i in range(20_001)])
    assert reason(data) == "too_many_entries"


def test_oversized_extended_tar_headers_are_refused():
    data = tar_gz(pax_header({b"comment": b"x" * (70 * 1024)}), tar_member(b"a.txt", b"a"))
    assert reason(data) == "too_large"


def test_overlapping_zip_entries_are_refused():
    first = RawEntry(b"a.txt", b"A" * 100)
    data = bytearray(build_zip([first, RawEntry(b"b.txt", b"B" * 100)]))
    # Point b.txt's central record at a forged local header inside a.txt's data.
    forged = bytes(build_zip([RawEntry(b"b.txt", b"B" * 40)]))[: 30 + 5 + 40]
    data[40 : 40 + len(forged)] = forged
    central = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 1)
    data[central + 42 : central + 46] = (40).to_bytes(4, "little")
    data[central + 16 : central + 20] = (zipfile.crc32(b"B" * 40)).to_bytes(4, "little")
    data[central + 20 : central + 28] = (40).to_bytes(4, "little") * 2
    assert reason(bytes(data)) == "corrupt"


# --- damage ----------------------------------------------------------------------------------


def test_truncated_archives_are_refused():
    for fmt in ("zip", "tar.gz"):
        data = written(fmt, {"a.bin": os.urandom(20_000), "b.txt": b"b"})
        assert reason(data[: len(data) // 2]) == "truncated"
        assert reason(data[:-3]) == "truncated"


def test_a_flipped_crc_byte_is_corruption():
    data = bytearray(written("zip", {"a.txt": b"hello world\n" * 50}))
    central = data.find(b"PK\x01\x02")
    data[central + 16] ^= 0xFF
    assert reason(bytes(data)) == "corrupt"
    stored = bytearray(written("zip", {"a.png": b"not really a png" * 10}))
    stored[stored.find(b"not really")] ^= 0x01  # the content itself
    assert reason(bytes(stored)) == "corrupt"
    gz = bytearray(written("tar.gz", {"a.txt": b"hello world\n" * 50}))
    gz[-8] ^= 0xFF  # the gzip trailer's CRC
    assert reason(bytes(gz)) == "corrupt"


def test_damaged_deflate_data_is_corruption():
    data = bytearray(written("zip", {"a.txt": os.urandom(4000).hex().encode()}))
    start = data.find(b"a.txt") + 5
    for index in range(start + 10, start + 40):
        data[index] ^= 0x5A
    assert reason(bytes(data)) == "corrupt"


def test_a_local_header_that_disagrees_with_the_central_directory_is_corruption():
    assert reason(build_zip([RawEntry(b"a.txt", b"x", local_name=b"b.txt")])) == "corrupt"
    assert reason(build_zip([RawEntry(b"a.txt", b"x"), RawEntry(b"b.txt", b"y")], count=3)) == "corrupt"


def test_what_is_not_an_archive_is_refused():
    assert reason(b"") == "empty"
    assert reason(b"hello, this is text") == "not_an_archive"
    assert reason(gzip.compress(b"just some gzipped text, not a tar", mtime=0)) == "not_an_archive"
    plain_tar = io.BytesIO()
    with tarfile.open(fileobj=plain_tar, mode="w") as archive:
        archive.addfile(tarfile.TarInfo("a"), io.BytesIO(b""))
    assert reason(plain_tar.getvalue()) == "not_an_archive"
    assert reason(zip_of({})) == "empty"
    assert reason(zip_of({"dir/": b""})) == "empty"
    assert reason(tar_gz()) == "empty"


def test_detect_format_by_magic_bytes():
    assert detect_format(b"PK\x03\x04rest") is ArchiveFormat.ZIP
    assert detect_format(b"PK\x03\x04rest", "Project.KILN") is ArchiveFormat.KILN
    assert detect_format(b"\x1f\x8b\x08\x00", "x.zip") is ArchiveFormat.TAR_GZ
    with pytest.raises(InvalidArchive):
        detect_format(b"%PDF-1.7")


def test_rejections_are_invalid_archive_errors_with_a_reason():
    with pytest.raises(KilnError) as caught:
        inspect(io.BytesIO(one_file_zip(b"../../etc/passwd")))
    error = caught.value
    assert error.code is ErrorCode.INVALID_ARCHIVE and error.status == 422
    assert error.details == {"reason": "path_traversal", "entry": "../../etc/passwd"}
    assert "../../etc/passwd" in error.message
    assert set(archives.REASONS) >= {"path_traversal", "symlink", "compression_ratio", "manifest_mismatch"}


# --- .kiln -----------------------------------------------------------------------------------

KILN_TREE = {"README.md": b"# hi\n", "src/main.py": b"print(1)\n"}


def test_kiln_json_must_match_the_files():
    doc = kiln_document(KILN_TREE)
    wrong_hash = json.loads(json.dumps(doc))
    wrong_hash["files"][0]["sha256"] = "0" * 64
    assert reason(kiln_zip(wrong_hash, KILN_TREE)) == "manifest_mismatch"
    wrong_size = json.loads(json.dumps(doc))
    wrong_size["files"][1]["size"] += 1
    assert reason(kiln_zip(wrong_size, KILN_TREE)) == "manifest_mismatch"
    missing = dict(KILN_TREE)
    del missing["README.md"]
    assert reason(kiln_zip(doc, missing)) == "manifest_mismatch"  # listed, absent
    assert reason(kiln_zip(doc, {**KILN_TREE, "extra.txt": b"?"})) == "manifest_mismatch"  # present, unlisted
    assert reason(kiln_zip(doc, KILN_TREE, extra={"outside.txt": b"!"})) == "manifest_mismatch"
    assert reason(kiln_zip(doc, KILN_TREE, extra={"notes/": b""})) == "manifest_mismatch"


def test_kiln_versions_unknown_majors_are_refused_and_minors_accepted():
    assert reason(kiln_zip(kiln_document(KILN_TREE, formatVersion="2.0"), KILN_TREE)) == "unsupported_version"
    newer = kiln_document(KILN_TREE, formatVersion="1.7", hologram={"future": True})
    newer["project"]["color"] = "teal"
    newer["files"][0]["mode"] = "100755"
    manifest, files = read_back(kiln_zip(newer, KILN_TREE))
    assert manifest.format is ArchiveFormat.KILN and files == KILN_TREE
    assert manifest.kiln.formatVersion == "1.7" and manifest.kiln.project.name == "Hostile"
    assert "hologram" not in manifest.kiln.model_dump()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("formatVersion"),
        lambda d: d.update(formatVersion="one"),
        lambda d: d.pop("project"),
        lambda d: d["files"][0].update(sha256="ABC"),
        lambda d: d["files"][0].update(size="5"),
        lambda d: d["files"][0].update(path="../escape"),
        lambda d: d.update(files=d["files"] + d["files"][:1]),
        lambda d: d.update(spec={"versions": [{"version": 1, "createdAt": "yesterday", "documents": DOCUMENTS}]}),
        lambda d: d.update(
            spec={
                "versions": [{"version": 1, "createdAt": "2025-01-01T00:00:00Z", "documents": {"SPEC.md": "only one"}}]
            }
        ),
    ],
)
def test_invalid_kiln_json_is_refused(mutate):
    doc = kiln_document(KILN_TREE)
    mutate(doc)
    assert reason(kiln_zip(doc, KILN_TREE)) == "manifest_invalid"


def test_kiln_json_that_is_not_json_or_is_missing_is_refused():
    assert reason(zip_of({"kiln.json": b"{not json", "files/a": b""})) == "manifest_invalid"
    assert reason(zip_of({"kiln.json": b'{"formatVersion": "1.0", "formatVersion": "1.0"}'})) == "manifest_invalid"
    assert reason(zip_of({"files/a": b"a"}), filename="project.kiln") == "manifest_invalid"


def test_a_plain_zip_is_a_kiln_when_kiln_json_is_at_its_root():
    manifest = inspect(io.BytesIO(kiln_zip(kiln_document(KILN_TREE), KILN_TREE)), filename="download.zip")
    assert manifest.format is ArchiveFormat.KILN
    assert [e.path for e in manifest.entries] == sorted(KILN_TREE)


# --- round trips ---------------------------------------------------------------------------


def test_round_trip_kiln_keeps_the_tree_and_the_metadata():
    version = KilnSpecVersion(
        version=2,
        createdAt="2025-03-04T05:06:07.000Z",
        feedback="More CSV",
        approvedAt="2025-03-05T00:00:00.000Z",
        generator="builtin",
        documents=DOCUMENTS,
    )
    doc = document_for(
        TREE,
        spec=KilnSpec(versions=[version], latestVersion=2),
        createdAt="2025-03-06T00:00:00Z",
        source={"runId": "run_1", "ref": "main", "commit": "a" * 40},
    )
    data = written("kiln", TREE, doc)
    manifest, files = read_back(data)
    assert files == TREE
    assert manifest.format is ArchiveFormat.KILN and manifest.root is None
    assert manifest.kiln == doc
    assert manifest.total_bytes == sum(len(v) for v in TREE.values())
    assert [(e.path, e.size) for e in manifest.entries] == sorted((p, len(d)) for p, d in TREE.items())
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names[0] == "kiln.json" and names[1:] == ["files/" + p for p in sorted(TREE)]


@pytest.mark.parametrize("fmt", ["zip", "tar.gz"])
def test_round_trip_plain_formats(fmt):
    manifest, files = read_back(written(fmt, TREE))
    assert files == TREE and manifest.kiln is None and manifest.root is None
    assert manifest.format is ArchiveFormat(fmt)
    for entry in manifest.entries:
        assert entry.sha256 == hashlib.sha256(TREE[entry.path]).hexdigest()


def test_archives_from_other_tools_are_read():
    # GitHub-style: everything under one directory (which is stripped), with directory entries.
    github = zip_of(
        {"owner-repo-0123abc/": b"", "owner-repo-0123abc/README.md": b"r", "owner-repo-0123abc/src/a.py": b"a"}
    )
    manifest, files = read_back(github)
    assert manifest.root == "owner-repo-0123abc" and files == {"README.md": b"r", "src/a.py": b"a"}
    # tarfile: GNU format with a long name, ./ prefixes and directories.
    buffer = io.BytesIO()
    long_name = "./" + "deep/" * 30 + "file.txt"
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.GNU_FORMAT) as archive:
        for name, data in (("./", None), ("./README", b"r"), (long_name, b"long")):
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            else:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    assert read_back(buffer.getvalue())[1] == {"README": b"r", long_name[2:]: b"long"}
    # zipfile with zip64 records forced.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("big.txt", "w", force_zip64=True) as handle:
            handle.write(b"zip64 " * 100)
        archive.writestr("README", b"r")
    assert read_back(buffer.getvalue())[1] == {"big.txt": b"zip64 " * 100, "README": b"r"}


def test_zip64_records_written_here_are_read_by_zipfile_and_here(monkeypatch):
    monkeypatch.setattr(archives, "_ZIP64_LIMIT", 100)
    monkeypatch.setattr(archives, "_ZIP64_COUNT", 2)
    tree = {"a.txt": b"a" * 300, "b.txt": b"b" * 300, "c.txt": b"c"}
    data = written("zip", tree)
    assert b"PK\x06\x06" in data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {name: archive.read(name) for name in archive.namelist()} == tree
    assert read_back(data)[1] == tree


def test_a_changed_source_between_passes_is_caught():
    first = written("zip", {"a.txt": b"one", "b.txt": b"two"})
    manifest = inspect(io.BytesIO(first))
    changed = written("zip", {"a.txt": b"ONE", "b.txt": b"two"})
    with pytest.raises(InvalidArchive) as caught:
        list(iter_files(io.BytesIO(changed), manifest))
    assert caught.value.reason == "manifest_mismatch"
    grown = written("zip", {"a.txt": b"one", "b.txt": b"two", "c.txt": b"three"})
    with pytest.raises(InvalidArchive):
        list(iter_files(io.BytesIO(grown), manifest))
    shrunk = written("zip", {"a.txt": b"one"})
    with pytest.raises(InvalidArchive):
        list(iter_files(io.BytesIO(shrunk), manifest))


# --- writing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["zip", "tar.gz", "kiln"])
def test_writing_is_deterministic(fmt):
    kiln = document_for(TREE) if fmt == "kiln" else None
    first = written(fmt, TREE, kiln)
    reordered = dict(reversed(list(TREE.items())))
    assert written(fmt, reordered, kiln) == first
    time.sleep(0.01)
    assert written(fmt, TREE, kiln) == first


def test_fixed_metadata_in_what_is_written():
    with zipfile.ZipFile(io.BytesIO(written("zip", TREE))) as archive:
        for info in archive.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == stat.S_IFREG | 0o644
    data = written("tar.gz", TREE)
    assert data[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no name, mtime 0
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for info in archive.getmembers():
            assert (info.mtime, info.uid, info.gid, info.uname, info.gname, info.mode) == (0, 0, 0, "", "", 0o644)
            assert info.isreg()


def test_already_compressed_types_are_stored():
    tree = {
        "a.png": b"p" * 500,
        "b.JPG": b"j" * 500,
        "c.woff2": b"w" * 500,
        "d.tar.gz": b"g" * 500,
        "e.py": b"e" * 500,
        "f.txt": b"f" * 500,
    }
    with zipfile.ZipFile(io.BytesIO(written("zip", tree))) as archive:
        methods = {info.filename: info.compress_type for info in archive.infolist()}
    assert methods == {
        "a.png": zipfile.ZIP_STORED,
        "b.JPG": zipfile.ZIP_STORED,
        "c.woff2": zipfile.ZIP_STORED,
        "d.tar.gz": zipfile.ZIP_STORED,
        "e.py": zipfile.ZIP_DEFLATED,
        "f.txt": zipfile.ZIP_DEFLATED,
    }


def test_the_kiln_writer_checks_the_listing_and_the_loaded_bytes():
    doc = document_for(KILN_TREE)
    with pytest.raises(ValueError):
        write_archive("kiln", entries(KILN_TREE), io.BytesIO())  # no document
    with pytest.raises(ValueError):
        write_archive("kiln", entries({**KILN_TREE, "new.txt": b"n"}), io.BytesIO(), kiln=doc)
    tampered = [
        (path, len(data), (lambda: b"X" * len(KILN_TREE["README.md"])))
        if path == "README.md"
        else (path, len(data), (lambda data=data: data))
        for path, data in KILN_TREE.items()
    ]
    with pytest.raises(ValueError):
        write_archive("kiln", tampered, io.BytesIO(), kiln=doc)
    with pytest.raises(ValueError):
        write_archive("zip", [("a", 1, lambda: b"ab")], io.BytesIO())
    with pytest.raises(ValueError):
        write_archive("zip", [("A.txt", 1, lambda: b"a"), ("a.txt", 1, lambda: b"a")], io.BytesIO())
    stale = doc.model_copy(update={"formatVersion": "1.9"})
    data = written("kiln", KILN_TREE, stale)
    assert read_back(data)[0].kiln.formatVersion == archives.FORMAT_VERSION


@pytest.mark.parametrize("fmt", ["zip", "tar.gz"])
def test_writing_streams_with_bounded_memory(fmt):
    size = 10 * MIB
    files = [(f"part{i}.bin", size, lambda: os.urandom(size)) for i in range(5)]  # made when loaded
    sink = FakeSink(keep=False)  # write-only (no seek, no tell), keeps only counts
    tracemalloc.start()
    try:
        write_archive(fmt, files, sink)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sink.size > 5 * size  # random bytes do not compress
    assert sink.largest_write <= archives.WRITE_CHUNK and sink.writes >= 50
    assert peak < 2.5 * size < sink.size / 2  # one file (and its chunks) at a time, not the archive


def test_convert_between_formats():
    source = zip_of({"myapp/": b"", **{"myapp/" + p: d for p, d in TREE.items()}})
    sink = io.BytesIO()
    result = convert(io.BytesIO(source), "kiln", sink, filename="upload.zip")
    assert result.format is ArchiveFormat.KILN and result.kiln.project.name == "myapp"
    manifest, files = read_back(sink.getvalue())
    assert files == TREE and manifest.kiln.spec is None
    named = io.BytesIO()
    convert(io.BytesIO(written("tar.gz", TREE)), ArchiveFormat.KILN, named, name_for_kiln="Named")
    assert read_back(named.getvalue())[0].kiln.project.name == "Named"
    plain = io.BytesIO()
    convert(io.BytesIO(sink.getvalue()), "tar.gz", plain)
    assert read_back(plain.getvalue())[1] == TREE
    again = io.BytesIO()
    convert(io.BytesIO(source), "kiln", again, filename="upload.zip")
    assert again.getvalue() == sink.getvalue()
    with pytest.raises(InvalidArchive):
        convert(io.BytesIO(one_file_zip(b"../x")), "zip", io.BytesIO())


# --- property --------------------------------------------------------------------------------

_SEGMENT = st.text(alphabet=st.sampled_from("abcXYZ019-_.é€中"), min_size=1, max_size=8).filter(
    lambda s: s not in (".", "..") and s.casefold() != ".git"
)
_PATH = st.lists(_SEGMENT, min_size=1, max_size=3).map("/".join)


def _collision_free(tree: dict[str, bytes]) -> bool:
    files = {archives._fold(p) for p in tree}
    if len(files) != len(tree):
        return False
    parents = {archives._fold("/".join(p.split("/")[:i])) for p in tree for i in range(1, p.count("/") + 1)}
    return not files & parents


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tree=st.dictionaries(_PATH, st.binary(max_size=3000), min_size=1, max_size=8),
    fmt=st.sampled_from(["zip", "tar.gz", "kiln"]),
)
def test_any_tree_round_trips(tree, fmt):
    tree = {**tree, "ROOT.md": b"keeps the tree from sharing one top directory"}
    assume(_collision_free(tree))
    kiln = document_for(tree) if fmt == "kiln" else None
    manifest, files = read_back(written(fmt, tree, kiln))
    assert files == tree
    assert [e.path for e in manifest.entries] == sorted(tree)
    if kiln is not None:
        assert manifest.kiln == kiln
