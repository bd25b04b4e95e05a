"""Absolute http(s) URLs that lockhub stores and later calls (webhooks) or sends a browser to
(Connect Webview redirects).

One strict parser for both, so a URL that is accepted can always be sent: no spaces or control
characters, no user info, a valid host and port. IPv4 hosts are read the way browsers and
`inet_aton` read them (`127.1`, `0x7f.0.0.1` and `2130706433` are all 127.0.0.1), so a check on
the address sees every spelling of it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

MAX_LENGTH = 2048

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
_NUMBER = {16: re.compile(r"[0-9a-f]*"), 8: re.compile(r"[0-7]*"), 10: re.compile(r"[0-9]+")}


class InvalidUrl(ValueError):
    """Why a string is not an acceptable http(s) URL (a sentence for the user)."""


@dataclass(frozen=True)
class HttpUrl:
    url: str  # as given
    scheme: str  # "http" or "https"
    host: str  # a lower-case name, or an IP address in canonical form (no brackets)
    port: int | None
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None  # when the host is an IP


def parse_http_url(value: str) -> HttpUrl:
    """Parse an absolute http(s) URL, or raise InvalidUrl saying what is wrong with it."""
    if len(value) > MAX_LENGTH:
        raise InvalidUrl(f"Must be at most {MAX_LENGTH} characters")
    if any(c.isspace() or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in value):
        raise InvalidUrl("Must not contain spaces or control characters")
    if "\\" in value:
        raise InvalidUrl("Must not contain backslashes")
    scheme_match = _SCHEME.match(value)
    scheme = scheme_match.group(1).lower() if scheme_match else ""
    if scheme not in ("http", "https"):
        raise InvalidUrl("Must be an http or https URL")
    rest = value[scheme_match.end():] if scheme_match else ""
    if not rest.startswith("//"):
        raise InvalidUrl("Must be an absolute URL (http(s)://host/...)")
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    if "@" in authority:
        raise InvalidUrl("Must not contain a user name or password")
    host, port = _split_authority(authority)
    if not host:
        raise InvalidUrl("Must have a host")
    address = _ip_host(host)
    if address is not None:
        host = str(address)
    elif _is_dns_name(host):
        host = host.lower().removesuffix(".")
    else:
        raise InvalidUrl("Has an invalid host name")
    return HttpUrl(url=value, scheme=scheme, host=host, port=port, address=address)


def _split_authority(authority: str) -> tuple[str, int | None]:
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise InvalidUrl("Has an invalid IPv6 address")
        host, after = authority[:end + 1], authority[end + 1:]
        if after and not after.startswith(":"):
            raise InvalidUrl("Has an invalid IPv6 address")
        port_text = after[1:] if after else None
    else:
        host, colon, port_text_or_empty = authority.partition(":")
        if ":" in port_text_or_empty:
            raise InvalidUrl("IPv6 addresses must be written in brackets")
        port_text = port_text_or_empty if colon else None
    if port_text is None:
        return host, None
    if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) <= 65535:
        raise InvalidUrl("Has an invalid port (expected 1-65535)")
    return host, int(port_text)


def _ip_host(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names literally, or None for a DNS name."""
    if host.startswith("["):
        inner = host[1:-1]
        if "%" in inner:
            raise InvalidUrl("IPv6 zone identifiers are not supported")
        try:
            return ipaddress.IPv6Address(inner)
        except ValueError:
            raise InvalidUrl("Has an invalid IPv6 address") from None
    if not host.isascii():
        raise InvalidUrl("The host must be ASCII (use the xn-- form of international names)")
    return _ipv4(host.lower())


def _ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The WHATWG IPv4 parser: a host whose last label is a number is an IPv4 address, written
    with 1-4 decimal, octal (leading 0) or hex (0x) parts; the last part fills the rest."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if _number(parts[-1]) is None:
        return None
    numbers = [_number(part) for part in parts]
    if len(parts) > 4 or any(n is None for n in numbers):
        raise InvalidUrl("Has an invalid IPv4 address")
    values = [n for n in numbers if n is not None]
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        raise InvalidUrl("Has an invalid IPv4 address")
    total = values[-1] + sum(n * 256 ** (3 - i) for i, n in enumerate(values[:-1]))
    return ipaddress.IPv4Address(total)


def _number(part: str) -> int | None:
    if part[:2] == "0x":
        digits, base = part[2:], 16
    elif len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if not _NUMBER[base].fullmatch(digits):
        return None
    return int(digits, base) if digits else 0


def _is_dns_name(host: str) -> bool:
    name = host.lower().removesuffix(".")
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split("."))
