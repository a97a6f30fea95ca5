"""Where a webhook may send: the address rules of CONTRACT section 8. No network here.

A webhook makes Kiln send requests to a URL a customer chose, so without rules it is a way to
reach what only Kiln can reach (server-side request forgery): the instance metadata service,
services on the VPC's private addresses, the function's own loopback. The rules:

- `https` only; the local cloud alone (`allow_loopback`) also takes `http://127.0.0.1`,
  `http://[::1]` and `http://localhost` targets, since there the receiver is on the same machine.
- no credentials in the URL (`user:password@`), a host, a valid port, at most 2048 characters.
- every address the host resolves to is public. Refused: unspecified, loopback (unless allowed),
  private (RFC 1918, ULA fc00::/7), link-local (169.254/16, fe80::/10, which hold the metadata
  addresses 169.254.169.254 and fd00:ec2::254), shared CGNAT space 100.64/10, multicast,
  reserved, documentation and benchmarking ranges, and IPv6 forms that embed an IPv4 address
  (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96 and 64:ff9b:1::/48,
  6to4 2002::/16, Teredo 2001::/32), judged by the IPv4 address they carry.

`ipaddress`'s `is_global` alone is not enough: depending on the Python version it lets
IPv4-mapped and NAT64 forms of private and metadata addresses through, so those are unwrapped
first and every range is also named explicitly (which also gives each refusal its reason).

The same rules run twice: at registration (a VALIDATION_ERROR naming `url`) and at every
delivery against the addresses actually connected to (kiln.adapters.webhook_http), so a DNS
answer that changed since registration (rebinding) cannot reach a private address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses the host resolves to, as strings; raises OSError when it cannot.
Resolver = Callable[[str, int], Sequence[str]]

MAX_URL_LENGTH = 2048
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_METADATA = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})


class UnsafeUrl(ValueError):
    """The URL breaks a rule; the message says which, in words a user can act on."""


@dataclass(frozen=True)
class Target:
    """A URL that passed the rules, with the addresses it was checked against."""

    scheme: str  # "https", or "http" for an allowed loopback target
    host: str  # the name to send as Host and SNI (an IPv6 literal without brackets)
    port: int
    path: str  # path and query, as sent on the request line
    addresses: tuple[str, ...]  # each one checked; connect only to these


def address_refusal(address: Address, *, allow_loopback: bool = False) -> str | None:
    """Why `address` may not be a webhook target, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded, form = _embedded_ipv4(address)
        if embedded is not None:
            reason = address_refusal(embedded, allow_loopback=False)
            return f"{form} of a non-public address ({reason})" if reason else None
        if address in _NAT64_LOCAL:
            return "a local-use NAT64 address"
    if address in _METADATA:
        return "the instance metadata address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "a shared (CGNAT) address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "not a public address"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address | None, str]:
    """The IPv4 address an IPv6 form carries (mapped, compatible, NAT64, 6to4, Teredo), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped, "an IPv4-mapped form"
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF), "a NAT64 form"
    if address.sixtofour is not None:
        return address.sixtofour, "a 6to4 form"
    if address.teredo is not None:
        server, client = address.teredo
        # Either end being non-public is enough to refuse; report the client (the target).
        return (client if address_refusal(client) else server), "a Teredo form"
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # :: and ::1 are themselves
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF), "an IPv4-compatible form"
    return None, ""


def parse_target(url: str, *, allow_loopback: bool = False) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of a URL whose form is acceptable; UnsafeUrl otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"must be at most {MAX_URL_LENGTH} characters")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise UnsafeUrl("must not contain whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl("is not a valid URL (bad host or port)") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UnsafeUrl("must be an https:// URL")
    if "@" in parts.netloc:
        raise UnsafeUrl("must not contain credentials (user:password@)")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeUrl("must name a host")
    if scheme == "http" and not (allow_loopback and host in LOOPBACK_NAMES):
        reason = "must be an https:// URL"
        raise UnsafeUrl(reason + (" (http:// only for 127.0.0.1 or localhost here)" if allow_loopback else ""))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port or (443 if scheme == "https" else 80), path


def check_url(url: str, resolve: Resolver, *, allow_loopback: bool = False) -> Target:
    """The URL's target when its form and every address of its host are acceptable; UnsafeUrl
    otherwise. An IP literal is checked as it is; a name is resolved once, here."""
    scheme, host, port, path = parse_target(url, allow_loopback=allow_loopback)
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        found: Sequence[str] = [str(literal)]
    else:
        try:
            found = list(dict.fromkeys(resolve(host, port)))
        except OSError:
            raise UnsafeUrl(f"host {host!r} does not resolve") from None
        if not found:
            raise UnsafeUrl(f"host {host!r} does not resolve")
    return Target(scheme, host, port, path, check_addresses(found, host, allow_loopback=allow_loopback))


def check_addresses(found: Sequence[str], host: str, *, allow_loopback: bool = False) -> tuple[str, ...]:
    """Every address, checked: one non-public address refuses the host (a name answering both
    a public and a private address would otherwise reach the private one on some attempts)."""
    checked: list[str] = []
    for text in found:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone
        except ValueError:
            raise UnsafeUrl(f"host {host!r} resolves to something that is not an address") from None
        reason = address_refusal(address, allow_loopback=allow_loopback)
        if reason is not None:
            shown = " is" if str(address) == host else f" resolves to {address}, which is"
            raise UnsafeUrl(f"host {host!r}{shown} {reason}; webhooks are delivered to public addresses only")
        checked.append(str(address))
    return tuple(checked)
