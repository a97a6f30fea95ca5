"""Archives: .zip, .tar.gz and .kiln in and out, validated while they stream. No AWS here.

Everything works on file objects: the workers hand in a seekable source (a download spooled
to disk) and a write-only sink (an S3 multipart upload). docs/kiln-format.md describes the
.kiln format, the limits and the rejection reasons.

Reading is two passes over the same source, so at most one file is ever held in memory:

    inspect(source)            FIRST PASS. Every check an archive can fail: entry names
                               (repository path rules, drive letters, backslashes, UTF-8),
                               entry types (symlinks, hard links, devices), duplicates after
                               NFC and casefolding, encryption, corruption (CRC, deflate and
                               gzip errors, truncation), bombs (entry count, sizes, per-entry
                               compression ratio) and, for .kiln, kiln.json against the files.
                               Sizes are counted on the decompressed bytes as they come out,
                               never taken from headers, and the pass stops at the first
                               byte over a limit. Returns the manifest: path, size, sha256.
    iter_files(source, manifest)  SECOND PASS. Yields (path, content) one file at a time,
                               each checked again against the manifest (size and sha256).

A plain .zip or .tar.gz is a source tree: when every entry sits under one top-level directory
(as GitHub's archives do) that directory is stripped. A .kiln is a zip with kiln.json at the
root and the tree under files/; nothing is stripped. Nested archives are files like any other.

Writing (write_archive, convert) is deterministic and streaming: sorted paths, fixed
timestamps and owners, a gzip header without name or time, already-compressed types stored;
the same input gives byte-identical output (for one zlib build). Output goes to any object
with `.write(bytes)` in pieces of at most WRITE_CHUNK bytes; nothing is ever sought.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import stat
import struct
import tarfile
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, BinaryIO, Protocol

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from kiln.domain import git_paths
from kiln.domain.projects import (
    CONTROL_CHARACTERS,
    DESCRIPTION_MAX,
    NAME_MAX,
    no_control_characters,
    text_controls_only,
)
from kiln.domain.repository import (
    MAX_PATH_BYTES,
    MAX_PATH_SEGMENTS,
    MAX_SEGMENT_BYTES,
    InvalidPath,
    RefusedByGit,
    normalize_path,
)
from kiln.domain.spec_documents import DOCUMENT_NAMES
from kiln.envelope import ErrorCode, KilnError

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

FORMAT_VERSION = "1.0"  # of the .kiln format this module writes; it reads every 1.x
SUPPORTED_MAJOR = 1
MANIFEST_NAME = "kiln.json"
FILES_PREFIX = "files/"

# Written as they are (ZIP_STORED) in zips: deflating them again gains nothing.
STORED_EXTENSIONS = frozenset(
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".zip",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".7z",
        ".mp3",
        ".mp4",
        ".woff",
        ".woff2",
        ".pdf",
        ".jar",
    }
)

READ_CHUNK = 64 * KIB  # compressed bytes read from the source at a time
OUT_CHUNK = 1 * MIB  # decompressed bytes produced at a time
WRITE_CHUNK = 1 * MIB  # the largest single write to a sink
COMPRESS_LEVEL = 6

_NAME_PREFIX_ALLOWANCE = 256  # a raw entry name may exceed max_name_bytes by its top directory or files/
_MAX_EXTENDED_HEADER = 64 * KIB  # one tar pax or GNU long-name header
_TAR_OVERHEAD_PER_ENTRY = 4 * KIB  # headers and padding a tar stream may add per entry
_DRAIN_AFTER_END = 1 * MIB  # decompressed bytes read past a tar's end to reach the gzip trailer
_TAR_RECORD = 10240

_DRIVE = re.compile(r"^[A-Za-z]:")
_VERSION = re.compile(r"^(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})$")

REASONS = (
    frozenset(
        {
            "path_traversal",
            "absolute_path",
            "drive_letter",
            "backslash",
            "invalid_path",
            "symlink",
            "hard_link",
            "special_file",
            "duplicate_name",
            "too_many_entries",
            "name_too_long",
            "name_not_utf8",
            "encrypted",
            "unsupported_compression",
            "too_large",
            "compression_ratio",
            "corrupt",
            "truncated",
            "manifest_invalid",
            "manifest_mismatch",
            "unsupported_version",
            "empty",
            "not_an_archive",
        }
    )
    | git_paths.REASONS
)  # a path git reads as .git, a .gitmodules or .gitattributes git's fsck refuses


# --- formats, limits, errors --------------------------------------------------------------


class ArchiveFormat(str, Enum):
    ZIP = "zip"
    TAR_GZ = "tar.gz"
    KILN = "kiln"


@dataclass(frozen=True)
class Limits:
    """What an archive may hold. Sizes count decompressed file content."""

    max_entries: int = 20_000  # every entry: files and directories
    max_total_bytes: int = 2 * GIB
    max_file_bytes: int = 256 * MIB
    max_ratio: int = 100  # decompressed : compressed, per entry ...
    ratio_floor_bytes: int = 1 * MIB  # ... once the entry is past this many bytes
    max_name_bytes: int = 1024  # of a repository path (UTF-8)
    max_manifest_bytes: int = 64 * MIB  # kiln.json


class InvalidArchive(KilnError):
    """The archive is refused: INVALID_ARCHIVE (422) with `details.reason` one of REASONS,
    `details.entry` the offending entry's name when there is one, and the detail as message."""

    def __init__(self, reason: str, detail: str, entry: str | None = None) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown archive rejection reason {reason!r}")
        self.reason = reason
        self.detail = detail
        self.entry = entry
        details: dict[str, Any] = {"reason": reason}
        if entry is not None:
            details["entry"] = _show(entry)
        super().__init__(ErrorCode.INVALID_ARCHIVE, detail, details)


def _show(name: str | bytes, limit: int = 200) -> str:
    """An entry name fit for a message: control characters escaped, long names shortened."""
    if isinstance(name, bytes):
        name = name.decode("utf-8", "backslashreplace")
    shown = CONTROL_CHARACTERS.sub(lambda m: f"\\x{ord(m.group()):02x}", name)
    return shown if len(shown) <= limit else shown[:limit] + "…"


def _entry_error(reason: str, name: str | bytes, what: str) -> InvalidArchive:
    shown = _show(name)
    return InvalidArchive(reason, f"Entry '{shown}' {what}.", shown)


def _git_error(problem: git_paths.GitProblem, name: str) -> InvalidArchive:
    shown = _show(name)
    return InvalidArchive(problem.reason, f"Entry '{shown}' {problem.message}.", shown)


# --- the .kiln document (kiln.json) -------------------------------------------------------


def _timestamp(value: str) -> str:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 timestamp") from None
    return value


def _repository_path(value: str) -> str:
    if normalize_path(value) != value:  # InvalidPath is a ValueError: pydantic reports it
        raise ValueError("must be a canonical repository path (no leading '/')")
    return value


Timestamp = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_timestamp)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
RepositoryPath = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_PATH_BYTES), AfterValidator(_repository_path)
]
DOCUMENT_MAX = 2 * 1024 * 1024  # characters of one spec document
MAX_SPEC_VERSIONS = 10_000


class _Document(BaseModel):
    """Read leniently (unknown fields are ignored: newer minor versions add them), typed strictly."""

    model_config = ConfigDict(extra="ignore", strict=True, defer_build=True)


class KilnProject(_Document):
    name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX),
        AfterValidator(no_control_characters),
    ]
    description: Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX), AfterValidator(text_controls_only)] = ""


