"""Keyset pages: lists are ordered by (created_at, id) and continue after a position.

The position is compared as a row value, `(created_at, id) > (x, y)`, which SQLite and
PostgreSQL both answer by seeking the (..., created_at, id) index: a deep page costs what the
first page costs, however many rows come before it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Select, String, bindparam, tuple_, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection

Position = tuple[datetime, str]


async def keyset_page(conn: AsyncConnection, query: Select[Any], created_at: Column[Any],
                      row_id: Column[Any], *, after: Position | None,
                      limit: int | None) -> tuple[list[Any], tuple[str, str] | None]:
    """One page of `query` in (created_at, id) order, and the position after it if more rows
    follow (None: this was the last page). `limit` None reads every row."""
    statement = page_statement(query, created_at, row_id, with_after=after is not None,
                               with_limit=limit is not None)
    return await run_page(conn, statement, {}, created_at, row_id, after=after, limit=limit)


def page_statement(query: Select[Any], created_at: Column[Any], row_id: Column[Any], *,
                   with_after: bool, with_limit: bool) -> Select[Any]:
    """`query` ordered and cut as a page, the position and limit left as parameters: a list
    route can build this once per shape of its filters and bind the values per request
    (building a statement costs more than running it)."""
    if with_after:
        query = query.where(tuple_(created_at, row_id) > tuple_(
            bindparam("page_after_created_at", type_=created_at.type),
            bindparam("page_after_id", type_=row_id.type)))
    query = query.order_by(created_at, row_id)
    if with_limit:
        query = query.limit(bindparam("page_limit_plus_one"))
    return query


async def run_page(conn: AsyncConnection, statement: Select[Any], params: dict[str, Any],
                   created_at: Column[Any], row_id: Column[Any], *, after: Position | None,
                   limit: int | None) -> tuple[list[Any], tuple[str, str] | None]:
    """Run a `page_statement` with its values; returns what `keyset_page` returns."""
    params = dict(params)
    if after is not None:
        params["page_after_created_at"], params["page_after_id"] = after
    if limit is not None:
        params["page_limit_plus_one"] = limit + 1
    rows = list((await conn.execute(statement, params)).all())
    if limit is None or len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], (_instant(getattr(last, created_at.name)).isoformat(),
                          getattr(last, row_id.name))


def position_columns(created_at: Column[Any], row_id: Column[Any]) -> tuple[Any, Any]:
    """The columns a page of positions needs: the id, and created_at as the database returns
    it (converting thousands of timestamps to datetimes cost more than the query; only the
    last one becomes the next page's position)."""
    return row_id, type_coerce(created_at, String).label(created_at.name)


def _instant(value: Any) -> datetime:
    """A created_at as stored (naive UTC), returned raw (SQLite text) or converted."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
