"""Page cursors are signed and bound to the workspace and route that issued them: a cursor used
elsewhere, or edited by hand, is 400 invalid_input, and the SDK's paginator still walks a list."""

from __future__ import annotations

import base64
import json

import pytest
from seam import Seam, SeamHttpInvalidInputError


def _cursor(seam: Seam) -> str:
    cursor = seam.devices.list(limit=1).pagination["next_page_cursor"]
    assert cursor, "the seed has more than one device"
    return cursor


def _edited(cursor: str, **position: str) -> str:
    """`cursor` with its position changed, keeping whatever signature it carried."""
    payload, dot, signature = cursor.partition(".")
    digest, after = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    after.update(position)
    edited = base64.urlsafe_b64encode(json.dumps([digest, after]).encode()).decode().rstrip("=")
    return edited + dot + signature


def _assert_invalid_cursor(exc: pytest.ExceptionInfo[SeamHttpInvalidInputError]) -> None:
    assert exc.value.status_code == 400
    assert [e.parameter_name for e in exc.value.validation_errors] == ["page_cursor"]


def test_cursor_from_another_workspace_is_invalid_input(seam: Seam, other_seam: Seam) -> None:
    with pytest.raises(SeamHttpInvalidInputError) as exc:
        other_seam.devices.list(limit=1, page_cursor=_cursor(seam))
    _assert_invalid_cursor(exc)


def test_cursor_from_another_route_is_invalid_input(seam: Seam) -> None:
    with pytest.raises(SeamHttpInvalidInputError) as exc:
        seam.devices.unmanaged.list(limit=1, page_cursor=_cursor(seam))
    _assert_invalid_cursor(exc)


@pytest.mark.parametrize("position", [
    {"created_at": "2020-01-01T00:00:00"},  # no time zone
    {"created_at": "2020-01-01"},  # a date, no time
    {"created_at": "2000-01-01T00:00:00+00:00"},  # well-formed, but not where the page ended
    {"id": "august_device_2"},
])
def test_edited_cursor_is_invalid_input(seam: Seam, position: dict[str, str]) -> None:
    with pytest.raises(SeamHttpInvalidInputError) as exc:
        seam.devices.list(limit=1, page_cursor=_edited(_cursor(seam), **position))
    _assert_invalid_cursor(exc)


@pytest.mark.parametrize("cursor", ["", "%%%", "abc.def", "."])
def test_garbage_cursor_is_invalid_input_or_the_first_page(seam: Seam, cursor: str) -> None:
    if not cursor:
        assert seam.devices.list(limit=1, page_cursor=cursor)
        return
    with pytest.raises(SeamHttpInvalidInputError) as exc:
        seam.devices.list(limit=1, page_cursor=cursor)
    _assert_invalid_cursor(exc)


def test_paginator_walks_every_device_with_signed_cursors(seam: Seam) -> None:
    everything = [d.device_id for d in seam.devices.list()]
    paginator = seam.create_paginator(seam.devices.list, {"limit": 1})
    walked = [d.device_id for d in paginator.flatten_to_list()]
    assert walked == everything