class KilnSpecVersion(_Document):
    version: Annotated[int, Field(ge=1)]
    createdAt: Timestamp
    feedback: Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX)] | None = None
    approvedAt: Timestamp | None = None
    generator: (
        Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(no_control_characters)] | None
    ) = None
    documents: dict[str, Annotated[str, StringConstraints(max_length=DOCUMENT_MAX)]]

    @field_validator("documents")
    @classmethod
    def _the_four_documents(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [name for name in DOCUMENT_NAMES if name not in value]
        if missing:
            raise ValueError("missing " + ", ".join(missing))
        return {name: value[name] for name in DOCUMENT_NAMES}  # documents a later version adds are ignored


class KilnSpec(_Document):
    versions: Annotated[list[KilnSpecVersion], Field(max_length=MAX_SPEC_VERSIONS)] = Field(default_factory=list)
    latestVersion: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _versions_consistent(self) -> KilnSpec:
        numbers = [v.version for v in self.versions]
        if len(set(numbers)) != len(numbers):
            raise ValueError("spec versions must be unique")
        if self.latestVersion is not None and self.latestVersion not in numbers:
            raise ValueError("latestVersion must be one of the versions")
        return self


class KilnFile(_Document):
    path: RepositoryPath
    sha256: Sha256
    size: Annotated[int, Field(ge=0)]


class KilnSource(_Document):
    runId: (
        Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(no_control_characters)] | None
    ) = None
    ref: (
        Annotated[str, StringConstraints(min_length=1, max_length=255), AfterValidator(no_control_characters)] | None
    ) = None
    commit: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}$")] | None = None


class KilnDocument(_Document):
    """kiln.json: the project, its spec versions, and every file under files/ (path, sha256, size)."""

    formatVersion: Annotated[str, StringConstraints(pattern=_VERSION.pattern)] = FORMAT_VERSION
    project: KilnProject
    spec: KilnSpec | None = None
    files: list[KilnFile] = Field(default_factory=list)
    createdAt: Timestamp | None = None
    source: KilnSource | None = None

    @field_validator("formatVersion")
    @classmethod
    def _known_major(cls, value: str) -> str:
        if int(value.split(".")[0]) != SUPPORTED_MAJOR:
            raise ValueError(f"major version must be {SUPPORTED_MAJOR}")
        return value

    @field_validator("files")
    @classmethod
    def _unique_paths(cls, value: list[KilnFile]) -> list[KilnFile]:
        seen: set[str] = set()
        for item in value:
            key = _fold(item.path)
            if key in seen:
                raise ValueError(f"path {item.path!r} is listed twice (letter case and Unicode form ignored)")
            seen.add(key)
        return value


def parse_kiln_json(raw: bytes) -> KilnDocument:
    """kiln.json's bytes as a KilnDocument, or InvalidArchive: manifest_invalid (not UTF-8 JSON,
    duplicate keys, a field that fails validation) or unsupported_version (an unknown major)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidArchive("manifest_invalid", "kiln.json is not UTF-8 text.", MANIFEST_NAME) from None
    text = text.removeprefix("\ufeff")
    try:
        data = json.loads(text, object_pairs_hook=_object_without_duplicates, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise InvalidArchive(
            "manifest_invalid", f"kiln.json is not valid JSON: {_show(str(exc))}.", MANIFEST_NAME
        ) from None
    if not isinstance(data, dict):
        raise InvalidArchive("manifest_invalid", "kiln.json must hold a JSON object.", MANIFEST_NAME)
    version = data.get("formatVersion")
    if not isinstance(version, str) or not _VERSION.match(version):
        raise InvalidArchive(
            "manifest_invalid", 'kiln.json needs formatVersion "MAJOR.MINOR", such as "1.0".', MANIFEST_NAME
        )
    if int(version.split(".")[0]) != SUPPORTED_MAJOR:
        raise InvalidArchive(
            "unsupported_version",
            f"kiln.json has formatVersion {version}; this Kiln reads {SUPPORTED_MAJOR}.x.",
            MANIFEST_NAME,
        )
    try:
        return KilnDocument.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "kiln.json"
        raise InvalidArchive(
            "manifest_invalid", f"kiln.json field {_show(where)}: {_show(first['msg'])}.", MANIFEST_NAME
        ) from None


def dump_kiln_json(document: KilnDocument) -> bytes:
    """kiln.json as Kiln writes it: UTF-8, two-space indentation, fields in the model's order,
    absent optional fields left out. Deterministic."""
    body = document.model_dump(mode="json", exclude_none=True)
    return (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# --- the manifest -------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestEntry:
    path: str  # the repository path
    size: int
    sha256: str


@dataclass(frozen=True)
class ArchiveManifest:
    format: ArchiveFormat
    entries: list[ManifestEntry]  # sorted by path
    kiln: KilnDocument | None
    total_bytes: int
    root: str | None = None  # the top-level directory stripped from a plain archive's names


class Sink(Protocol):
    def write(self, data: bytes, /) -> Any: ...


# --- names --------------------------------------------------------------------------------


def _fold(path: str) -> str:
    """The key two names collide on: NFC, casefolded (and NFC again: casefolding can denormalize)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", path).casefold())


def _clean_name(name: str, raw_size: int, limits: Limits) -> tuple[str | None, bool]:
    """(the entry's name without leading './' and trailing '/', is it a directory), or
    (None, True) for the root directory itself. Raises InvalidArchive for every name that
    could escape or confuse the tree. Lengths are checked again on the final repository path."""
    if raw_size > limits.max_name_bytes + _NAME_PREFIX_ALLOWANCE:
        raise _entry_error(
            "name_too_long", name, f"has a name of {raw_size} bytes; at most {limits.max_name_bytes} are allowed"
        )
    if name.startswith("/"):
        raise _entry_error("absolute_path", name, "is an absolute path")
    if _DRIVE.match(name):
        raise _entry_error("drive_letter", name, "starts with a drive letter")
    if "\\" in name:
        raise _entry_error("backslash", name, "contains a backslash; separate directories with '/'")
    is_dir = name.endswith("/")
    path = name[:-1] if is_dir else name
    while path.startswith("./"):
        path = path[2:]
    if path in ("", "."):
        if is_dir or path == ".":
            return None, True
        raise _entry_error("invalid_path", name, "has an empty name")
    segments = path.split("/")
    if ".." in segments:
        raise _entry_error("path_traversal", name, "contains a '..' segment")
    for segment in segments:
        if segment in ("", "."):
            raise _entry_error("invalid_path", name, "contains an empty or '.' segment")
        if CONTROL_CHARACTERS.search(segment):
            raise _entry_error("invalid_path", name, "contains control characters")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise _entry_error("name_too_long", name, f"has a segment over {MAX_SEGMENT_BYTES} bytes")
    # Every segment, a top-level directory that would be stripped included: git refuses such a
    # tree however it is unpacked.
    problem = git_paths.path_problem(path)
    if problem is not None:
        raise _git_error(problem, name)
    return path, is_dir


def _final_path(path: str, entry: str, limits: Limits) -> str:
    """The repository path an entry lands on, checked by the repository's own rules."""
    size = len(path.encode("utf-8"))
    if size > min(limits.max_name_bytes, MAX_PATH_BYTES):
        raise _entry_error(
            "name_too_long",
            entry,
            f"has a path of {size} bytes; at most {min(limits.max_name_bytes, MAX_PATH_BYTES)} are allowed",
        )
    if path.count("/") + 1 > MAX_PATH_SEGMENTS:
        raise _entry_error("name_too_long", entry, f"is nested more than {MAX_PATH_SEGMENTS} levels deep")
    try:
        return normalize_path(path)
    except RefusedByGit as exc:
        raise InvalidArchive(exc.code, f"Entry '{_show(entry)}' {exc.reason}.", _show(entry)) from None
    except InvalidPath as exc:
        reason = "path_traversal" if "'..'" in exc.reason else "invalid_path"
        raise _entry_error(reason, entry, f"is not a valid path: {exc.reason}") from None


