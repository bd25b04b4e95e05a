"""Objects served as JSON through the per-process read model (store/read_model.py).

A hit returns the stored bytes, embedded as they are in the response (`msgspec.Raw`); a miss
builds the object, encodes it once, and remembers the bytes. Entries carry the workspace that
owns the row, so a cached row is never served to another workspace.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Column, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.store.read_model import ReadModel

_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class Served:
    workspace_id: str
    raw: msgspec.Raw
    facts: Any = None  # what a route must re-check on a hit (e.g. a pending attempt's age)


def _owned_entry(model: ReadModel, token: int | None, table: str, key: str,
                 workspace_id: str) -> Served | None:
    """The remembered entry of a row, if the model is usable and `workspace_id` owns it."""
    entry = model.get(table, key) if token is not None else None
    return entry if entry is not None and entry.workspace_id == workspace_id else None


class Lookup:
    """One read of one row: the cached entry (if the caller's workspace owns it) and the token
    that allows remembering what the database returns instead."""

    __slots__ = ("model", "table", "key", "token", "hit")

    def __init__(self, model: ReadModel, table: str, key: str, workspace_id: str) -> None:
        self.model, self.table, self.key = model, table, key
        self.token = model.request_token()
        self.hit = _owned_entry(model, self.token, table, key, workspace_id)

    def remember(self, workspace_id: str, obj: Any, facts: Any = None) -> msgspec.Raw:
        raw = msgspec.Raw(_encode(obj))
        self.model.put(self.table, self.key, Served(workspace_id, raw, facts), self.token)
        return raw


Position = tuple[str, str]
PageOf = tuple[list[msgspec.Raw], Position | None]


async def served_page(model: ReadModel, table: str, key: tuple[Any, ...],
                      build: Callable[[], Awaitable[PageOf]]) -> PageOf:
    """A list page (its rows' JSON and the position after it) from the read model, or built
    and remembered. `key` names the workspace first, then every parameter that shapes the page
    (it must be hashable); the page is dropped when any row of `table` changes."""
    token = model.request_token()
    page = model.get_page(table, key) if token is not None else None
    if page is None:
        page = await build()
        if token is not None:
            model.put_page(table, key, page, sum(len(raw) for raw in page[0]) + 64, token)
    return page


# Ids per IN (...) when fetching the rows a page misses (well under both databases' limits).
_FETCH_CHUNK = 1000


async def served_rows(model: ReadModel, conn: AsyncConnection, table: Table, key: Column[Any],
                      ids: list[str], workspace_id: str, build: Callable[[Any], Any],
                      facts: Callable[[Any], Any] = lambda row: None) -> list[msgspec.Raw]:
    """The JSON of the rows `ids` names, in that order: remembered ones from the read model,
    the others read in a few queries, built, and remembered. The caller's query decides which
    rows are listed; the model only supplies their JSON."""
    token = model.request_token()
    found: dict[str, msgspec.Raw] = {}
    missing: list[str] = []
    for row_id in ids:
        entry = _owned_entry(model, token, table.name, row_id, workspace_id)
        if entry is not None:
            found[row_id] = entry.raw
        else:
            missing.append(row_id)
    for start in range(0, len(missing), _FETCH_CHUNK):
        chunk = missing[start:start + _FETCH_CHUNK]
        for row in (await conn.execute(select(table).where(key.in_(chunk)))).all():
            row_id = getattr(row, key.name)
            raw = msgspec.Raw(_encode(build(row)))
            model.put(table.name, row_id, Served(workspace_id, raw, facts(row)), token)
            found[row_id] = raw
    return [found[i] for i in ids if i in found]
