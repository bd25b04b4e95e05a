"""Health probes (Seam's `/health/get_health` and the fake's `/health`): 200 only while the
database answers and takes writes, else a 503 `service_unavailable` envelope saying why."""

from __future__ import annotations

import msgspec

from lockhub.api.context import Ctx
from lockhub.api.routing import NoParams, route


class Health(msgspec.Struct):
    ok: bool
    msg: str


HEALTHY = {"msg": "I'm one with the Force. The Force is with me."}


@route("/health", alias="GET", params=NoParams, auth="none", response=Health)
async def health(ctx: Ctx, params: NoParams) -> dict[str, str]:
    """Health probe: touches the database."""
    await ctx.rt.db.check()
    return HEALTHY


@route("/health/get_health", alias="GET", params=NoParams, auth="none", response=Health)
async def get_health(ctx: Ctx, params: NoParams) -> dict[str, str]:
    """Health probe (Seam's path): touches the database."""
    await ctx.rt.db.check()
    return HEALTHY