def _decode_name(raw: bytes, utf8_flag: bool) -> str:
    """A zip or tar entry name as text. Zip names without the UTF-8 flag must be ASCII (no
    code page is guessed); tar names are UTF-8."""
    if not utf8_flag and not raw.isascii():
        raise _entry_error("name_not_utf8", raw, "has a name that is not marked as UTF-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _entry_error("name_not_utf8", raw, "has a name that is not valid UTF-8") from None


class _Tree:
    """Names seen so far, to refuse two entries that land on one path (or a file that is also
    a directory) on a case-insensitive or Unicode-normalizing file system."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        self.dirs: dict[str, str] = {}
        self.file_names: list[str] = []
        self.dir_names: list[str] = []

    def add(self, path: str, is_dir: bool, entry: str) -> None:
        key = _fold(path)
        if key in self.files:
            raise _entry_error("duplicate_name", entry, f"collides with '{_show(self.files[key])}'")
        if is_dir:
            if key not in self.dirs:
                self.dirs[key] = path
                self.dir_names.append(path)
        elif key in self.dirs:
            raise _entry_error("duplicate_name", entry, f"collides with the directory '{_show(self.dirs[key])}'")
        else:
            self.files[key] = path
            self.file_names.append(path)
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            parent_key = _fold(parent)
            if parent_key in self.files:
                raise _entry_error(
                    "duplicate_name", entry, f"needs '{_show(self.files[parent_key])}' to be a directory"
                )
            self.dirs.setdefault(parent_key, parent)

    def root(self) -> str | None:
        """The one top-level directory every entry shares, if there is one."""
        tops = set()
        for path in self.file_names:
            top, slash, _ = path.partition("/")
            if not slash:
                return None
            tops.add(top)
        for path in self.dir_names:
            tops.add(path.partition("/")[0])
        return tops.pop() if len(tops) == 1 and self.file_names else None


# --- counting what comes out --------------------------------------------------------------


class _Budget:
    """The archive-wide running total of file bytes."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total = 0


def _consume(
    chunks: Iterable[bytes],
    entry: str,
    limits: Limits,
    budget: _Budget | None,
    *,
    keep: bool = False,
    cap: int | None = None,
    expect: ManifestEntry | None = None,
    check: git_paths.ContentCheck | None = None,
) -> tuple[int, str, bytes | None]:
    """Drain one entry's decompressed chunks: (size, sha256, content if keep). Stops at the
    first chunk over a limit: the file limit (or `cap`), the archive's total, the manifest,
    or the first problem `check` (git's reading of .gitmodules and .gitattributes) finds."""
    digest = hashlib.sha256()
    buffer = io.BytesIO() if keep else None
    size = 0
    file_limit = limits.max_file_bytes if cap is None else cap
    for chunk in chunks:
        size += len(chunk)
        if expect is not None and size > expect.size:
            raise _entry_error("manifest_mismatch", entry, "changed since the archive was inspected")
        if size > file_limit:
            raise _entry_error("too_large", entry, f"holds more than {file_limit} bytes")
        if budget is not None and budget.total + size > limits.max_total_bytes:
            raise InvalidArchive(
                "too_large", f"The archive holds more than {limits.max_total_bytes} bytes of files.", _show(entry)
            )
        digest.update(chunk)
        if buffer is not None:
            buffer.write(chunk)
        if check is not None and (problem := check.feed(chunk)) is not None:
            raise _git_error(problem, entry)
    if check is not None and (problem := check.finish()) is not None:
        raise _git_error(problem, entry)
    if budget is not None:
        budget.total += size
    sha256 = digest.hexdigest()
    if expect is not None and (size != expect.size or sha256 != expect.sha256):
        raise _entry_error("manifest_mismatch", entry, "changed since the archive was inspected")
    return size, sha256, buffer.getvalue() if buffer is not None else None


def _check_ratio(produced: int, consumed: int, entry: str, limits: Limits) -> None:
    if produced > limits.ratio_floor_bytes and produced > limits.max_ratio * max(consumed, 1):
        raise _entry_error(
            "compression_ratio", entry, f"expands more than {limits.max_ratio} times (a decompression bomb?)"
        )


# --- detection ----------------------------------------------------------------------------


def detect_format(head: bytes, filename: str | None = None) -> ArchiveFormat:
    """The format by magic bytes (the first 512 bytes are plenty): zip (kiln when the filename
    ends in .kiln; inspect also recognizes a zip with kiln.json at its root) or tar.gz."""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        if filename and filename.lower().endswith(".kiln"):
            return ArchiveFormat.KILN
        return ArchiveFormat.ZIP
    if head.startswith(b"\x1f\x8b"):
        return ArchiveFormat.TAR_GZ
    if not head:
        raise InvalidArchive("empty", "The archive is empty (0 bytes).")
    if head[257:262] == b"ustar":
        raise InvalidArchive("not_an_archive", "Uncompressed tar is not accepted: send a .tar.gz, .zip or .kiln.")
    raise InvalidArchive("not_an_archive", "This is not a .zip, .tar.gz or .kiln archive.")


def inspect(fileobj: BinaryIO, limits: Limits = Limits(), filename: str | None = None) -> ArchiveManifest:
    """FIRST PASS: validate the whole archive (see the module docstring) and describe its files.
    Raises InvalidArchive with the reason of the first problem found."""
    fileobj.seek(0)
    head = fileobj.read(512)
    fileobj.seek(0)
    fmt = detect_format(head, filename)
    if fmt is ArchiveFormat.TAR_GZ:
        return _inspect_tar(fileobj, limits)
    return _inspect_zip(fileobj, limits, kiln_expected=fmt is ArchiveFormat.KILN)


def iter_files(fileobj: BinaryIO, manifest: ArchiveManifest, limits: Limits = Limits()) -> Iterator[tuple[str, bytes]]:
    """SECOND PASS: (repository path, content) for every file of the manifest, one at a time,
    in the archive's own order. Each file is checked against the manifest as it is read;
    InvalidArchive(manifest_mismatch) if the source changed since inspect."""
    expected = {entry.path: entry for entry in manifest.entries}
    seen: set[str] = set()
    if manifest.format is ArchiveFormat.TAR_GZ:
        members = _tar_files(fileobj, limits)
    else:
        members = _zip_files(fileobj, limits, manifest.format is ArchiveFormat.KILN)
    for name, chunks in members:
        path = _path_in(name, manifest)
        entry = expected.get(path) if path is not None else None
        if entry is None or path in seen:
            raise _entry_error("manifest_mismatch", name, "was not in the archive when it was inspected")
        _, _, content = _consume(chunks, name, limits, None, keep=True, expect=entry)
        seen.add(entry.path)
        yield entry.path, content  # type: ignore[misc]
    if len(seen) != len(expected):
        missing = sorted(set(expected) - seen)[0]
        raise _entry_error("manifest_mismatch", missing, "is missing since the archive was inspected")


def _path_in(name: str, manifest: ArchiveManifest) -> str | None:
    """The repository path of a (cleaned) entry name, as inspect mapped it."""
    if manifest.format is ArchiveFormat.KILN:
        return name[len(FILES_PREFIX) :] if name.startswith(FILES_PREFIX) else None
    if manifest.root:
        prefix = manifest.root + "/"
        return name[len(prefix) :] if name.startswith(prefix) else None
    return name


def _finish(
    fmt: ArchiveFormat,
    tree: _Tree,
    entries: list[tuple[str, int, str]],
    kiln: KilnDocument | None,
    budget: _Budget,
    limits: Limits,
) -> ArchiveManifest:
    """The manifest from the cleaned names: strip a plain archive's top directory, check every
    final path, and hold a .kiln's files against kiln.json. A .kiln may hold no files (a
    project with a spec and nothing built yet); a plain archive without files is empty."""
    if not entries and kiln is None:
        raise InvalidArchive("empty", "The archive holds no files.")
    root = tree.root() if fmt is not ArchiveFormat.KILN else None
    manifest = ArchiveManifest(fmt, [], kiln, budget.total, root)
    result = []
    for name, size, sha256 in entries:
        path = _path_in(name, manifest)
        assert path is not None
        result.append(ManifestEntry(_final_path(path, name, limits), size, sha256))
    result.sort(key=lambda e: e.path)
    if kiln is not None:
        listed = {f.path: f for f in kiln.files}
        for entry in result:
            item = listed.get(entry.path)
            if item is None:
                raise _entry_error("manifest_mismatch", FILES_PREFIX + entry.path, "is not listed in kiln.json")
            if item.size != entry.size:
                raise _entry_error(
                    "manifest_mismatch",
                    FILES_PREFIX + entry.path,
                    f"holds {entry.size} bytes; kiln.json lists {item.size}",
                )
            if item.sha256 != entry.sha256:
                raise _entry_error(
                    "manifest_mismatch", FILES_PREFIX + entry.path, "does not match the sha256 kiln.json lists"
                )
        if len(listed) != len(result):
            present = {e.path for e in result}
            missing = sorted(p for p in listed if p not in present)[0]
            raise _entry_error("manifest_mismatch", FILES_PREFIX + missing, "is listed in kiln.json but missing")
    return ArchiveManifest(fmt, result, kiln, budget.total, root)


# --- zip: reading -------------------------------------------------------------------------

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record (22 bytes)
_ZIP64_LOCATOR = struct.Struct("<4sLQL")  # 20 bytes
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")  # 56 bytes
_CENTRAL = struct.Struct("<4s6H3L5H2L")  # central directory file header (46 bytes)
_LOCAL = struct.Struct("<4s5H3L2H")  # local file header (30 bytes)
_DESCRIPTOR = struct.Struct("<4s3L")
_U16 = 0xFFFF
_U32 = 0xFFFFFFFF
_ZIP64_LIMIT = 0xFFFFFFFF  # sizes and offsets from here on need zip64 (writer)
_ZIP64_COUNT = 0xFFFF  # and so does this many entries

_FLAG_ENCRYPTED = 0x01
_FLAG_DESCRIPTOR = 0x08
_FLAG_STRONG_ENCRYPTION = 0x40
_FLAG_UTF8 = 0x800
_DOS_DATE_1980 = (0 << 9) | (1 << 5) | 1  # 1980-01-01
_DOS_TIME_MIDNIGHT = 0


@dataclass
class _ZipRecord:
    raw_name: bytes
    flags: int
    method: int
    crc: int
    csize: int
    usize: int
    external_attr: int
    offset: int


@dataclass
class _ZipDirectory:
    records: list[_ZipRecord]
    start: int  # where the central directory starts: local data must end before it


def _read_exactly(fileobj: BinaryIO, size: int, what: str) -> bytes:
    data = fileobj.read(size)
    if len(data) != size:
        raise InvalidArchive("truncated", f"The archive ends in the middle of {what}.")
    return data


def _zip_directory(fileobj: BinaryIO, limits: Limits) -> _ZipDirectory:
    """Parse the central directory (zip64 too), counting entries as it goes."""
    fileobj.seek(0, io.SEEK_END)
    size = fileobj.tell()
    tail_size = min(size, _EOCD.size + 0xFFFF)
    fileobj.seek(size - tail_size)
    tail = fileobj.read(tail_size)
    position = len(tail)
    while True:
        position = tail.rfind(b"PK\x05\x06", 0, position)
        if position < 0:
            raise InvalidArchive(
                "truncated", "The zip has no end of central directory record: it is cut short or damaged."
            )
        if position + _EOCD.size <= len(tail):
            fields = _EOCD.unpack_from(tail, position)
            if position + _EOCD.size + fields[7] <= len(tail):
                break
    _, disk, cd_disk, count_disk, count, cd_size, cd_offset, _ = fields
    eocd_at = size - tail_size + position
    end_of_directory = eocd_at
    locator_at = eocd_at - _ZIP64_LOCATOR.size
    locator = b""
    if locator_at >= 0:
        fileobj.seek(locator_at)
        locator = fileobj.read(_ZIP64_LOCATOR.size)
    if locator[:4] == b"PK\x06\x07":
        _, _, zip64_at, _ = _ZIP64_LOCATOR.unpack(locator)
        if zip64_at > locator_at - _ZIP64_EOCD.size:
            raise InvalidArchive("corrupt", "The zip64 end of central directory record is misplaced.")
        fileobj.seek(zip64_at)
        record = _read_exactly(fileobj, _ZIP64_EOCD.size, "the zip64 end record")
        if record[:4] != b"PK\x06\x06":
            raise InvalidArchive("corrupt", "The zip64 end of central directory record is damaged.")
        _, _, _, _, disk, cd_disk, count_disk, count, cd_size, cd_offset = _ZIP64_EOCD.unpack(record)
        end_of_directory = zip64_at
    elif _U16 in (count, count_disk) or _U32 in (cd_size, cd_offset):
        raise InvalidArchive("corrupt", "The zip needs a zip64 end record and has none.")
    if disk or cd_disk or count_disk != count:
        raise InvalidArchive("corrupt", "Archives split over several disks are not accepted.")
    if count > limits.max_entries:
        raise InvalidArchive(
            "too_many_entries", f"The archive has {count} entries; at most {limits.max_entries} are allowed."
        )
    shift = end_of_directory - cd_size - cd_offset  # bytes prepended to the archive, as zipfile allows
    if shift < 0:
        raise InvalidArchive("corrupt", "The zip's central directory is misplaced.")
    start = cd_offset + shift
    fileobj.seek(start)
    records: list[_ZipRecord] = []
    consumed = 0
    while consumed < cd_size:
        header = _read_exactly(fileobj, _CENTRAL.size, "the central directory")
        (
            signature,
            _,
            _,
            flags,
            method,
            _,
            _,
            crc,
            csize,
            usize,
            name_size,
            extra_size,
            comment_size,
            disk_start,
            _,
            external_attr,
            offset,
        ) = _CENTRAL.unpack(header)
        if signature != b"PK\x01\x02":
            raise InvalidArchive("corrupt", "The zip's central directory is damaged.")
        if len(records) >= limits.max_entries:
            raise InvalidArchive("too_many_entries", f"The archive has more than {limits.max_entries} entries.")
        name = _read_exactly(fileobj, name_size, "the central directory")
        extra = _read_exactly(fileobj, extra_size, "the central directory")
        _read_exactly(fileobj, comment_size, "the central directory")
        usize, csize, offset, disk_start = _zip64_extra(extra, usize, csize, offset, disk_start, name)
        if disk_start:
            raise InvalidArchive("corrupt", "Archives split over several disks are not accepted.")
        records.append(_ZipRecord(name, flags, method, crc, csize, usize, external_attr, offset + shift))
        consumed += _CENTRAL.size + name_size + extra_size + comment_size
    if consumed != cd_size or len(records) != count:
        raise InvalidArchive("corrupt", "The zip's central directory does not match its end record.")
    return _ZipDirectory(records, start)


def _zip64_extra(
    extra: bytes, usize: int, csize: int, offset: int, disk: int, name: bytes
) -> tuple[int, int, int, int]:
    position = 0
    while position + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, position)
        body = extra[position + 4 : position + 4 + length]
        if len(body) != length:
            raise _entry_error("corrupt", name, "has a damaged extra field")
        if tag == 0x0001:
            wide = (usize == _U32) + (csize == _U32) + (offset == _U32)
            if length < 8 * wide + 4 * (disk == _U16):
                raise _entry_error("corrupt", name, "has a zip64 extra field that is too short")
            taken = iter(struct.unpack_from(f"<{wide}Q", body))
            if usize == _U32:
                usize = next(taken)
            if csize == _U32:
                csize = next(taken)
            if offset == _U32:
                offset = next(taken)
            if disk == _U16:
                disk = struct.unpack_from("<L", body, 8 * wide)[0]
            break
        position += 4 + length
    return usize, csize, offset, disk


