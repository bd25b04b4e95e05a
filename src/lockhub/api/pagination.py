"""Opaque page cursors over the stable order (created_at, id), signed and bound to where they
were issued.

A cursor carries a hash of the request's parameters (Seam's model: reused with other parameters
it is `mismatched_page_parameters`) and the position after the last item, followed by an HMAC of
that, the workspace and the route under a key derived from the server secret. So a cursor works
only in the workspace and on the route that issued it; another's, or an edited one, is
invalid_input, and a client can never steer the keyset query to a position of its choosing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import msgspec

from lockhub.api.context import Ctx
from lockhub.errors import InvalidInput, LockhubError
from lockhub.secret_box import derived_key
from lockhub.store.keyset import Position

_SIGNATURE_BYTES = 16


def params_hash(params: msgspec.Struct) -> str:
    data = msgspec.to_builtins(params)
    data.pop("page_cursor", None)
    return hashlib.sha256(msgspec.json.encode(data, order="sorted")).hexdigest()[:32]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(ctx: Ctx, payload: bytes) -> bytes:
    key = derived_key(ctx.rt.settings, "page_cursor")
    message = b"\n".join([ctx.workspace_id.encode(), ctx.route_path.encode(), payload])
    return hmac.new(key, message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def encode_cursor(ctx: Ctx, params: msgspec.Struct, after: tuple[str, str]) -> str:
    payload = msgspec.json.encode([params_hash(params), {"created_at": after[0], "id": after[1]}])
    return f"{_b64(payload)}.{_b64(_signature(ctx, payload))}"


def _invalid_cursor() -> InvalidInput:
    return InvalidInput.for_field(["page_cursor"], "Invalid page cursor")


def decode_cursor(ctx: Ctx, params: Any) -> Position | None:
    """The position `params.page_cursor` continues after (None: the first page)."""
    cursor = params.page_cursor
    if not cursor:
        return None
    payload_text, _, signature_text = cursor.partition(".")
    try:
        payload, signature = _unb64(payload_text), _unb64(signature_text)
    except (binascii.Error, ValueError):
        raise _invalid_cursor() from None
    if not hmac.compare_digest(signature, _signature(ctx, payload)):
        raise _invalid_cursor()
    try:
        digest, position = msgspec.json.decode(payload)
        after = (datetime.fromisoformat(position["created_at"]), str(position["id"]))
    except Exception:
        raise _invalid_cursor() from None
    if after[0].tzinfo is None:
        raise _invalid_cursor()
    if digest != params_hash(params):
        raise LockhubError(
            "page_cursor was issued for different parameters",
            error_type="mismatched_page_parameters",
        )
    return after


def pagination(ctx: Ctx, params: msgspec.Struct,
               after: tuple[str, str] | None) -> dict[str, Any]:
    if after is None:
        return {"has_next_page": False, "next_page_cursor": None, "next_page_url": None}
    cursor = encode_cursor(ctx, params, after)
    query = {k: v for k, v in msgspec.to_builtins(params).items() if k != "page_cursor"}
    flat: list[tuple[str, str]] = []
    for key, value in sorted(query.items()):
        if isinstance(value, list):
            flat.extend((key, str(v)) for v in value)
        elif isinstance(value, dict):
            flat.extend((f"{key}.{k}", str(v).lower() if isinstance(v, bool) else str(v))
                        for k, v in value.items())
        elif isinstance(value, bool):
            flat.append((key, "true" if value else "false"))
        elif value is not None:
            flat.append((key, str(value)))
    flat.append(("page_cursor", cursor))
    return {
        "has_next_page": True,
        "next_page_cursor": cursor,
        "next_page_url": f"{ctx.rt.settings.base_url}{ctx.route_path}?{urlencode(flat)}",
    }


MAX_PAGE = 100_000


def page_limit(limit: float) -> int:
    """A usable LIMIT from the spec's float `limit` (at least 1, at most MAX_PAGE)."""
    return int(max(1, min(limit, MAX_PAGE)))
