"""The one http(s) URL parser behind webhook URLs and Connect Webview redirects: what it
refuses, how it reads hosts, and that whatever it accepts can be sent."""

import ipaddress

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lockhub.domain.urls import InvalidUrl, parse_http_url


@pytest.mark.parametrize(("url", "reason"), [
    ("https://[::1]x/", "invalid IPv6"),
    ("https://[::1/", "invalid IPv6"),
    ("https://[12345::1]/", "invalid IPv6"),
    ("http://[fe80::1%25eth0]/", "zone"),
    ("http://::1/", "brackets"),
    ("http://hooks\x00.example.com/", "control"),
    ("http://hooks.example.com/a\x00b", "control"),
    ("http://hooks.example.com/a b", "spaces"),
    ("http://hooks.example.com/\u2028", "spaces"),
    ("http://hooks.example.com\\@evil.example/", "backslash"),
    ("http://hooks.example.com:99999/", "port"),
    ("http://hooks.example.com:0/", "port"),
    ("http://hooks.example.com:http/", "port"),
    ("http://hooks.example.com:/", "port"),
    ("http://user:secret@hooks.example.com/", "user name"),
    ("http://@hooks.example.com/", "user name"),
    ("ftp://hooks.example.com/", "http or https"),
    ("javascript:alert(1)", "http or https"),
    ("hooks.example.com/path", "http or https"),
    ("http:/hooks.example.com", "absolute"),
    ("http:///path", "host"),
    ("http://hooks_.exa mple.com/", "spaces"),
    ("http://bad!host.example.com/", "host name"),
    ("http://bücher.example/", "ASCII"),
    ("http://1.2.3.4.5/", "IPv4"),
    ("http://256.0.0.1/", "IPv4"),
    ("http://example.123/", "IPv4"),
    ("https://hooks.example.com/" + "a" * 2048, "2048"),
])
def test_unsendable_urls_are_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(InvalidUrl, match=reason):
        parse_http_url(url)


@pytest.mark.parametrize(("url", "host", "port"), [
    ("https://Hooks.Example.com./lockhub?x=1#f", "hooks.example.com", None),
    ("http://hooks.example.com:8080/", "hooks.example.com", 8080),
    ("HTTPS://xn--bcher-kva.example/ü", "xn--bcher-kva.example", None),
    ("http://[::FFFF:127.0.0.1]:9000/", "::ffff:7f00:1", 9000),
    ("http://[::]/", "::", None),
])
def test_hosts_are_normalised(url: str, host: str, port: int | None) -> None:
    parsed = parse_http_url(url)
    assert (parsed.host, parsed.port, parsed.url) == (host, port, url)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1", "0x7f.1", "0177.0.0.1", "2130706433",
                                  "0x7f000001", "127.0.0.1."])
def test_every_ipv4_spelling_is_read_as_its_address(host: str) -> None:
    parsed = parse_http_url(f"http://{host}:8080/")
    assert parsed.address == ipaddress.ip_address("127.0.0.1")
    assert parsed.host == "127.0.0.1"


URL_CHARS = st.sampled_from(list("ab1:/[]@%.?#-_ \\\x00\t") + ["::1", "0x", "8080", "ü"])


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["http://", "https://", "HTTP://", "http:", ""]),
       st.lists(URL_CHARS, max_size=14).map("".join))
def test_anything_accepted_can_be_sent(prefix: str, rest: str) -> None:
    """Either a clear InvalidUrl, or a URL httpx can send (no other exception, ever)."""
    try:
        parsed = parse_http_url(prefix + rest)
    except InvalidUrl:
        return
    url = httpx.URL(parsed.url)
    assert url.scheme == parsed.scheme
    assert url.port == parsed.port or url.port is None