def _zip_entry(record: _ZipRecord, limits: Limits) -> tuple[str | None, bool, str]:
    """(cleaned name or None for the root, is it a directory, the raw name as text): the
    name and type checks of one central directory record."""
    text = _decode_name(record.raw_name, bool(record.flags & _FLAG_UTF8))
    path, is_dir = _clean_name(text, len(record.raw_name), limits)
    mode = record.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        raise _entry_error("symlink", text, "is a symbolic link")
    if kind in (stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO, stat.S_IFSOCK):
        raise _entry_error("special_file", text, "is a device, pipe or socket")
    if record.flags & (_FLAG_ENCRYPTED | _FLAG_STRONG_ENCRYPTION) or record.method == 99:
        raise _entry_error("encrypted", text, "is encrypted")
    if not is_dir and (kind == stat.S_IFDIR or record.external_attr & 0x10) and record.usize == 0:
        is_dir = True
    if is_dir and (record.usize or record.csize > 2):
        raise _entry_error("corrupt", text, "is a directory with content")
    if not is_dir and record.method not in (0, 8):
        raise _entry_error(
            "unsupported_compression",
            text,
            f"uses compression method {record.method}; only stored and deflated are accepted",
        )
    return path, is_dir, text


def _zip_chunks(
    fileobj: BinaryIO, record: _ZipRecord, directory_start: int, name: str, limits: Limits
) -> Iterator[bytes]:
    """One entry's content, decompressed a chunk at a time; checks the local header, the
    sizes and CRC the central directory declares, and the compression ratio as it goes."""
    fileobj.seek(record.offset)
    header = _read_exactly(fileobj, _LOCAL.size, f"the entry '{_show(name)}'")
    (signature, _, flags, method, _, _, _, _, _, name_size, extra_size) = _LOCAL.unpack(header)
    if signature != b"PK\x03\x04":
        raise _entry_error("corrupt", name, "has no local header where the central directory points")
    if _read_exactly(fileobj, name_size, f"the entry '{_show(name)}'") != record.raw_name:
        raise _entry_error("corrupt", name, "has a local header for a different name")
    if flags & (_FLAG_ENCRYPTED | _FLAG_STRONG_ENCRYPTION):
        raise _entry_error("encrypted", name, "is encrypted")
    if method != record.method:
        raise _entry_error("corrupt", name, "has a local header that disagrees with the central directory")
    data_start = record.offset + _LOCAL.size + name_size + extra_size
    if data_start + record.csize > directory_start:
        raise _entry_error("corrupt", name, "has data that runs into the central directory")
    fileobj.seek(data_start)
    remaining = record.csize
    produced = 0
    crc = 0
    what = f"the entry '{_show(name)}'"
    if method == 0:
        if record.csize != record.usize:
            raise _entry_error("corrupt", name, "is stored but its sizes differ")
        while remaining:
            chunk = _read_exactly(fileobj, min(READ_CHUNK, remaining), what)
            remaining -= len(chunk)
            crc = zlib.crc32(chunk, crc)
            yield chunk
        produced = record.usize
    else:
        inflater = zlib.decompressobj(-15)
        fed = 0
        while True:
            if inflater.unconsumed_tail:
                source = inflater.unconsumed_tail
            elif remaining:
                source = _read_exactly(fileobj, min(READ_CHUNK, remaining), what)
                remaining -= len(source)
                fed += len(source)
            elif inflater.eof:
                break
            else:
                raise _entry_error("corrupt", name, "has compressed data that stops before its end")
            try:
                chunk = inflater.decompress(source, OUT_CHUNK)
            except zlib.error as exc:
                raise _entry_error("corrupt", name, f"has damaged compressed data ({exc})") from None
            if chunk:
                produced += len(chunk)
                if produced > record.usize:
                    raise _entry_error(
                        "corrupt", name, f"inflates to more than the {record.usize} bytes its header declares"
                    )
                _check_ratio(produced, fed - len(inflater.unconsumed_tail), name, limits)
                crc = zlib.crc32(chunk, crc)
                yield chunk
            if inflater.eof and (inflater.unused_data or remaining):
                raise _entry_error("corrupt", name, "has bytes after the end of its compressed data")
    if produced != record.usize:
        raise _entry_error("corrupt", name, f"holds {produced} bytes; its header declares {record.usize}")
    if crc != record.crc:
        raise _entry_error("corrupt", name, "fails its CRC check")


