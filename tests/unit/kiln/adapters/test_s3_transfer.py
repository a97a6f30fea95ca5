"""Streamed multipart writes, presigned URLs and bounded reads against moto's S3."""

from __future__ import annotations

import base64
import gc
import hashlib
import io
import json
import os
import tarfile
import tracemalloc
import zipfile
import zlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests

from kiln.adapters import s3_transfer
from kiln.adapters.aws import client
from kiln.adapters.s3_transfer import MultipartSink, ObjectNotFound, ObjectTooLarge
from tests.unit.conftest import BUCKET

pytestmark = pytest.mark.usefixtures("cloud")

MIB = 1024 * 1024


@pytest.fixture
def s3_calls() -> list[tuple[str, dict]]:
    """(operation, parameters) of every S3 call the adapter's client makes."""
    calls: list[tuple[str, dict]] = []
    client("s3").meta.events.register(
        "provide-client-params.s3.*",
        lambda params, model, **_: calls.append((model.name, {k: v for k, v in params.items() if k != "Body"})),
    )
    return calls


def fail_on(operation: str, after: int = 0) -> None:
    """Make the adapter's client fail `operation` once it has let `after` calls through."""
    seen = {"count": 0}

    def hook(**_):
        seen["count"] += 1
        if seen["count"] > after:
            raise ConnectionError(f"{operation} failed")

    client("s3").meta.events.register(f"before-call.s3.{operation}", hook)


def stored(key: str) -> bytes:
    return boto3.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()


def open_uploads() -> list[dict]:
    return boto3.client("s3").list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])


def object_exists(key: str) -> bool:
    return s3_transfer.head(key) is not None


# --------------------------------------------------------------------------- MultipartSink


def test_a_20_mib_stream_is_stored_in_5_mib_parts(s3_calls):
    data = os.urandom(20 * MIB)
    with MultipartSink(
        "exports/big.bin",
        part_size=5 * MIB,
        content_type="application/zip",
        content_disposition='attachment; filename="big.zip"',
        metadata={"kind": "export"},
    ) as sink:
        for start in range(0, len(data), 700 * 1024):  # writes that straddle part boundaries
            sink.write(data[start : start + 700 * 1024])
        assert sink.tell() == len(data)

    parts = [params for name, params in s3_calls if name == "UploadPart"]
    assert [p["PartNumber"] for p in parts] == [1, 2, 3, 4]
    assert [name for name, _ in s3_calls] == [
        "CreateMultipartUpload",
        "UploadPart",
        "UploadPart",
        "UploadPart",
        "UploadPart",
        "CompleteMultipartUpload",
    ]
    crcs = [
        base64.b64encode(zlib.crc32(data[i : i + 5 * MIB]).to_bytes(4, "big")).decode()
        for i in range(0, len(data), 5 * MIB)
    ]
    assert [p["ChecksumCRC32"] for p in parts] == crcs  # sent as a header: no aws-chunked re-encoding
    completed = dict(s3_calls)["CompleteMultipartUpload"]["MultipartUpload"]["Parts"]
    assert [(p["PartNumber"], p["ChecksumCRC32"]) for p in completed] == list(zip([1, 2, 3, 4], crcs, strict=True))
    create = dict(s3_calls)["CreateMultipartUpload"]
    assert create["ChecksumAlgorithm"] == "CRC32"
    assert create["ContentType"] == "application/zip"
    assert create["ContentDisposition"] == 'attachment; filename="big.zip"'
    assert create["Metadata"] == {"kind": "export"}

    assert stored("exports/big.bin") == data
    assert sink.size == len(data)
    assert sink.sha256 == hashlib.sha256(data).hexdigest()
    assert sink.etag.strip('"').endswith("-4")
    info = s3_transfer.head("exports/big.bin")
    assert info["size"] == len(data)
    assert info["contentType"] == "application/zip"
    assert info["metadata"] == {"kind": "export"}
    assert open_uploads() == []


def test_a_stream_that_is_not_a_multiple_of_the_part_size_ends_with_a_short_part(s3_calls):
    data = os.urandom(12 * MIB + 123)
    with MultipartSink("exports/odd.bin", part_size=5 * MIB) as sink:
        sink.write(data)  # one write larger than two parts
    assert [name for name, _ in s3_calls].count("UploadPart") == 3
    assert stored("exports/odd.bin") == data
    assert sink.sha256 == hashlib.sha256(data).hexdigest()


