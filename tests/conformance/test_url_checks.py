"""URLs lockhub stores to call or redirect to are checked when they are given: a webhook or
Connect Webview URL that could never be used is a 400 invalid_input naming the field, and a
production workspace cannot subscribe a literal non-public address (in any spelling)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from seam import Seam
from seam.exceptions import SeamHttpInvalidInputError

UNSENDABLE = [
    "https://[::1]x/", "https://[::1/", "http://hooks\x00.example.com/",
    "http://hooks.example.com/a\x00b", "http://hooks.example.com/a b", " https://hooks.example.com/",
    "http://hooks.example.com/\r\nX-Injected: 1", "http://hooks.example.com:99999/",
    "http://hooks.example.com:port/", "http://user:pw@hooks.example.com/",
    "ftp://hooks.example.com/", "file:///etc/passwd", "http://[fe80::1%25eth0]/",
    "http://1.2.3.4.5/",
]

# Loopback, private, link-local, unique-local, unspecified, multicast and reserved addresses,
# written directly and inside IPv6 (mapped, compatible, NAT64, 6to4) and as odd IPv4 forms.
NON_PUBLIC = [
    "127.0.0.1", "127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "0.0.0.0", "10.0.0.1",
    "172.16.0.1", "192.168.1.1", "100.64.0.1", "169.254.169.254", "224.0.0.1", "[::1]", "[::]",
    "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::127.0.0.1]", "[::ffff:169.254.169.254]",
    "[64:ff9b::7f00:1]", "[2002:7f00:1::]", "[fe80::1]", "[fd00::1]", "[ff02::1]",
]


def _invalid(call: Callable[[], Any], field: str) -> str:
    with pytest.raises(SeamHttpInvalidInputError) as invalid:
        call()
    assert (invalid.value.status_code, invalid.value.code) == (400, "invalid_input")
    named = {e.parameter_name: e.error_messages for e in invalid.value.validation_errors}
    assert list(named) == [field] and named[field]
    return " ".join(named[field])


@pytest.mark.parametrize("url", UNSENDABLE)
def test_a_webhook_url_that_cannot_be_sent_is_invalid_input(
    seam: Seam, other_seam: Seam, url: str,
) -> None:
    for client in (seam, other_seam):
        _invalid(lambda client=client: client.webhooks.create(url=url), "url")
    assert other_seam.webhooks.list() == []


@pytest.mark.parametrize("host", NON_PUBLIC)
def test_production_webhooks_cannot_target_a_non_public_address(
    other_seam: Seam, host: str,
) -> None:
    message = _invalid(lambda: other_seam.webhooks.create(url=f"http://{host}:8080/hooks"),
                       "url")
    assert "address" in message
    assert other_seam.webhooks.list() == []


def test_sandbox_webhooks_may_target_loopback_and_production_names_are_checked_on_send(
    seam: Seam, other_seam: Seam,
) -> None:
    local = seam.webhooks.create(url="http://[::ffff:127.0.0.1]:9/hooks", event_types=[
        "device.tampered"])
    named = other_seam.webhooks.create(url="http://localhost:9/hooks")
    seam.webhooks.delete(webhook_id=local.webhook_id)
    other_seam.webhooks.delete(webhook_id=named.webhook_id)


@pytest.mark.parametrize("field", ["custom_redirect_url", "custom_redirect_failure_url"])
@pytest.mark.parametrize("url", ["https://[::1]x/", "https://[::1/", "https://app.example.com/\x00",
                                 "https://app.example.com/a b", "https://app.example.com\\@x/",
                                 "https://user@app.example.com/"])
def test_a_malformed_redirect_url_is_invalid_input(seam: Seam, field: str, url: str) -> None:
    _invalid(lambda: seam.connect_webviews.create(**{field: url}), field)