def _inspect_zip(fileobj: BinaryIO, limits: Limits, kiln_expected: bool) -> ArchiveManifest:
    directory = _zip_directory(fileobj, limits)
    if not directory.records:
        raise InvalidArchive("empty", "The archive holds no files.")
    tree = _Tree()
    files: list[tuple[_ZipRecord, str]] = []
    declared = 0
    for record in directory.records:
        path, is_dir, text = _zip_entry(record, limits)
        if path is None:
            continue
        tree.add(path, is_dir, text)
        if is_dir:
            continue
        if record.usize > limits.max_file_bytes and path != MANIFEST_NAME:
            raise _entry_error(
                "too_large", text, f"declares {record.usize} bytes; at most {limits.max_file_bytes} are allowed"
            )
        _check_ratio(record.usize, record.csize, text, limits)
        if path != MANIFEST_NAME:
            declared += record.usize
        files.append((record, path))
    if declared > limits.max_total_bytes:
        raise InvalidArchive(
            "too_large",
            f"The archive declares {declared} bytes of files; at most {limits.max_total_bytes} are allowed.",
        )
    names = {path for _, path in files}
    is_kiln = kiln_expected or MANIFEST_NAME in names
    kiln: KilnDocument | None = None
    if is_kiln:
        kiln = _zip_kiln_document(fileobj, directory, files, tree, limits)
        files = [(record, path) for record, path in files if path != MANIFEST_NAME]
    budget = _Budget(limits)
    entries: list[tuple[str, int, str]] = []
    end_of_previous = 0
    for record, path in sorted(files, key=lambda item: item[0].offset):
        if record.offset < end_of_previous:
            raise _entry_error("corrupt", path, "overlaps another entry")
        size, sha256, _ = _consume(
            _zip_chunks(fileobj, record, directory.start, path, limits),
            path,
            limits,
            budget,
            check=git_paths.content_check(path),
        )
        end_of_previous = fileobj.tell()
        entries.append((path, size, sha256))
    return _finish(ArchiveFormat.KILN if is_kiln else ArchiveFormat.ZIP, tree, entries, kiln, budget, limits)


def _zip_kiln_document(
    fileobj: BinaryIO, directory: _ZipDirectory, files: list[tuple[_ZipRecord, str]], tree: _Tree, limits: Limits
) -> KilnDocument:
    manifest = [record for record, path in files if path == MANIFEST_NAME]
    if not manifest:
        raise InvalidArchive("manifest_invalid", "A .kiln archive needs kiln.json at its root.", MANIFEST_NAME)
    for _, path in files:
        if path != MANIFEST_NAME and not path.startswith(FILES_PREFIX):
            raise _entry_error("manifest_mismatch", path, "is outside files/ in a .kiln archive")
    for path in tree.dir_names:
        if path != FILES_PREFIX[:-1] and not path.startswith(FILES_PREFIX):
            raise _entry_error("manifest_mismatch", path + "/", "is outside files/ in a .kiln archive")
    record = manifest[0]
    if record.usize > limits.max_manifest_bytes:
        raise _entry_error(
            "too_large",
            MANIFEST_NAME,
            f"declares {record.usize} bytes; at most {limits.max_manifest_bytes} are allowed",
        )
    _, _, raw = _consume(
        _zip_chunks(fileobj, record, directory.start, MANIFEST_NAME, limits),
        MANIFEST_NAME,
        limits,
        None,
        keep=True,
        cap=limits.max_manifest_bytes,
    )
    return parse_kiln_json(raw)  # type: ignore[arg-type]


