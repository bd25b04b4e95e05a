"""Opaque, parameter-bound cursors over the stable order (created_at, id)."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import msgspec

from lockhub.errors import InvalidInput, LockhubError


def params_hash(params: msgspec.Struct) -> str:
    data = msgspec.to_builtins(params)
    data.pop("page_cursor", None)
    return hashlib.sha256(msgspec.json.encode(data, order="sorted")).hexdigest()[:32]


def encode_cursor(params: msgspec.Struct, after: tuple[str, str]) -> str:
    raw = msgspec.json.encode([params_hash(params), {"created_at": after[0], "id": after[1]}])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(params: msgspec.Struct, cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        digest, position = msgspec.json.decode(base64.urlsafe_b64decode(padded))
        after = (datetime.fromisoformat(position["created_at"]), str(position["id"]))
    except Exception:
        raise InvalidInput.for_field(["page_cursor"], "Invalid page cursor") from None
    if digest != params_hash(params):
        raise LockhubError(
            "page_cursor was issued for different parameters",
            error_type="mismatched_page_parameters",
        )
    return after


def pagination(base_url: str, path: str, params: msgspec.Struct,
               after: tuple[str, str] | None) -> dict[str, Any]:
    if after is None:
        return {"has_next_page": False, "next_page_cursor": None, "next_page_url": None}
    cursor = encode_cursor(params, after)
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
        "next_page_url": f"{base_url}{path}?{urlencode(flat)}",
    }


MAX_PAGE = 100_000


def page_limit(limit: float) -> int:
    """A usable LIMIT from the spec's float `limit` (at least 1, at most MAX_PAGE)."""
    return int(max(1, min(limit, MAX_PAGE)))
