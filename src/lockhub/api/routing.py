"""The route table: every Seam route is declared once, next to its handler.

`@route(...)` records path, alias verb, parameter Struct, response key and flags; `app.py` turns
the table into Litestar handlers and `openapi.py` into `/openapi.json`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

Auth = Literal["workspace", "user", "none"]


class NoParams(msgspec.Struct):
    """Parameters of routes that take none."""


class Page(msgspec.Struct):
    """What a paginated handler returns: one page and whether more follow."""

    items: list[Any]
    next_after: tuple[str, str] | None  # (created_at iso, id) of the last item when more follow


class Extra(msgspec.Struct):
    """A handler result with extra envelope keys (e.g. access_code + action_attempt)."""

    value: Any
    extra: dict[str, Any]


@dataclass(frozen=True)
class Route:
    path: str
    handler: Callable[..., Awaitable[Any]]
    methods: tuple[str, ...]  # "POST" first, then the alias verbs
    params: type[msgspec.Struct] | None
    response_key: str | None
    response_type: Any
    paginated: bool
    auth: Auth
    summary: str
    sandbox_only: bool = False
    test_hook: bool = False  # served only with `serve --test-hooks`
    # Also callable with a client session token (seeing only what the session was granted),
    # from a browser on another origin (CORS); with a publishable key (client session routes).
    client_session: bool = False
    publishable_key: bool = False
    # Answered to a browser of any origin that sends no credential at all (a route with
    # `auth="none"` whose callers have none: Seam Components' telemetry).
    any_origin: bool = False
    # The Struct of the `pagination` object when a route's differs from Seam's usual one.
    pagination: Any = None
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def reads_query(self) -> bool:
        return any(m in ("GET", "DELETE") for m in self.methods)


ROUTES: list[Route] = []


def route(
    path: str,
    *,
    alias: str | tuple[str, ...] | None = None,
    params: type[msgspec.Struct] | None = None,
    response_key: str | None = None,
    response: Any = None,
    paginated: bool = False,
    auth: Auth = "workspace",
    sandbox_only: bool = False,
    test_hook: bool = False,
    client_session: bool = False,
    publishable_key: bool = False,
    any_origin: bool = False,
    pagination: Any = None,
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    aliases = (alias,) if isinstance(alias, str) else tuple(alias or ())

    def decorate(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        ROUTES.append(
            Route(
                path=path,
                handler=fn,
                methods=("POST", *aliases),
                params=params,
                response_key=response_key,
                response_type=response,
                paginated=paginated,
                auth=auth,
                summary=(fn.__doc__ or path).strip().splitlines()[0],
                sandbox_only=sandbox_only,
                test_hook=test_hook,
                client_session=client_session,
                publishable_key=publishable_key,
                any_origin=any_origin,
                pagination=pagination,
                tags=(path.strip("/").split("/")[0],),
            )
        )
        return fn

    return decorate
