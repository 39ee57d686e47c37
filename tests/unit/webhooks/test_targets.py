"""SSRF guard: which addresses and URLs a webhook may target (pure, no network)."""

from __future__ import annotations

import pytest

from luneo.webhooks.targets import TargetRefused, check_url, refusal, resolve_checked

REFUSED = [
    "127.0.0.1",
    "127.9.9.9",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # CGNAT
    "100.100.100.200",  # Alibaba metadata
    "169.254.169.254",  # cloud metadata (link-local)
    "0.0.0.0",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.10",  # documentation
    "198.18.0.1",  # benchmarking
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "ff02::1",
    "2001:db8::1",  # documentation
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
]
PUBLIC = ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "64:ff9b::5db8:d822"]


@pytest.mark.parametrize("address", REFUSED)
def test_internal_addresses_are_refused(address):
    assert refusal(address) is not None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address):
    assert refusal(address) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5", "192.168.1.20", "::1", "fd12::1", "100.64.1.1"])
def test_local_development_mode_admits_loopback_and_private(address):
    assert refusal(address, allow_private=True) is None


@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254", "fe80::1", "224.0.0.1", "0.0.0.0"])
def test_local_development_mode_still_refuses_metadata_link_local_multicast(address):
    assert refusal(address, allow_private=True) is not None


def test_urls():
    assert check_url("https://hooks.example.com/in?x=1", allow_http=False, allow_private=False)
    for bad in (
        "http://hooks.example.com/in",
        "ftp://hooks.example.com/",
        "https:///nohost",
        "https://u:p@hooks.example.com/",
        "https://127.0.0.1/x",
        "https://[::1]/x",
        "https://localhost/x",
        "https://api.localhost/x",
        "https://hooks.example.com:99999/x",
    ):
        with pytest.raises(TargetRefused):
            check_url(bad, allow_http=False, allow_private=False)
    assert check_url("http://127.0.0.1:9000/x", allow_http=True, allow_private=True)
    with pytest.raises(TargetRefused):
        check_url("http://169.254.169.254/", allow_http=True, allow_private=True)


def test_every_resolved_address_must_be_allowed():
    def resolver(host: str, port: int) -> list[str]:
        return {"ok.example": ["93.184.216.34"], "mixed.example": ["93.184.216.34", "10.0.0.1"]}.get(host, [])

    assert resolve_checked("ok.example", 443, resolver, allow_private=False) == "93.184.216.34"
    with pytest.raises(TargetRefused, match="private"):
        resolve_checked("mixed.example", 443, resolver, allow_private=False)
    with pytest.raises(TargetRefused, match="no address"):
        resolve_checked("nx.example", 443, resolver, allow_private=False)
    # an IP literal is checked as is, never looked up
    with pytest.raises(TargetRefused, match="loopback"):
        resolve_checked("127.0.0.1", 443, resolver, allow_private=False)
