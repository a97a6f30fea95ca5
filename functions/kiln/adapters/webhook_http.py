"""The webhook sender: one POST to a customer's URL that cannot be turned against Kiln.

kiln.domain.webhooks.Sender over the standard library's http.client, with no proxy and no
redirects. Each attempt:

1. resolves the host once and checks every address with kiln.domain.url_safety (a single
   non-public address refuses the attempt);
2. connects to one of those checked addresses itself, never to the name again, so a DNS answer
   that changes between the check and the connection (rebinding) cannot swap in a private
   address; the request still carries the name as Host and, over TLS, as SNI, and the
   certificate is verified against the name;
3. does not follow redirects: a 3xx is a failed attempt (following one would reach a URL that
   was never checked, such as http://169.254.169.254/);
4. reads at most the first 1 KiB of the answer, then closes;
5. gives up after 15 s in all: a timer shuts the socket at the deadline, so a receiver dripping
   its answer a byte at a time cannot hold the worker longer.

Every failure is an AttemptOutcome with `error` set, never an exception: the delivery engine
decides what a failure means (kiln.domain.deliveries).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from email.utils import parsedate_to_datetime

from kiln.domain.url_safety import Resolver, Target, UnsafeUrl, check_url
from kiln.domain.webhooks import AttemptOutcome

TOTAL_TIMEOUT_SECONDS = 15.0
EXCERPT_BYTES = 1024
USER_AGENT = "Kiln-Webhooks/1.0"


def resolve(host: str, port: int) -> Sequence[str]:
    """Every address `host` resolves to (IPv4 and IPv6), in the resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to `address` that speaks to `host`: Host header, SNI and the
    certificate check use the name; the socket goes to the checked address only."""

    def __init__(self, target: Target, address: str, timeout: float, context: ssl.SSLContext | None) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.default_port = 443 if target.scheme == "https" else 80  # Host: name without :443
        self._address = address
        self._context = context
        self.on_socket: Callable[[socket.socket], None] = lambda sock: None

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.on_socket(sock)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._context is not None:
            sock = self._context.wrap_socket(sock, server_hostname=self.host)
        self.sock = sock


class WebhookSender:
    """kiln.domain.webhooks.Sender; `resolve` and `tls` are injectable for tests."""

    def __init__(
        self,
        *,
        allow_loopback: bool = False,
        resolve: Resolver = resolve,
        timeout: float = TOTAL_TIMEOUT_SECONDS,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._allow_loopback = allow_loopback
        self._resolve = resolve
        self._timeout = timeout
        self._tls = tls

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> AttemptOutcome:
        started = time.monotonic()

        def elapsed_ms() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            target = check_url(url, self._resolve, allow_loopback=self._allow_loopback)
        except UnsafeUrl as refusal:
            return AttemptOutcome(None, elapsed_ms(), f"refused: {refusal}")
        deadline = started + self._timeout
        last_error = "no address to connect to"
        for address in target.addresses:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return AttemptOutcome(None, elapsed_ms(), f"timed out after {self._timeout:g} s")
            try:
                return self._attempt(target, address, body, headers, deadline, elapsed_ms)
            except _Unreachable as error:  # connecting failed: the next checked address may answer
                last_error = str(error)
        return AttemptOutcome(None, elapsed_ms(), last_error)

    def _attempt(
        self,
        target: Target,
        address: str,
        body: bytes,
        headers: dict[str, str],
        deadline: float,
        elapsed_ms: Callable[[], int],
    ) -> AttemptOutcome:
        context = None
        if target.scheme == "https":
            context = self._tls or ssl.create_default_context()
        connection = _PinnedConnection(target, address, deadline - time.monotonic(), context)
        timer = _Deadline(deadline)
        connection.on_socket = timer.watch
        try:
            try:
                connection.connect()
            except (TimeoutError, OSError) as error:
                if timer.fired or isinstance(error, TimeoutError):
                    raise _Unreachable(f"timed out connecting to {address}") from None
                if isinstance(error, ssl.SSLError):
                    return AttemptOutcome(None, elapsed_ms(), f"TLS failed: {error.reason or error}")
                raise _Unreachable(f"could not connect to {address}: {error.strerror or error}") from None
            connection.request(
                "POST",
                target.path,
                body=body,
                headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
            )
            response = connection.getresponse()
            excerpt = response.read(EXCERPT_BYTES).decode("utf-8", errors="replace")
            if timer.fired:  # the shutdown reads as an end of stream: whatever arrived is cut short
                return AttemptOutcome(None, elapsed_ms(), f"timed out after {self._timeout:g} s")
            status = response.status
            retry_after = _retry_after(response.getheader("Retry-After"))
            problem = None
            if 300 <= status < 400:
                location = (response.getheader("Location") or "")[:200]
                problem = f"redirect not followed ({status} to {location or 'nowhere'})"
            return AttemptOutcome(status, elapsed_ms(), problem, retry_after, excerpt)
        except (TimeoutError, OSError, http.client.HTTPException) as failure:
            if timer.fired or isinstance(failure, TimeoutError):
                return AttemptOutcome(None, elapsed_ms(), f"timed out after {self._timeout:g} s")
            return AttemptOutcome(None, elapsed_ms(), f"{type(failure).__name__}: {failure}"[:300])
        finally:
            timer.cancel()
            connection.close()


class _Unreachable(Exception):
    """Connecting to one address failed before anything was sent."""


class _Deadline:
    """Shuts a socket down when the attempt's time is up, waking any blocked read or write."""

    def __init__(self, deadline: float) -> None:
        self._deadline = deadline
        self._timer: threading.Timer | None = None
        self.fired = False

    def watch(self, sock: socket.socket) -> None:
        def fire() -> None:
            self.fired = True
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed

        self._timer = threading.Timer(max(0.0, self._deadline - time.monotonic()), fire)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds: a number of seconds or an HTTP-date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
