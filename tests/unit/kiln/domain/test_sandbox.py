"""The sandbox's wire format: a tree in, compile and unittest checks out, bounded both ways."""

from __future__ import annotations

import base64
import json
import os
import zlib

import pytest

from kiln.domain import sandbox
from kiln.domain.builds import SuiteCounts, VerificationCheck
from kiln.domain.verification import SandboxRefused

TREE = {
    "app/__init__.py": b"",
    "app/calc.py": "def add(a, b):\n    return a + b  # ünïcode\n".encode(),
    "assets/logo.bin": bytes(range(256)),
    "tests/test_calc.py": b"import unittest\n",
}


def test_a_tree_round_trips_byte_for_byte():
    request = sandbox.encode_request(TREE, 90)
    assert request["format"] == sandbox.FORMAT and request["files"] == 4 and request["timeoutSeconds"] == 90
    # What crosses the Invoke API is plain JSON.
    files, timeout = sandbox.decode_request(json.loads(json.dumps(request)))
    assert files == TREE and timeout == 90.0


def test_text_compresses_well_below_the_payload_limit():
    source = "".join(f"def handler_{i}(event):\n    return {{'id': {i}, 'ok': True}}\n\n" for i in range(2000))
    tree = {f"app/module_{n}.py": source.encode() for n in range(40)}  # ~4 MB of Python
    request = sandbox.encode_request(tree, 60)
    assert len(request["tree"]) < len(json.dumps(request)) < 1_000_000


def test_a_tree_too_large_for_one_invocation_is_refused_before_anything_is_sent():
    random = {f"data/blob_{n}.bin": os.urandom(1_000_000) for n in range(5)}  # incompressible: ~6.7 MB in base64
    with pytest.raises(SandboxRefused, match=r"once compressed; the sandbox takes at most 5\.8 MB"):
        sandbox.encode_request(random, 60)
    with pytest.raises(SandboxRefused, match=r"of files; the sandbox takes at most 67\.1 MB"):
        sandbox.encode_request({"big.txt": b"x" * (sandbox.MAX_TREE_BYTES + 1)}, 60)


def _request(document: bytes, **overrides):
    return {
        "format": sandbox.FORMAT,
        "timeoutSeconds": 30,
        "files": 1,
        "tree": base64.b64encode(zlib.compress(document)).decode(),
        **overrides,
    }


@pytest.mark.parametrize(
    "event, message",
    [
        (None, "expected a request"),
        ({"format": "zip"}, "expected a request"),
        (_request(b'{"a.py": "eA=="}', timeoutSeconds=0), "timeoutSeconds"),
        (_request(b'{"a.py": "eA=="}', timeoutSeconds=True), "timeoutSeconds"),
        (_request(b'{"a.py": "eA=="}', tree="not base64!"), "not zlib-compressed JSON"),
        (_request(b'{"a.py": "eA=="}', tree=base64.b64encode(b"plain").decode()), "not zlib-compressed JSON"),
        (_request(b"[1, 2]"), "not the announced mapping"),
        (_request(b'{"a.py": "eA==", "b.py": "eA=="}'), "not the announced mapping"),
        (_request(b'{"a.py": 7}'), "content is not base64 text"),
        (_request(b'{"a.py": "%%%"}'), "content is not base64"),
    ],
)
def test_anything_else_is_a_bad_request(event, message):
    with pytest.raises(sandbox.BadRequest, match=message):
        sandbox.decode_request(event)


def test_a_compression_bomb_is_refused_without_inflating_it():
    deflater = zlib.compressobj(9)
    chunk = b"A" * 1024 * 1024
    bomb = deflater.compress(b'{"a.py": "') + b"".join(deflater.compress(chunk) for _ in range(100))
    bomb += deflater.compress(b'"}') + deflater.flush()  # 100 MB of base64 text, ~100 KB compressed
    assert len(bomb) < 1_000_000
    event = {"format": sandbox.FORMAT, "timeoutSeconds": 30, "files": 1, "tree": base64.b64encode(bomb).decode()}
    with pytest.raises(sandbox.BadRequest, match="inflates past"):
        sandbox.decode_request(event)


def test_a_report_round_trips_with_its_counts():
    checks = [
        VerificationCheck(name="compile", passed=True, output="2 Python file(s) compiled"),
        VerificationCheck(name="unittest", passed=False, output="FAILED", tests=SuiteCounts(run=3, failures=1)),
    ]
    payload = json.loads(json.dumps(sandbox.encode_report(checks)))
    assert "tests" not in payload["checks"][0]
    assert sandbox.decode_report(payload) == checks


@pytest.mark.parametrize(
    "payload, message",
    [
        (None, "unreadable"),
        ({"checks": [{"name": "unittest", "passed": "maybe"}]}, "unreadable"),
        ({"checks": [{"name": "unittest", "passed": True}]}, "not ['compile', 'unittest']"),
        (
            {
                "checks": [
                    {"name": "compile", "passed": True},
                    {"name": "unittest", "passed": True},
                    {"name": "extra", "passed": True},
                ]
            },
            "not ['compile', 'unittest']",
        ),
    ],
)
def test_an_answer_that_is_not_a_report_fails(payload, message):
    [check] = sandbox.decode_report(payload)
    assert check.name == "sandbox" and not check.passed and message in check.output