def _zip_files(fileobj: BinaryIO, limits: Limits, is_kiln: bool) -> Iterator[tuple[str, Iterator[bytes]]]:
    directory = _zip_directory(fileobj, limits)
    files = []
    for record in directory.records:
        path, is_dir, _ = _zip_entry(record, limits)
        if path is None or is_dir or (is_kiln and path == MANIFEST_NAME):
            continue
        files.append((record, path))
    for record, path in sorted(files, key=lambda item: item[0].offset):
        yield path, _zip_chunks(fileobj, record, directory.start, path, limits)


# --- tar.gz: reading ----------------------------------------------------------------------


class _Gunzip:
    """A gzip stream (one or more members) read a chunk at a time, knowing how many compressed
    bytes it has consumed so far and refusing to produce more than `cap` bytes."""

    def __init__(self, fileobj: BinaryIO, cap: int) -> None:
        self._file = fileobj
        self._inflater = zlib.decompressobj(31)
        self._pending = b""
        self._fed = 0
        self._cap = cap
        self.produced = 0
        self.started = False

    @property
    def consumed(self) -> int:
        return self._fed - len(self._pending) - len(self._inflater.unconsumed_tail)

    def read(self, size: int, *, next_member: bool = True) -> bytes:
        """Up to `size` bytes; b"" at the clean end of the stream (or of this member)."""
        while True:
            if self._inflater.eof:
                rest = self._inflater.unused_data
                if not next_member:
                    return b""
                if not rest:
                    rest = self._file.read(READ_CHUNK)
                    self._fed += len(rest)
                if not rest:
                    return b""
                self._inflater = zlib.decompressobj(31)
                self._pending = rest
            if self._inflater.unconsumed_tail:
                source = self._inflater.unconsumed_tail
            elif self._pending:
                source, self._pending = self._pending, b""
            else:
                source = self._file.read(READ_CHUNK)
                self._fed += len(source)
                if not source:
                    raise InvalidArchive("truncated", "The gzip stream ends before its end: the archive is cut short.")
            try:
                out = self._inflater.decompress(source, size)
            except zlib.error as exc:
                if not self.started:
                    raise InvalidArchive("not_an_archive", "The data is not valid gzip.") from None
                raise InvalidArchive("corrupt", f"The gzip stream is damaged ({exc}).") from None
            self.started = True
            if out:
                self.produced += len(out)
                if self.produced > self._cap:
                    raise InvalidArchive("too_large", f"The archive decompresses to more than {self._cap} bytes.")
                return out

    def drain(self, limit: int) -> None:
        """Read on to the end of the current member (to check its CRC), at most `limit` bytes."""
        drained = 0
        while drained <= limit:
            chunk = self.read(min(OUT_CHUNK, limit + 1), next_member=False)
            if not chunk:
                return
            drained += len(chunk)


@dataclass
class _TarMember:
    name: str  # as in the archive (text)
    kind: str  # "file", "dir", "symlink", "hard_link", "special_file"
    size: int


_ZERO_BLOCK = bytes(512)


class _TarReader:
    """A tar stream, member by member, parsed here (not by tarfile) so that nothing it reads
    is unbounded: extended headers are capped, sizes come from the headers of plain files only."""

    def __init__(self, stream: _Gunzip, limits: Limits) -> None:
        self._stream = stream
        self._limits = limits
        self._left = 0  # content bytes of the current member not read yet
        self._padding = 0
        self._headers = 0
        self._members = 0
        self.ended = False

    def _read(self, size: int, what: str) -> bytes:
        parts = []
        while size:
            chunk = self._stream.read(min(size, OUT_CHUNK))
            if not chunk:
                raise InvalidArchive("truncated", f"The archive ends in the middle of {what}.")
            parts.append(chunk)
            size -= len(chunk)
        return b"".join(parts)

    def _skip(self, size: int, what: str) -> None:
        while size:
            chunk = self._stream.read(min(size, OUT_CHUNK))
            if not chunk:
                raise InvalidArchive("truncated", f"The archive ends in the middle of {what}.")
            size -= len(chunk)

    def _block(self) -> bytes | None:
        """The next 512-byte header block; None at the clean end of the stream."""
        parts: list[bytes] = []
        got = 0
        while got < 512:
            chunk = self._stream.read(512 - got)
            if not chunk:
                if not got:
                    return None
                if self._headers == 0:
                    raise InvalidArchive("not_an_archive", "The gzip data is not a tar archive.")
                raise InvalidArchive("truncated", "The archive ends in the middle of a header.")
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    def next(self) -> _TarMember | None:
        self._skip(self._left + self._padding, "an entry")
        self._left = self._padding = 0
        pax: dict[bytes, bytes] = {}
        long_name: bytes | None = None
        while True:
            block = self._block()
            if block is None:
                if self._headers == 0:
                    raise InvalidArchive("not_an_archive", "The gzip data is not a tar archive.")
                return None  # ends without the end-of-archive blocks: accepted, as tar itself does
            if block == _ZERO_BLOCK:
                if self._headers == 0:
                    raise InvalidArchive("empty", "The archive holds no files.")
                self.ended = True
                return None
            if not _tar_checksum_ok(block):
                if self._headers == 0:
                    raise InvalidArchive("not_an_archive", "The gzip data is not a tar archive.")
                raise InvalidArchive("corrupt", "A tar header fails its checksum.")
            self._headers += 1
            if self._headers > 4 * (self._limits.max_entries + 1):
                raise InvalidArchive(
                    "too_many_entries", f"The archive has more than {self._limits.max_entries} entries."
                )
            typeflag = block[156:157]
            size = _tar_number(block[124:136])
            if typeflag in (b"x", b"g", b"L", b"K"):
                if size > _MAX_EXTENDED_HEADER:
                    raise InvalidArchive(
                        "too_large",
                        f"A tar extended header holds {size} bytes; at most {_MAX_EXTENDED_HEADER} are allowed.",
                    )
                data = self._read(size, "an extended header")
                self._skip(-size % 512, "an extended header")
                if typeflag == b"x":
                    pax.update(_pax_records(data))
                elif typeflag == b"g":
                    _pax_records(data)  # global headers (GitHub's commit id) are checked and ignored
                elif typeflag == b"L":
                    long_name = data.split(b"\0", 1)[0]
                continue
            raw_name = _tar_name(block)
            if long_name is not None:
                raw_name = long_name
            if b"path" in pax:
                raw_name = pax[b"path"]
            if b"size" in pax:
                try:
                    size = int(pax[b"size"].decode("ascii"))
                except ValueError:
                    raise InvalidArchive("corrupt", "A tar extended header has an invalid size.") from None
            self._members += 1
            if self._members > self._limits.max_entries:
                raise InvalidArchive(
                    "too_many_entries", f"The archive has more than {self._limits.max_entries} entries."
                )
            name = _decode_name(raw_name, True)
            kind = _TAR_KINDS.get(typeflag, "special_file")
            if kind == "file" and typeflag in (b"\0", b"") and name.endswith("/"):
                kind = "dir"
            if kind == "file":
                self._left = size
                self._padding = -size % 512
            elif kind == "dir" and size:
                raise _entry_error("corrupt", name, "is a directory with content")
            return _TarMember(name, kind, size)

    def content(self, name: str) -> Iterator[bytes]:
        """The current member's content a chunk at a time (the compression ratio checked)."""
        start = self._stream.consumed
        produced = 0
        while self._left:
            chunk = self._stream.read(min(self._left, OUT_CHUNK))
            if not chunk:
                raise InvalidArchive("truncated", f"The archive ends in the middle of the entry '{_show(name)}'.")
            self._left -= len(chunk)
            produced += len(chunk)
            _check_ratio(produced, self._stream.consumed - start, name, self._limits)
            yield chunk


