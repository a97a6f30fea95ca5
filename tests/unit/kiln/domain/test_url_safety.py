"""The webhook address rules (kiln.domain.url_safety): hostile URLs and addresses are refused
with a reason, public ones pass, and a name is judged by every address it resolves to."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import pytest

from kiln.domain.url_safety import UnsafeUrl, address_refusal, check_url


def resolver(table: dict[str, Sequence[str]]):
    calls: list[str] = []

    def resolve(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        if host not in table:
            raise OSError("no such host")
        return table[host]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


PUBLIC = resolver({"hooks.example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]})


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.5", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.10.10", "link-local"),
        ("fe80::1", "link-local"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.64.0.1", "CGNAT"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", ""),
        ("192.0.2.10", ""),  # documentation
        ("::ffff:169.254.169.254", "IPv4-mapped"),
        ("::ffff:10.0.0.1", "IPv4-mapped"),
        ("::ffff:127.0.0.1", "IPv4-mapped"),
        ("64:ff9b::a9fe:a9fe", "NAT64"),  # 169.254.169.254 through NAT64
        ("64:ff9b::a00:1", "NAT64"),  # 10.0.0.1
        ("64:ff9b:1::a00:1", "NAT64"),
        ("2002:a00:1::1", "6to4"),  # 10.0.0.1
        ("2002:a9fe:a9fe::1", "6to4"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
        ("::a00:1", "IPv4-compatible"),
    ],
)
def test_non_public_addresses_are_refused_with_a_reason(address: str, reason: str) -> None:
    refusal = address_refusal(ipaddress.ip_address(address))
    assert refusal is not None
    assert reason in refusal


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808"])
def test_public_addresses_pass(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is None


def test_loopback_is_allowed_only_when_asked_and_never_in_a_disguise() -> None:
    assert address_refusal(ipaddress.ip_address("127.0.0.1"), allow_loopback=True) is None
    assert address_refusal(ipaddress.ip_address("::1"), allow_loopback=True) is None
    assert address_refusal(ipaddress.ip_address("::ffff:127.0.0.1"), allow_loopback=True) is not None
    assert address_refusal(ipaddress.ip_address("10.0.0.1"), allow_loopback=True) is not None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://hooks.example.com/x", "https"),
        ("ftp://hooks.example.com/x", "https"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("https://user@hooks.example.com/x", "credentials"),
        ("https:///nohost", "host"),
        ("https://hooks.example.com:99999/", "port"),
        ("https://hooks.example.com/a b", "whitespace"),
        ("https://hooks.example.com/" + "a" * 2100, "2048"),
        ("https://127.0.0.1/", "loopback"),
        ("https://10.1.2.3:8443/hook", "private"),
        ("https://169.254.169.254/latest/meta-data/", "metadata"),
        ("https://[fd00:ec2::254]/", "metadata"),
        ("https://[::ffff:a9fe:a9fe]/", "IPv4-mapped"),
        ("https://[64:ff9b::a9fe:a9fe]/", "NAT64"),
        ("https://nowhere.invalid/", "does not resolve"),
    ],
)
def test_hostile_urls_are_refused(url: str, words: str) -> None:
    with pytest.raises(UnsafeUrl, match=words):
        check_url(url, PUBLIC)


def test_a_name_resolving_to_loopback_is_refused() -> None:
    resolve = resolver({"innocent.example.com": ["127.0.0.1"]})
    with pytest.raises(UnsafeUrl, match=r"resolves to 127\.0\.0\.1, which is a loopback address"):
        check_url("https://innocent.example.com/hook", resolve)


def test_one_private_address_among_public_ones_refuses_the_name() -> None:
    resolve = resolver({"mixed.example.com": ["93.184.216.34", "10.0.0.7"]})
    with pytest.raises(UnsafeUrl, match=r"10\.0\.0\.7"):
        check_url("https://mixed.example.com/", resolve)


def test_a_public_url_passes_with_every_address_checked_and_the_name_kept() -> None:
    target = check_url("https://hooks.example.com/kiln?x=1", PUBLIC)
    assert (target.scheme, target.host, target.port, target.path) == ("https", "hooks.example.com", 443, "/kiln?x=1")
    assert target.addresses == ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946")


def test_the_local_cloud_takes_http_on_loopback_only() -> None:
    resolve = resolver({"localhost": ["127.0.0.1", "::1"]})
    assert check_url("http://127.0.0.1:8080/hook", resolve, allow_loopback=True).addresses == ("127.0.0.1",)
    assert check_url("http://localhost:8080/", resolve, allow_loopback=True).port == 8080
    with pytest.raises(UnsafeUrl, match="https"):
        check_url("http://hooks.example.com/", PUBLIC, allow_loopback=True)
    with pytest.raises(UnsafeUrl, match="https"):
        check_url("http://127.0.0.1:8080/hook", resolve)  # not allowed outside the local cloud
    with pytest.raises(UnsafeUrl, match="private"):
        check_url("http://localhost/", resolver({"localhost": ["10.0.0.1"]}), allow_loopback=True)
