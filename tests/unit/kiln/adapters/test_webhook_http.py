"""The webhook sender against real sockets on 127.0.0.1: it connects only to addresses it
checked, sends the name as Host and SNI, follows no redirect, keeps 1 KiB of the answer and
gives up at its deadline. Hostile targets are refused before any connection is made."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kiln.adapters.webhook_http import EXCERPT_BYTES, WebhookSender, _retry_after


class Receiver:
    """A local HTTP(S) server whose answer each test scripts; it records what it received."""

    def __init__(self, answer: Callable[[BaseHTTPRequestHandler], None], tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[dict] = []
        self.sni: list[str | None] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)}
                )
                answer(self)

            def do_GET(self) -> None:
                receiver.requests.append({"path": self.path, "method": "GET"})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            tls.sni_callback = lambda sock, name, ctx: self.sni.append(name)  # type: ignore[assignment]
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def reply(status: int, body: bytes = b"ok", headers: dict[str, str] | None = None):
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(
        answer: Callable[[BaseHTTPRequestHandler], None] | None = None, tls: ssl.SSLContext | None = None
    ) -> Receiver:
        receiver = Receiver(answer or reply(200), tls)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.close()


def only(addresses: dict[str, Sequence[str]]):
    calls: list[str] = []

    def resolve(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        if host not in addresses:
            raise OSError("no such host")
        return addresses[host]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


HEADERS = {"webhook-id": "evt_1", "webhook-timestamp": "1", "webhook-signature": "v1,abc"}


def test_a_delivery_reaches_the_receiver_with_its_body_and_headers(receivers) -> None:
    receiver = receivers(reply(204, b""))
    outcome = WebhookSender(allow_loopback=True).send(f"http://127.0.0.1:{receiver.port}/hook?x=1", b'{"a":1}', HEADERS)
    assert outcome.succeeded and outcome.status_code == 204 and outcome.error is None
    [request] = receiver.requests
    assert request["path"] == "/hook?x=1" and request["body"] == b'{"a":1}'
    assert request["headers"]["webhook-signature"] == "v1,abc"
    assert request["headers"]["Content-Type"] == "application/json"


def test_loopback_is_refused_unless_the_local_cloud_allows_it_and_nothing_connects(receivers) -> None:
    receiver = receivers()
    outcome = WebhookSender().send(f"http://127.0.0.1:{receiver.port}/", b"{}", HEADERS)
    assert not outcome.succeeded and outcome.status_code is None and "refused" in (outcome.error or "")
    outcome = WebhookSender().send(f"https://127.0.0.1:{receiver.port}/", b"{}", HEADERS)
    assert "loopback" in (outcome.error or "")
    assert receiver.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]/",
        "https://[64:ff9b::a9fe:a9fe]/",
        "https://[::ffff:169.254.169.254]/",
        "https://100.64.0.1/",
    ],
)
def test_hostile_addresses_are_refused_without_a_connection(url: str) -> None:
    outcome = WebhookSender(allow_loopback=True).send(url, b"{}", HEADERS)
    assert outcome.status_code is None and (outcome.error or "").startswith("refused:")


def test_a_name_resolving_to_loopback_is_refused_at_delivery(receivers) -> None:
    receiver = receivers()
    resolve = only({"rebound.example.com": ["127.0.0.1"]})
    outcome = WebhookSender(resolve=resolve).send(f"https://rebound.example.com:{receiver.port}/", b"{}", HEADERS)
    assert "resolves to 127.0.0.1" in (outcome.error or "") and receiver.requests == []


def test_the_name_is_resolved_once_and_the_checked_address_is_the_one_connected_to(receivers) -> None:
    receiver = receivers()
    answers = iter([["127.0.0.1"], ["10.0.0.9"]])  # a rebinding resolver: the second answer is private
    calls: list[str] = []

    def rebinding(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        return next(answers)

    sender = WebhookSender(allow_loopback=True, resolve=rebinding)
    outcome = sender.send(f"http://localhost:{receiver.port}/hook", b"{}", HEADERS)
    assert outcome.succeeded and calls == ["localhost"]
    assert receiver.requests[0]["headers"]["Host"] == f"localhost:{receiver.port}"


def test_a_redirect_to_the_metadata_address_is_a_failed_attempt_and_not_followed(receivers) -> None:
    receiver = receivers(reply(302, b"moved", {"Location": "http://169.254.169.254/latest/meta-data/"}))
    outcome = WebhookSender(allow_loopback=True).send(f"http://127.0.0.1:{receiver.port}/", b"{}", HEADERS)
    assert outcome.status_code == 302 and not outcome.succeeded
    assert "redirect not followed" in (outcome.error or "") and "169.254.169.254" in (outcome.error or "")
    assert len(receiver.requests) == 1  # nothing else was requested


def test_only_the_first_kib_of_the_answer_is_kept(receivers) -> None:
    receiver = receivers(reply(500, b"e" * 100_000))
    outcome = WebhookSender(allow_loopback=True).send(f"http://127.0.0.1:{receiver.port}/", b"{}", HEADERS)
    assert outcome.status_code == 500 and not outcome.succeeded
    assert outcome.response_excerpt == "e" * EXCERPT_BYTES


def test_retry_after_is_read_in_seconds_or_as_a_date(receivers) -> None:
    receiver = receivers(reply(503, b"busy", {"Retry-After": "120"}))
    outcome = WebhookSender(allow_loopback=True).send(f"http://127.0.0.1:{receiver.port}/", b"{}", HEADERS)
    assert outcome.retry_after_seconds == 120.0
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=300)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 290 <= (_retry_after(later) or 0) <= 301
    assert _retry_after("soon") is None and _retry_after(None) is None


def test_a_receiver_dripping_its_answer_is_cut_off_at_the_deadline(receivers) -> None:
    def drip(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(50):
            time.sleep(0.1)
            try:
                handler.wfile.write(b"X-Slow: 1\r\n")
                handler.wfile.flush()
            except OSError:
                return

    receiver = receivers(drip)
    started = time.monotonic()
    outcome = WebhookSender(allow_loopback=True, timeout=0.6).send(f"http://127.0.0.1:{receiver.port}/", b"{}", HEADERS)
    assert time.monotonic() - started < 2.0
    assert outcome.status_code is None and "timed out" in (outcome.error or "")


def test_a_closed_port_is_a_failed_attempt_not_an_exception(free_tcp_port: int) -> None:
    outcome = WebhookSender(allow_loopback=True).send(f"http://127.0.0.1:{free_tcp_port}/", b"{}", HEADERS)
    assert outcome.status_code is None and "could not connect" in (outcome.error or "")


# --- TLS: the name is the SNI and the certificate's subject; the socket goes to the checked IP ----


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_https_sends_the_name_as_sni_and_verifies_the_certificate_against_it(receivers, tmp_path) -> None:
    cert, key = _certificate(tmp_path, "hooks.test")
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    receiver = receivers(reply(200, b"fine"), tls=server)
    trust = ssl.create_default_context(cafile=str(cert))
    sender = WebhookSender(allow_loopback=True, resolve=only({"hooks.test": ["127.0.0.1"]}), tls=trust)
    outcome = sender.send(f"https://hooks.test:{receiver.port}/in", b"{}", HEADERS)
    assert outcome.succeeded and outcome.response_excerpt == "fine"
    assert receiver.sni == ["hooks.test"]
    assert receiver.requests[0]["headers"]["Host"] == f"hooks.test:{receiver.port}"
    # Another name resolving to the same address fails the certificate check: nothing is sent.
    other = WebhookSender(allow_loopback=True, resolve=only({"other.test": ["127.0.0.1"]}), tls=trust)
    outcome = other.send(f"https://other.test:{receiver.port}/in", b"{}", HEADERS)
    assert outcome.status_code is None and "TLS" in (outcome.error or "")
    assert len(receiver.requests) == 1