def test_a_small_stream_is_stored_with_one_put(s3_calls):
    with MultipartSink("tmp/small.json", content_type="application/json", metadata={"sha256": "abc"}) as sink:
        sink.write(b'{"a": ')
        sink.write(bytearray(b"1}"))
    assert [name for name, _ in s3_calls] == ["PutObject"]
    assert stored("tmp/small.json") == b'{"a": 1}'
    assert sink.size == 8
    assert sink.sha256 == hashlib.sha256(b'{"a": 1}').hexdigest()
    assert s3_transfer.head("tmp/small.json")["contentType"] == "application/json"
    assert s3_transfer.head("tmp/small.json")["metadata"] == {"sha256": "abc"}
    assert open_uploads() == []


def test_an_empty_stream_is_an_empty_object():
    with MultipartSink("tmp/empty") as sink:
        pass
    assert stored("tmp/empty") == b""
    assert sink.size == 0
    assert sink.sha256 == hashlib.sha256(b"").hexdigest()


def test_exactly_one_part_is_a_one_part_multipart_upload(s3_calls):
    data = os.urandom(5 * MIB)
    with MultipartSink("tmp/one-part", part_size=5 * MIB) as sink:
        sink.write(data)
    assert [name for name, _ in s3_calls] == ["CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"]
    assert stored("tmp/one-part") == data


def test_an_error_in_the_block_aborts_the_upload_and_leaves_nothing():
    with pytest.raises(RuntimeError, match="archive failed"):
        with MultipartSink("exports/broken.zip", part_size=5 * MIB) as sink:
            sink.write(os.urandom(11 * MIB))  # two parts uploaded, one buffered
            assert sink.parts_uploaded == 2
            raise RuntimeError("archive failed")
    assert open_uploads() == []
    assert not object_exists("exports/broken.zip")
    assert sink.closed
    with pytest.raises(ValueError):
        sink.write(b"more")


def test_a_failing_part_aborts_the_upload():
    fail_on("UploadPart", after=1)
    with pytest.raises(ConnectionError):
        with MultipartSink("exports/part-fails.bin", part_size=5 * MIB) as sink:
            sink.write(os.urandom(11 * MIB))
    assert open_uploads() == []
    assert not object_exists("exports/part-fails.bin")


def test_a_failing_completion_aborts_the_upload():
    fail_on("CompleteMultipartUpload")
    with pytest.raises(ConnectionError):
        with MultipartSink("exports/complete-fails.bin", part_size=5 * MIB) as sink:
            sink.write(os.urandom(6 * MIB))
    assert open_uploads() == []
    assert not object_exists("exports/complete-fails.bin")
    assert sink.sha256 is None and sink.size is None


def test_abort_without_a_with_block_and_after_completion():
    sink = MultipartSink("exports/manual.bin", part_size=5 * MIB)
    sink.write(os.urandom(5 * MIB))
    assert len(open_uploads()) == 1
    sink.abort()
    sink.abort()  # twice is fine
    assert open_uploads() == []

    done = MultipartSink("exports/done.bin")
    done.write(b"kept")
    done.close()
    done.abort()  # a completed object stays
    assert stored("exports/done.bin") == b"kept"


def test_part_size_must_respect_s3_limits():
    with pytest.raises(ValueError):
        MultipartSink("tmp/x", part_size=5 * MIB - 1)


def test_memory_stays_bounded_by_the_part_size():
    part_size = 5 * MIB

    def traced_peak(action) -> int:
        gc.collect()
        tracemalloc.start()
        try:
            action()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    def write_stream(total_mib: int) -> None:
        chunk = os.urandom(MIB)
        sink = MultipartSink(f"tmp/memory-{total_mib}", part_size=part_size)
        for written in range(1, total_mib + 1):
            sink.write(chunk)
            if written % 5 == 0:
                # moto's in-process request objects sit in reference cycles until the cyclic
                # collector runs; collecting after each part keeps the measure about the sink.
                gc.collect()
        sink.abort()  # measured: the writes; completing would only time moto joining the parts

    # What moto itself needs to take one part from a body that already exists.
    s3, body = client("s3"), os.urandom(part_size)
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key="tmp/calibration")["UploadId"]
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    one_request = traced_peak(
        lambda: s3.upload_part(
            Bucket=BUCKET,
            Key="tmp/calibration",
            UploadId=upload_id,
            PartNumber=1,
            Body=body,  # noqa: F821 - runs before the del
            ChecksumCRC32=crc,
        )
    )
    s3.abort_multipart_upload(Bucket=BUCKET, Key="tmp/calibration", UploadId=upload_id)
    del body

    small = traced_peak(lambda: write_stream(10))
    large = traced_peak(lambda: write_stream(40))
    assert large < small + 2 * MIB  # four times the data, no more memory
    # Beyond what the request itself costs: one part, plus the 1 MiB chunk being written.
    assert large < one_request + part_size + 3 * MIB
    assert large < 40 * MIB  # most of it moto's copies; over HTTP the sink peaks near two parts


