"""Webhook rules: which events a webhook wants, the retry schedule, signing, and which targets
may be called."""

from __future__ import annotations

import base64
import ipaddress
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from standardwebhooks import Webhook

# Svix's schedule (Seam's webhooks page): after a failure, retry immediately, then after 5 s,
# 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; 8 attempts after the first, then the delivery fails.
RETRY_DELAYS = [timedelta(0), timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30),
                timedelta(hours=2), timedelta(hours=5), timedelta(hours=10),
                timedelta(hours=10)]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _networks(*pairs: tuple[str, str]) -> list[tuple[ipaddress._BaseNetwork, str]]:
    return [(ipaddress.ip_network(net), kind) for net, kind in pairs]


# Everything that is not the public internet. A production workspace's webhooks may not call
# these (a sandbox workspace's may, for a receiver on the developer's own machine).
REFUSED_IPV4 = _networks(
    ("0.0.0.0/8", "unspecified"), ("10.0.0.0/8", "private"), ("100.64.0.0/10", "private"),
    ("127.0.0.0/8", "loopback"), ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"), ("192.0.0.0/24", "reserved"), ("192.0.2.0/24", "reserved"),
    ("192.88.99.0/24", "reserved"), ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "reserved"), ("198.51.100.0/24", "reserved"),
    ("203.0.113.0/24", "reserved"), ("224.0.0.0/4", "multicast"), ("240.0.0.0/4", "reserved"))
REFUSED_IPV6 = _networks(
    ("::1/128", "loopback"), ("::/128", "unspecified"), ("64:ff9b:1::/48", "private"),
    ("100::/64", "reserved"), ("2001::/23", "reserved"), ("2001:db8::/32", "reserved"),
    ("3fff::/20", "reserved"), ("fc00::/7", "private"), ("fec0::/10", "private"),
    ("fe80::/10", "link-local"), ("ff00::/8", "multicast"))
GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def wants(event_types: list[str], event_type: str) -> bool:
    return "*" in event_types or event_type in event_types


def next_attempt_delay(failed_attempts: int) -> timedelta | None:
    """Delay after the `failed_attempts`-th failure, or None when retries are exhausted."""
    index = failed_attempts - 1
    return RETRY_DELAYS[index] if 0 <= index < len(RETRY_DELAYS) else None


def signed_headers(secret: str, msg_id: str, when: datetime, body: str) -> dict[str, str]:
    """Both header families (Standard Webhooks and Svix) carrying the same signature."""
    signature = Webhook(secret).sign(msg_id, when, body)
    timestamp = str(int(when.timestamp()))
    return {
        "content-type": "application/json",
        "webhook-id": msg_id, "webhook-timestamp": timestamp, "webhook-signature": signature,
        "svix-id": msg_id, "svix-timestamp": timestamp, "svix-signature": signature,
    }


def _rules(spec: str) -> list[str]:
    return [part.strip() for part in spec.split(",") if part.strip()]


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address reaches: IPv4-mapped, IPv4-compatible, NAT64, 6to4
    and Teredo (its server and its client) addresses carry one inside."""
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _MAPPED or address in _COMPATIBLE or address in _NAT64:
        return [low32]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)
    return []


def address_refusal(address: Address) -> str | None:
    """What kind of non-public address `address` is ("loopback", "private", ...), or None."""
    if isinstance(address, ipaddress.IPv4Address):
        return next((kind for net, kind in REFUSED_IPV4 if address in net), None)
    address = ipaddress.IPv6Address(int(address))  # without a zone (%eth0)
    listed = next((kind for net, kind in REFUSED_IPV6 if address in net), None)
    inner = embedded_ipv4(address)
    if listed is not None and not (inner and address.teredo):
        return listed
    if inner:
        return next((kind for kind in map(address_refusal, inner) if kind is not None), None)
    return None if address in GLOBAL_UNICAST else "reserved"


def _host_matches(host: str, rules: list[str]) -> bool:
    name = host.lower().removesuffix(".")
    return any(rule.lower().removesuffix(".") == name for rule in rules)


def _address_matches(address: Address, rules: list[str]) -> bool:
    """Whether an address (or the IPv4 address inside it) is in one of the rules' networks."""
    candidates: list[Address] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        address = ipaddress.IPv6Address(int(address))
        candidates = [address, *embedded_ipv4(address)]
    for rule in rules:
        try:
            network = ipaddress.ip_network(rule, strict=False)
        except ValueError:
            continue
        if any(candidate in network for candidate in candidates):
            return True
    return False


def target_refusal(host: str, addresses: Iterable[Address], *, allow: str, deny: str,
                   private_allowed: bool) -> str | None:
    """Why a delivery to `host`, connecting to `addresses`, is refused, or None if allowed.

    Every address is judged: one refused address refuses the target, so a name that also
    resolves to a private address cannot be used to reach it. The deny list always applies;
    the allow list (host names or networks) lets a production workspace reach listed private
    targets; sandbox workspaces may reach private addresses.
    """
    addresses = list(addresses)
    deny_rules, allow_rules = _rules(deny), _rules(allow)
    if _host_matches(host, deny_rules) or any(_address_matches(a, deny_rules)
                                              for a in addresses):
        return f"{host} is on the webhook deny list"
    if private_allowed or _host_matches(host, allow_rules):
        return None
    for address in addresses:
        kind = None if _address_matches(address, allow_rules) else address_refusal(address)
        if kind is not None:
            return f"{address} is a {kind} address"
    return None
