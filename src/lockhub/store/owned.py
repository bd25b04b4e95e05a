"""Looking a workspace's row up by its id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.errors import NotFound


async def owned_row(conn: AsyncConnection, table: Table, id_column: Column[Any],
                    workspace_id: str, row_id: str, resource: str) -> Any:
    """The row with this id if it belongs to the workspace. Another workspace's id gets the same
    404 as an unknown one: workspaces are walls."""
    row = (await conn.execute(select(table).where(
        table.c.workspace_id == workspace_id, id_column == row_id))).first()
    if row is None:
        raise NotFound(resource, {id_column.name: row_id})
    return row