def test_zipfile_writes_a_valid_archive_through_the_sink():
    payload = os.urandom(3 * MIB)
    with MultipartSink("exports/a.zip", content_type="application/zip", part_size=5 * MIB) as sink:
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.md", b"# hello\n" * 1000)
            with archive.open("data/random.bin", "w") as entry:
                for start in range(0, len(payload), 256 * 1024):
                    entry.write(payload[start : start + 256 * 1024])
            archive.writestr("data/more.bin", os.urandom(3 * MIB))
    body = stored("exports/a.zip")
    assert sink.size == len(body) > 5 * MIB  # large enough to have gone multipart
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
        assert archive.read("data/random.bin") == payload
        assert archive.read("README.md") == b"# hello\n" * 1000


@pytest.mark.parametrize("mode", ["w|gz", "w:gz", "w"])
def test_tarfile_writes_a_valid_archive_through_the_sink(mode):
    with MultipartSink("exports/a.tar") as sink:
        with tarfile.open(fileobj=sink, mode=mode) as archive:
            info = tarfile.TarInfo("src/app.py")
            info.size = 12
            archive.addfile(info, io.BytesIO(b"print('hi')\n"))
    with tarfile.open(fileobj=io.BytesIO(stored("exports/a.tar"))) as archive:
        assert archive.extractfile("src/app.py").read() == b"print('hi')\n"


# --------------------------------------------------------------------------- presigned download


def test_presigned_download_sets_the_disposition_and_a_short_expiry():
    boto3.client("s3").put_object(Bucket=BUCKET, Key="exports/p.zip", Body=b"zip bytes")
    before = datetime.now(UTC)
    url, expires_at = s3_transfer.presigned_download("exports/p.zip", "project.zip", expires_seconds=3600)

    query = parse_qs(urlsplit(url).query)
    assert query["response-content-disposition"] == ['attachment; filename="project.zip"']
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]  # SigV4, not the legacy SigV2 default
    assert int(query["X-Amz-Expires"][0]) == 900  # clamped
    assert expires_at.tzinfo is not None
    assert before - timedelta(seconds=1) <= expires_at - timedelta(seconds=900) <= datetime.now(UTC)

    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == b"zip bytes"
    assert response.headers["Content-Disposition"] == 'attachment; filename="project.zip"'


def test_presigned_download_keeps_a_shorter_expiry():
    url, expires_at = s3_transfer.presigned_download("exports/p.zip", "p.zip", expires_seconds=60)
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["60"]
    assert expires_at <= datetime.now(UTC) + timedelta(seconds=60)


@pytest.mark.parametrize(
    "filename, expected",
    [
        ("report.zip", 'attachment; filename="report.zip"'),
        (
            "Résumé final.zip",
            "attachment; filename=\"Resume final.zip\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20final.zip",
        ),
        ('../../etc/"evil";\r\nX: y.zip', 'attachment; filename="_evil_X_ y.zip"'),
        ("..\\..\\.profile", 'attachment; filename="profile"'),
        ("项目.zip", "attachment; filename=\"_.zip\"; filename*=UTF-8''%E9%A1%B9%E7%9B%AE.zip"),
        ("", 'attachment; filename="download"'),
    ],
)
def test_content_disposition_is_ascii_safe_with_an_rfc_6266_utf8_name(filename, expected):
    header = s3_transfer.content_disposition(filename)
    assert header == expected
    header.encode("ascii")


# --------------------------------------------------------------------------- presigned upload


def test_presigned_upload_pins_size_type_and_key_in_the_policy():
    before = datetime.now(UTC)
    upload = s3_transfer.presigned_upload("uploads/ws/spec.zip", "application/zip", 1234, expires_seconds=7200)
    assert upload["method"] == "POST"
    assert set(upload) == {"url", "method", "fields", "expiresAt"}
    fields = upload["fields"]
    assert fields["key"] == "uploads/ws/spec.zip"
    assert fields["Content-Type"] == "application/zip"
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"

    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", 1234, 1234] in policy["conditions"]
    assert {"Content-Type": "application/zip"} in policy["conditions"]
    assert {"key": "uploads/ws/spec.zip"} in policy["conditions"]
    assert {"bucket": BUCKET} in policy["conditions"]
    expiration = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert expiration <= datetime.now(UTC) + timedelta(seconds=901)
    assert before + timedelta(seconds=899) <= upload["expiresAt"] + timedelta(seconds=1)
    assert upload["expiresAt"] <= expiration


def test_a_post_of_the_declared_size_is_stored():
    body = os.urandom(1234)
    upload = s3_transfer.presigned_upload("uploads/ws/spec.zip", "application/zip", len(body))
    response = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("spec.zip", body, "application/zip")}, timeout=10
    )
    assert response.status_code == 204
    assert stored("uploads/ws/spec.zip") == body
    info = s3_transfer.head("uploads/ws/spec.zip")
    assert info["size"] == 1234
    assert info["contentType"] == "application/zip"