_TAR_KINDS = {
    b"0": "file",
    b"\0": "file",
    b"": "file",
    b"7": "file",
    b"5": "dir",
    b"1": "hard_link",
    b"2": "symlink",
    b"3": "special_file",
    b"4": "special_file",
    b"6": "special_file",
}


def _tar_checksum_ok(block: bytes) -> bool:
    try:
        stored = _tar_number(block[148:156])
    except InvalidArchive:
        return False
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:])
    signed = sum(struct.unpack("148b", block[:148])) + 8 * 32 + sum(struct.unpack("356b", block[156:]))
    return stored in (unsigned, signed)


def _tar_number(field: bytes) -> int:
    if field and field[0] & 0x80:  # GNU base-256
        if field[0] == 0xFF:
            raise InvalidArchive("corrupt", "A tar header has a negative number.")
        return int.from_bytes(bytes([field[0] & 0x7F]) + field[1:], "big")
    text = field.split(b"\0", 1)[0].strip(b" ")
    try:
        return int(text or b"0", 8)
    except ValueError:
        raise InvalidArchive("corrupt", "A tar header has an invalid number.") from None


def _tar_name(block: bytes) -> bytes:
    name = block[:100].split(b"\0", 1)[0]
    if block[257:263] == b"ustar\x00":  # POSIX ustar: the prefix field extends the name
        prefix = block[345:500].split(b"\0", 1)[0]
        if prefix:
            name = prefix + b"/" + name
    return name


def _pax_records(data: bytes) -> dict[bytes, bytes]:
    records: dict[bytes, bytes] = {}
    position = 0
    while position < len(data):
        if data[position:].strip(b"\0") == b"":
            break
        space = data.find(b" ", position)
        try:
            length = int(data[position:space]) if space > position else 0
        except ValueError:
            length = 0
        record = data[position : position + length]
        if length <= 0 or len(record) != length or not record.endswith(b"\n") or b"=" not in record:
            raise InvalidArchive("corrupt", "A tar extended header is malformed.")
        key, _, value = record[space - position + 1 : -1].partition(b"=")
        if value:
            records[key] = value
        else:
            records.pop(key, None)
        position += length
    return records


def _tar_stream_cap(limits: Limits) -> int:
    return limits.max_total_bytes + (limits.max_entries + 1) * _TAR_OVERHEAD_PER_ENTRY + _DRAIN_AFTER_END + _TAR_RECORD


def _tar_members(fileobj: BinaryIO, limits: Limits) -> Iterator[tuple[_TarReader, _TarMember, str | None]]:
    """Every member with its cleaned name (None for the root directory); types checked."""
    fileobj.seek(0)
    stream = _Gunzip(fileobj, _tar_stream_cap(limits))
    reader = _TarReader(stream, limits)
    while True:
        member = reader.next()
        if member is None:
            break
        path, is_dir = _clean_name(member.name, len(member.name.encode("utf-8")), limits)
        if member.kind == "symlink":
            raise _entry_error("symlink", member.name, "is a symbolic link")
        if member.kind == "hard_link":
            raise _entry_error("hard_link", member.name, "is a hard link")
        if member.kind == "special_file":
            raise _entry_error("special_file", member.name, "is not a regular file or directory")
        if member.kind == "file" and is_dir:
            raise _entry_error("corrupt", member.name, "is a file with a directory's name")
        yield reader, member, path
    if reader.ended:
        stream.drain(_DRAIN_AFTER_END)


def _inspect_tar(fileobj: BinaryIO, limits: Limits) -> ArchiveManifest:
    tree = _Tree()
    budget = _Budget(limits)
    entries: list[tuple[str, int, str]] = []
    for reader, member, path in _tar_members(fileobj, limits):
        if path is None:
            continue
        is_dir = member.kind == "dir"
        tree.add(path, is_dir, member.name)
        if is_dir:
            continue
        if member.size > limits.max_file_bytes:
            raise _entry_error(
                "too_large", member.name, f"declares {member.size} bytes; at most {limits.max_file_bytes} are allowed"
            )
        size, sha256, _ = _consume(reader.content(path), path, limits, budget, check=git_paths.content_check(path))
        entries.append((path, size, sha256))
    return _finish(ArchiveFormat.TAR_GZ, tree, entries, None, budget, limits)


def _tar_files(fileobj: BinaryIO, limits: Limits) -> Iterator[tuple[str, Iterator[bytes]]]:
    for reader, member, path in _tar_members(fileobj, limits):
        if path is None or member.kind == "dir":
            continue
        yield path, reader.content(path)


# --- writing ------------------------------------------------------------------------------


