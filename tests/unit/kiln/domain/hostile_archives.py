"""Archives built byte by byte, so that tests can say exactly what a hostile archive holds:
names zipfile would refuse to write, flags and modes, sizes and CRCs that lie, devices,
links, and bombs produced chunk by chunk without the expanded bytes ever being in memory."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import struct
import zipfile
import zlib
from dataclasses import dataclass

DOS_DATE_1980 = 0x21


@dataclass
class RawEntry:
    """One zip entry. `data` is the content; `compressed` overrides the payload written (with
    `method` 8 it must be a raw deflate stream); crc/usize/csize override what the headers say."""

    name: bytes
    data: bytes = b""
    method: int = 0
    flags: int = 0
    external_attr: int = 0o100644 << 16
    crc: int | None = None
    usize: int | None = None
    csize: int | None = None
    compressed: bytes | None = None
    local_name: bytes | None = None


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def deflated_zeros(size: int, chunk: int = 1 << 20) -> tuple[bytes, int]:
    """(raw deflate stream of `size` zero bytes, their CRC), built a chunk at a time."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(chunk)
    parts = []
    crc = 0
    left = size
    while left:
        piece = zeros if left >= chunk else zeros[:left]
        parts.append(compressor.compress(piece))
        crc = zlib.crc32(piece, crc)
        left -= len(piece)
    parts.append(compressor.flush())
    return b"".join(parts), crc


def build_zip(entries: list[RawEntry], *, count: int | None = None) -> bytes:
    out = io.BytesIO()
    central = []
    for entry in entries:
        payload = entry.compressed
        if payload is None:
            payload = deflate(entry.data) if entry.method == 8 else entry.data
        crc = zlib.crc32(entry.data) if entry.crc is None else entry.crc
        usize = len(entry.data) if entry.usize is None else entry.usize
        csize = len(payload) if entry.csize is None else entry.csize
        offset = out.tell()
        local_name = entry.name if entry.local_name is None else entry.local_name
        out.write(
            struct.pack(
                "<4s5H3L2H",
                b"PK\x03\x04",
                20,
                entry.flags,
                entry.method,
                0,
                DOS_DATE_1980,
                crc,
                csize,
                usize,
                len(local_name),
                0,
            )
        )
        out.write(local_name)
        out.write(payload)
        central.append(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                (3 << 8) | 20,
                20,
                entry.flags,
                entry.method,
                0,
                DOS_DATE_1980,
                crc,
                csize,
                usize,
                len(entry.name),
                0,
                0,
                0,
                0,
                entry.external_attr,
                offset,
            )
            + entry.name
        )
    start = out.tell()
    for record in central:
        out.write(record)
    size = out.tell() - start
    total = len(entries) if count is None else count
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, total, total, size, start, 0))
    return out.getvalue()


def zip_of(files: dict[str, bytes]) -> bytes:
    """An ordinary zip (Python's zipfile), deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def kiln_zip(document: dict, files: dict[str, bytes], *, extra: dict[str, bytes] | None = None) -> bytes:
    """A .kiln laid out by hand: kiln.json (as given) and files/<path> (plus any `extra` entries)."""
    members = {"kiln.json": json.dumps(document).encode()}
    members.update({"files/" + path: data for path, data in files.items()})
    members.update(extra or {})
    return zip_of(members)


def kiln_document(files: dict[str, bytes], **overrides) -> dict:
    document = {
        "formatVersion": "1.0",
        "project": {"name": "Hostile", "description": "made by hand"},
        "files": [
            {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for path, data in sorted(files.items())
        ],
    }
    document.update(overrides)
    return document


# --- tar --------------------------------------------------------------------------------------


def tar_header(
    name: bytes, size: int = 0, typeflag: bytes = b"0", linkname: bytes = b"", devmajor: int = 0, devminor: int = 0
) -> bytes:
    """A ustar header block with a correct checksum, name taken as raw bytes."""
    block = bytearray(512)
    block[0 : len(name[:100])] = name[:100]
    block[100:108] = b"0000644\0"
    block[108:116] = b"0000000\0"
    block[116:124] = b"0000000\0"
    block[124:136] = b"%011o\0" % size
    block[136:148] = b"00000000000\0"
    block[148:156] = b" " * 8
    block[156:157] = typeflag
    block[157 : 157 + len(linkname)] = linkname
    block[257:263] = b"ustar\0"
    block[263:265] = b"00"
    block[329:337] = b"%07o\0" % devmajor
    block[337:345] = b"%07o\0" % devminor
    checksum = sum(block)
    block[148:156] = b"%06o\0 " % checksum
    return bytes(block)


def pax_header(records: dict[bytes, bytes]) -> bytes:
    body = b""
    for key, value in records.items():
        payload = b" " + key + b"=" + value + b"\n"
        length = len(payload) + 1
        while len(str(length).encode()) + len(payload) != length:
            length += 1
        body += str(length).encode() + payload
    return tar_header(b"././@PaxHeader", len(body), b"x") + body + bytes(-len(body) % 512)


def tar_member(name: bytes, data: bytes = b"", typeflag: bytes = b"0", **fields) -> bytes:
    size = len(data) if typeflag in (b"0", b"\0") else fields.pop("size", 0)
    return tar_header(name, size, typeflag, **fields) + data + bytes(-len(data) % 512)


def tar_gz(*members: bytes, end: bool = True) -> bytes:
    raw = b"".join(members) + (bytes(1024) if end else b"")
    return gzip.compress(raw, mtime=0)


def tar_gz_of_zeros(name: bytes, size: int, chunk: int = 1 << 20) -> bytes:
    """A tar.gz holding one file of `size` zero bytes, compressed a chunk at a time."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [compressor.compress(tar_header(name, size))]
    zeros = bytes(chunk)
    left = size + (-size % 512) + 1024
    while left:
        piece = zeros if left >= chunk else zeros[:left]
        parts.append(compressor.compress(piece))
        left -= len(piece)
    parts.append(compressor.flush())
    return b"".join(parts)
