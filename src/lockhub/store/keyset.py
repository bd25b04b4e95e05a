"""Keyset pages: lists are ordered by (created_at, id) and continue after a position.

The position is compared as a row value, `(created_at, id) > (x, y)`, which SQLite and
PostgreSQL both answer by seeking the (..., created_at, id) index: a deep page costs what the
first page costs, however many rows come before it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Select, literal, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

Position = tuple[datetime, str]


async def keyset_page(conn: AsyncConnection, query: Select[Any], created_at: Column[Any],
                      row_id: Column[Any], *, after: Position | None,
                      limit: int | None) -> tuple[list[Any], tuple[str, str] | None]:
    """One page of `query` in (created_at, id) order, and the position after it if more rows
    follow (None: this was the last page). `limit` None reads every row."""
    if after is not None:
        query = query.where(tuple_(created_at, row_id) > tuple_(
            literal(after[0], created_at.type), literal(after[1], row_id.type)))
    query = query.order_by(created_at, row_id)
    if limit is not None:
        query = query.limit(limit + 1)
    rows = list((await conn.execute(query)).all())
    if limit is None or len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], (getattr(last, created_at.name).isoformat(),
                          getattr(last, row_id.name))