def test_moto_does_not_enforce_the_post_policy_so_head_is_the_check():
    upload = s3_transfer.presigned_upload("uploads/ws/declared.zip", "application/zip", 10)
    response = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("x.zip", b"much more than ten bytes")}, timeout=10
    )
    # S3 answers 400 EntityTooLarge here; moto accepts the body. Whatever the store did,
    # head() reports the true size, which the workflow compares with the declared one.
    info = s3_transfer.head("uploads/ws/declared.zip")
    if response.status_code < 300:
        assert info["size"] != 10
    else:
        assert info is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"size_bytes": -1},
        {"size_bytes": 6 * 1024 * MIB},
        {"size_bytes": True},
        {"content_type": "text/plain\r\nX: y"},
    ],
)
def test_presigned_upload_rejects_bad_arguments(kwargs):
    arguments = {"key": "uploads/x", "content_type": "application/zip", "size_bytes": 10} | kwargs
    with pytest.raises(ValueError):
        s3_transfer.presigned_upload(**arguments)


def test_presigned_offers_both_with_rfc_3339_times():
    presigner = s3_transfer.Presigned()
    url, expires_at = presigner.download("exports/p.zip", "p.zip", 900)
    assert url.startswith("https://") and expires_at.endswith("Z")
    upload = presigner.upload("uploads/ws/u", "application/zip", 5, 900)
    assert upload["method"] == "POST" and upload["expiresAt"].endswith("Z")
    json.dumps(upload)  # ready for a response body


# --------------------------------------------------------------------------- head, download_to, deletes


def test_head_of_a_missing_object_is_none():
    assert s3_transfer.head("nothing/here") is None


def test_download_to_copies_an_object_within_the_limit(tmp_path):
    data = os.urandom(3 * MIB + 7)
    boto3.client("s3").put_object(Bucket=BUCKET, Key="uploads/in.bin", Body=data)
    target = tmp_path / "in.bin"
    with target.open("wb") as handle:
        assert s3_transfer.download_to("uploads/in.bin", handle, max_bytes=len(data)) == len(data)
    assert target.read_bytes() == data


def test_download_to_refuses_an_object_over_the_limit(tmp_path):
    boto3.client("s3").put_object(Bucket=BUCKET, Key="uploads/big.bin", Body=os.urandom(2 * MIB))
    with (tmp_path / "big.bin").open("wb") as handle:
        with pytest.raises(ObjectTooLarge) as raised:
            s3_transfer.download_to("uploads/big.bin", handle, max_bytes=MIB)
        assert handle.tell() == 0  # refused before reading, from the announced length
    assert raised.value.size == 2 * MIB and raised.value.max_bytes == MIB


def test_download_to_counts_bytes_when_the_length_is_not_announced(tmp_path):
    boto3.client("s3").put_object(Bucket=BUCKET, Key="uploads/big.bin", Body=os.urandom(3 * MIB))
    client("s3").meta.events.register("after-call.s3.GetObject", lambda parsed, **_: parsed.pop("ContentLength", None))
    with (tmp_path / "big.bin").open("wb") as handle, pytest.raises(ObjectTooLarge):
        s3_transfer.download_to("uploads/big.bin", handle, max_bytes=MIB + 1)
    assert (tmp_path / "big.bin").stat().st_size <= MIB + 1


def test_download_to_a_missing_object(tmp_path):
    with pytest.raises(ObjectNotFound):
        s3_transfer.download_to("uploads/none", io.BytesIO(), max_bytes=10)


def test_delete_and_delete_prefix(s3_calls):
    s3 = boto3.client("s3")
    for index in range(1005):
        s3.put_object(Bucket=BUCKET, Key=f"tmp/run-1/{index:04d}", Body=b"x")
    s3.put_object(Bucket=BUCKET, Key="tmp/run-10/keep", Body=b"x")
    s3.put_object(Bucket=BUCKET, Key="tmp/single", Body=b"x")

    assert s3_transfer.delete_prefix("tmp/run-1/") == 1005
    assert [name for name, _ in s3_calls].count("DeleteObjects") == 2  # at most 1000 keys per call
    remaining = s3.list_objects_v2(Bucket=BUCKET, Prefix="tmp/")["Contents"]
    assert [item["Key"] for item in remaining] == ["tmp/run-10/keep", "tmp/single"]
    assert s3_transfer.delete_prefix("tmp/run-1/") == 0

    s3_transfer.delete("tmp/single")
    assert s3_transfer.head("tmp/single") is None


@pytest.mark.parametrize("prefix", ["", "/", "//"])
def test_delete_prefix_refuses_an_empty_prefix(prefix):
    with pytest.raises(ValueError):
        s3_transfer.delete_prefix(prefix)
