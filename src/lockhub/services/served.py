"""Objects served as JSON through the per-process read model (store/read_model.py).

A hit returns the stored bytes, embedded as they are in the response (`msgspec.Raw`); a miss
builds the object, encodes it once, and remembers the bytes. Entries carry the workspace that
owns the row, so a cached row is never served to another workspace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from lockhub.store.read_model import ReadModel

_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class Served:
    workspace_id: str
    raw: msgspec.Raw
    facts: Any = None  # what a route must re-check on a hit (e.g. a pending attempt's age)


class Lookup:
    """One read of one row: the cached entry (if the caller's workspace owns it) and the token
    that allows remembering what the database returns instead."""

    __slots__ = ("model", "table", "key", "token", "hit")

    def __init__(self, model: ReadModel, table: str, key: str, workspace_id: str) -> None:
        self.model, self.table, self.key = model, table, key
        self.token = model.request_token()
        entry = model.get(table, key) if self.token is not None else None
        self.hit: Served | None = entry if (entry is not None
                                            and entry.workspace_id == workspace_id) else None

    def remember(self, workspace_id: str, obj: Any, facts: Any = None) -> msgspec.Raw:
        raw = msgspec.Raw(_encode(obj))
        self.model.put(self.table, self.key, Served(workspace_id, raw, facts), self.token)
        return raw
