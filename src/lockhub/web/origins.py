"""Whether a form post came from lockhub's own pages: the guard of every form lockhub serves
(Connect Webview sign-in, the console), against forms sent by other sites."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request

FORM = "application/x-www-form-urlencoded"


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute http(s) URL; None for anything else (`null`)."""
    try:
        parts = urlsplit(url.strip())
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:
        return None
    if scheme not in ("http", "https") or not host:
        return None
    return scheme, host, port or (443 if scheme == "https" else 80)


def sent_by_another_site(request: Request[Any, Any, Any], base_url: str) -> bool:
    """Its `Origin` (or without one, its `Referer`) names an origin other than the one the
    request reached or the public base URL. Clients that send neither (non-browser clients)
    pass: a browser always sends one of them with a cross-site form post."""
    sender = request.headers.get("origin")
    if sender is None:
        sender = request.headers.get("referer")
    own = {found for found in (origin(str(request.base_url)), origin(base_url)) if found}
    return sender is not None and origin(sender) not in own


def is_form(request: Request[Any, Any, Any]) -> bool:
    """A url-encoded form (`text/plain` and multipart bodies are how forged forms are sent)."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    return media_type == FORM