class _Output:
    """Collects small writes and hands the sink pieces of at most WRITE_CHUNK bytes."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self._buffer = bytearray()
        self.position = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.position += len(data)
        if len(self._buffer) + len(data) < WRITE_CHUNK:
            self._buffer += data
            return
        view = memoryview(data)
        room = WRITE_CHUNK - len(self._buffer)
        self._buffer += view[:room]
        self._sink.write(bytes(self._buffer))
        self._buffer.clear()
        view = view[room:]
        while len(view) >= WRITE_CHUNK:
            self._sink.write(bytes(view[:WRITE_CHUNK]))
            view = view[WRITE_CHUNK:]
        self._buffer += view

    def flush(self) -> None:
        if self._buffer:
            self._sink.write(bytes(self._buffer))
            self._buffer.clear()


def _precompressed(name: str) -> bool:
    lowered = name.lower()
    return any(lowered.endswith(extension) for extension in STORED_EXTENSIONS)


class _ZipWriter:
    """A zip written front to back: stored entries carry their CRC and sizes in the local
    header; deflated ones are compressed as they are written and followed by a data descriptor."""

    def __init__(self, out: _Output) -> None:
        self._out = out
        self._central: list[bytes] = []

    def add(self, name: str, data: bytes) -> None:
        raw = name.encode("utf-8")
        flags = 0 if raw.isascii() else _FLAG_UTF8
        size = len(data)
        if size >= _U32:
            raise ValueError(f"{name!r}: files of 4 GiB or more are not supported")
        crc = zlib.crc32(data)
        offset = self._out.position
        if size == 0 or _precompressed(name):
            method, version = 0, 10
            self._out.write(
                _LOCAL.pack(
                    b"PK\x03\x04",
                    version,
                    flags,
                    method,
                    _DOS_TIME_MIDNIGHT,
                    _DOS_DATE_1980,
                    crc,
                    size,
                    size,
                    len(raw),
                    0,
                )
            )
            self._out.write(raw)
            self._out.write(data)
            compressed = size
        else:
            method, version = 8, 20
            flags |= _FLAG_DESCRIPTOR
            self._out.write(
                _LOCAL.pack(
                    b"PK\x03\x04", version, flags, method, _DOS_TIME_MIDNIGHT, _DOS_DATE_1980, 0, 0, 0, len(raw), 0
                )
            )
            self._out.write(raw)
            deflater = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
            compressed = 0
            view = memoryview(data)
            for start in range(0, size, OUT_CHUNK):
                piece = deflater.compress(view[start : start + OUT_CHUNK])
                compressed += len(piece)
                self._out.write(piece)
            piece = deflater.flush()
            compressed += len(piece)
            self._out.write(piece)
            if compressed >= _U32:
                raise ValueError(f"{name!r}: compresses to 4 GiB or more, which is not supported")
            self._out.write(_DESCRIPTOR.pack(b"PK\x07\x08", crc, compressed, size))
        extra = b""
        offset_field = offset
        if offset >= _ZIP64_LIMIT:
            extra = struct.pack("<HHQ", 0x0001, 8, offset)
            offset_field = _U32
            version = 45
        self._central.append(
            _CENTRAL.pack(
                b"PK\x01\x02",
                (3 << 8) | version,
                version,
                flags,
                method,
                _DOS_TIME_MIDNIGHT,
                _DOS_DATE_1980,
                crc,
                compressed,
                size,
                len(raw),
                len(extra),
                0,
                0,
                0,
                (stat.S_IFREG | 0o644) << 16,
                offset_field,
            )
            + raw
            + extra
        )

    def close(self) -> None:
        start = self._out.position
        for record in self._central:
            self._out.write(record)
        size = self._out.position - start
        count = len(self._central)
        if count >= _ZIP64_COUNT or start >= _ZIP64_LIMIT or size >= _ZIP64_LIMIT:
            at = self._out.position
            self._out.write(
                _ZIP64_EOCD.pack(
                    b"PK\x06\x06", _ZIP64_EOCD.size - 12, (3 << 8) | 45, 45, 0, 0, count, count, size, start
                )
            )
            self._out.write(_ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, at, 1))
            count, size, start = _U16, _U32, _U32
        self._out.write(_EOCD.pack(b"PK\x05\x06", 0, 0, count, count, size, start, 0))


class _GzipWriter:
    """A gzip member without file name or time (mtime 0, OS unknown): the same bytes in give the
    same bytes out."""

    _HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"

    def __init__(self, out: _Output) -> None:
        self._out = out
        self._deflater = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
        self._crc = 0
        self._size = 0
        out.write(self._HEADER)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        for start in range(0, len(view), OUT_CHUNK):
            piece = view[start : start + OUT_CHUNK]
            self._crc = zlib.crc32(piece, self._crc)
            self._size += len(piece)
            self._out.write(self._deflater.compress(piece))

    def close(self) -> None:
        self._out.write(self._deflater.flush())
        self._out.write(struct.pack("<LL", self._crc, self._size & 0xFFFFFFFF))


class _TarGzWriter:
    """POSIX (pax) tar: regular files only, mode 0644, mtime 0, uid/gid 0, no user or group names."""

    def __init__(self, out: _Output) -> None:
        self._gzip = _GzipWriter(out)
        self._written = 0

    def _write(self, data: bytes) -> None:
        self._gzip.write(data)
        self._written += len(data)

    def add(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mtime = 0
        info.mode = 0o644
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.type = tarfile.REGTYPE
        self._write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "strict"))
        self._write(data)
        self._write(bytes(-len(data) % 512))

    def close(self) -> None:
        self._write(bytes(1024))
        self._write(bytes(-self._written % _TAR_RECORD))
        self._gzip.close()


def _writer(fmt: ArchiveFormat, out: _Output) -> _ZipWriter | _TarGzWriter:
    return _TarGzWriter(out) if fmt is ArchiveFormat.TAR_GZ else _ZipWriter(out)


def write_archive(
    format: ArchiveFormat | str,
    files: Iterable[tuple[str, int, Callable[[], bytes]]],
    sink: Sink,
    kiln: KilnDocument | None = None,
) -> None:
    """Write `files` ((path, size, loader)) as one archive to `sink`, in path order, calling each
    loader only when its file is written (one file in memory at a time).

    For ArchiveFormat.KILN, `kiln` is required and its `files` must list every file with its
    size and sha256: kiln.json comes first in the archive, so the hashes have to be known
    before any file is read. The writer checks every loaded file against that listing (and
    its declared size) as it writes it, and writes kiln.json with formatVersion
    FORMAT_VERSION and the files sorted by path. Raises ValueError for a bad listing or a
    loader whose bytes differ from what was declared; the sink then holds a partial archive
    the caller must discard."""
    fmt = ArchiveFormat(format)
    items = sorted(((normalize_path(path), size, loader) for path, size, loader in files), key=lambda item: item[0])
    seen: dict[str, str] = {}
    for path, size, _ in items:
        key = _fold(path)
        if key in seen:
            raise ValueError(f"paths {seen[key]!r} and {path!r} collide")
        seen[key] = path
        if size < 0:
            raise ValueError(f"{path!r}: negative size")
    listed: dict[str, KilnFile] = {}
    document: KilnDocument | None = None
    if fmt is ArchiveFormat.KILN:
        if kiln is None:
            raise ValueError("a .kiln archive needs its KilnDocument")
        listed = {item.path: item for item in kiln.files}
        paths = {path: size for path, size, _ in items}
        if set(listed) != set(paths):
            difference = sorted(set(listed) ^ set(paths))
            raise ValueError(f"kiln.files and the files differ on {difference[:5]}")
        for path, size in paths.items():
            if listed[path].size != size:
                raise ValueError(f"{path!r}: kiln.files lists {listed[path].size} bytes, the file has {size}")
        document = kiln.model_copy(
            update={"formatVersion": FORMAT_VERSION, "files": sorted(kiln.files, key=lambda item: item.path)}
        )
    out = _Output(sink)
    writer = _writer(fmt, out)
    prefix = ""
    if document is not None:
        writer.add(MANIFEST_NAME, dump_kiln_json(document))
        prefix = FILES_PREFIX
    for path, size, loader in items:
        data = loader()
        if len(data) != size:
            raise ValueError(f"{path!r}: declared {size} bytes, loaded {len(data)}")
        if document is not None and hashlib.sha256(data).hexdigest() != listed[path].sha256:
            raise ValueError(f"{path!r}: content does not match the sha256 in kiln.files")
        writer.add(prefix + path, data)
        del data
    writer.close()
    out.flush()


def convert(
    source: BinaryIO,
    to: ArchiveFormat | str,
    sink: Sink,
    limits: Limits = Limits(),
    filename: str | None = None,
    name_for_kiln: str | None = None,
) -> ArchiveManifest:
    """Validate `source` (inspect), then write its files to `sink` as `to` (iter_files feeding
    the writer). Files keep the source's order (for a tar.gz nothing else is possible without
    holding more than one file); kiln.json, when written, comes first and lists them sorted.
    For .kiln output from a plain tree the project is named `name_for_kiln`, else the stripped
    top-level directory, else the file name's stem; no spec. A .kiln source keeps its project
    and spec. Returns the manifest of what was written."""
    fmt = ArchiveFormat(to)
    manifest = inspect(source, limits, filename)
    document: KilnDocument | None = None
    if fmt is ArchiveFormat.KILN:
        document = _kiln_document_for(manifest, name_for_kiln, filename)
    out = _Output(sink)
    writer = _writer(fmt, out)
    prefix = ""
    if document is not None:
        writer.add(MANIFEST_NAME, dump_kiln_json(document))
        prefix = FILES_PREFIX
    for path, content in iter_files(source, manifest, limits):
        writer.add(prefix + path, content)
        del content
    writer.close()
    out.flush()
    return ArchiveManifest(fmt, manifest.entries, document, manifest.total_bytes)


def kiln_files(entries: Iterable[ManifestEntry]) -> list[KilnFile]:
    """kiln.json's file listing for manifest entries, sorted by path."""
    return [KilnFile(path=e.path, sha256=e.sha256, size=e.size) for e in sorted(entries, key=lambda e: e.path)]


def _kiln_document_for(manifest: ArchiveManifest, name: str | None, filename: str | None) -> KilnDocument:
    files = kiln_files(manifest.entries)
    if manifest.kiln is not None:
        return manifest.kiln.model_copy(update={"formatVersion": FORMAT_VERSION, "files": files})
    stem = None
    if filename:
        base = filename.replace("\\", "/").rsplit("/", 1)[-1]
        stem = re.sub(r"(\.tar\.gz|\.tgz|\.zip|\.kiln)$", "", base, flags=re.IGNORECASE) or None
    candidate = " ".join(CONTROL_CHARACTERS.sub(" ", name or manifest.root or stem or "").split())[:NAME_MAX].strip()
    return KilnDocument(project=KilnProject(name=candidate or "project"), files=files)
