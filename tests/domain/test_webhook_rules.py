"""Webhook rules: signature vector, retry schedule and target policy."""

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest

from lockhub.domain.webhooks import (
    address_refusal,
    next_attempt_delay,
    signed_headers,
    target_refusal,
)

VECTOR_BODY = (
    '{"event_id":"9a1c3f0e-0000-4000-8000-000000000001","event_type":"lock.unlocked",'
    '"workspace_id":"5b9e8c1a-0000-4000-8000-00000000000a",'
    '"device_id":"0d7c4b2e-0000-4000-8000-0000000000d1",'
    '"connected_account_id":"c2f1e0d9-0000-4000-8000-0000000000ca","method":"remote",'
    '"action_attempt_id":"a1b2c3d4-0000-4000-8000-0000000000aa",'
    '"created_at":"2026-01-01T00:00:00.000Z","occurred_at":"2026-01-01T00:00:00.000Z"}')


def test_signature_matches_the_documented_test_vector_in_both_header_families() -> None:
    headers = signed_headers("whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
                             "msg_lockhub_0001", datetime.fromtimestamp(1767225600, UTC),
                             VECTOR_BODY)
    expected = "v1,JSrOH8vC+O1cWamlNum2hu5lc50JPIG0Xf+epjM1Gi8="
    assert headers["svix-signature"] == headers["webhook-signature"] == expected
    assert headers["svix-timestamp"] == headers["webhook-timestamp"] == "1767225600"


def test_retry_schedule_is_svix_and_ends_after_eight_retries() -> None:
    delays = [next_attempt_delay(n) for n in range(1, 10)]
    assert delays[:8] == [timedelta(0), timedelta(seconds=5), timedelta(minutes=5),
                          timedelta(minutes=30), timedelta(hours=2), timedelta(hours=5),
                          timedelta(hours=10), timedelta(hours=10)]
    assert delays[8] is None


def test_private_addresses_are_refused_unless_allowed() -> None:
    loopback = [ipaddress.ip_address("127.0.0.1")]
    public = [ipaddress.ip_address("93.184.216.34")]
    assert target_refusal("localhost", loopback, allow="", deny="", private_allowed=False)
    assert target_refusal("localhost", loopback, allow="", deny="", private_allowed=True) is None
    assert target_refusal("localhost", loopback, allow="127.0.0.0/8", deny="",
                          private_allowed=False) is None
    assert target_refusal("example.com", public, allow="", deny="", private_allowed=False) is None
    assert target_refusal("example.com", public, allow="", deny="example.com",
                          private_allowed=True)


REFUSED_SPELLINGS = [
    # IPv4 and its non-public networks
    ("127.0.0.1", "loopback"), ("0.0.0.0", "unspecified"), ("10.1.2.3", "private"),
    ("100.64.0.1", "private"), ("169.254.169.254", "link-local"), ("172.16.0.1", "private"),
    ("192.168.1.1", "private"), ("224.0.0.1", "multicast"), ("255.255.255.255", "reserved"),
    # IPv6 itself
    ("::1", "loopback"), ("::", "unspecified"), ("fe80::1", "link-local"),
    ("fc00::1", "private"), ("fd12:3456::1", "private"), ("fec0::1", "private"),
    ("ff02::1", "multicast"), ("2001:db8::1", "reserved"), ("4000::1", "reserved"),
    ("64:ff9b:1::a00:1", "private"),
    # IPv4 inside IPv6: mapped, compatible, NAT64, 6to4, Teredo (client 127.0.0.1 obfuscated)
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "link-local"),
    ("::127.0.0.1", "loopback"), ("::10.0.0.1", "private"), ("64:ff9b::7f00:1", "loopback"),
    ("64:ff9b::c0a8:101", "private"), ("2002:7f00:1::1", "loopback"),
    ("2002:a00:1::", "private"), ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),
    ("2001:0:a00:1:8000:63bf:3fff:fdd2", "private"),
]


@pytest.mark.parametrize(("address", "kind"), REFUSED_SPELLINGS)
def test_every_spelling_of_a_non_public_address_is_refused(address: str, kind: str) -> None:
    ip = ipaddress.ip_address(address)
    assert address_refusal(ip) == kind
    refusal = target_refusal("hooks.example.com", [ip], allow="", deny="",
                             private_allowed=False)
    assert refusal is not None and kind in refusal
    assert target_refusal("hooks.example.com", [ip], allow="", deny="",
                          private_allowed=True) is None


@pytest.mark.parametrize("address", [
    "93.184.216.34", "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:8.8.8.8",
    "64:ff9b::808:808", "2002:808:808::1", "2001:0:4136:e378:8000:63bf:f7f7:f7f7"])
def test_public_addresses_in_any_spelling_are_allowed(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert address_refusal(ip) is None
    assert target_refusal("hooks.example.com", [ip], allow="", deny="",
                          private_allowed=False) is None


def test_one_refused_address_refuses_a_name_that_also_has_public_ones() -> None:
    addresses = [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("::ffff:10.0.0.1")]
    assert target_refusal("mixed.example.com", addresses, allow="", deny="",
                          private_allowed=False)
    # An allowed network covers only its own addresses.
    assert target_refusal("mixed.example.com", addresses + [ipaddress.ip_address("127.0.0.1")],
                          allow="10.0.0.0/8", deny="", private_allowed=False)
    assert target_refusal("mixed.example.com", addresses, allow="10.0.0.0/8", deny="",
                          private_allowed=False) is None


def test_deny_and_allow_networks_match_the_ipv4_inside_ipv6_forms() -> None:
    mapped = [ipaddress.ip_address("::ffff:127.0.0.1")]
    assert target_refusal("h", mapped, allow="", deny="127.0.0.0/8", private_allowed=True)
    assert target_refusal("h", mapped, allow="127.0.0.1", deny="", private_allowed=False) is None
    assert target_refusal("Hooks.Example.com.", [], allow="", deny="hooks.example.com",
                          private_allowed=True)
