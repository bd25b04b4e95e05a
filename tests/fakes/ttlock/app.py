"""The fake TTLock Open Platform as a plain ASGI app: `POST /oauth2/token` and the `/v3/...`
calls lockhub uses, form-encoded in, JSON out, errors as HTTP 200 with `errcode`/`errmsg`.

Parameters are read from the query string and the form body alike (the real cloud accepts
both; hass-ttlock sends the auth fields in the query string). Every v3 call checks
`clientId`, `accessToken` and `date` (within five minutes of the fake's clock, else 80000)
before anything else. Gateway commands claim the lock's gateway for their whole duration, so
a second command on the same gateway answers -3003 meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.ttlock import errors
from tests.fakes.ttlock.callbacks import Pusher
from tests.fakes.ttlock.errors import TTLockError
from tests.fakes.ttlock.gate import Gate
from tests.fakes.ttlock.world import (
    FEATURE_LOCK_REMOTELY,
    FEATURE_UNLOCK_VIA_GATEWAY,
    RECORD_GATEWAY_UNLOCK,
    RECORD_LOCK_BY_APP,
    Lock,
    Record,
    World,
)

DATE_TOLERANCE_MS = 5 * 60 * 1000
Params = dict[str, str]
Handler = Callable[["TTLockApp", Params], Awaitable[dict[str, Any]]]
ROUTES: dict[str, Handler] = {}


def route(path: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES[path] = handler
        return handler
    return register


def integer(params: Params, name: str, default: int | None = None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        if default is None:
            raise TTLockError(errors.INVALID_PARAMETER)
        return default
    try:
        return int(raw)
    except ValueError:
        raise TTLockError(errors.INVALID_PARAMETER) from None


def page(items: list[dict[str, Any]], params: Params, max_size: int = 100) -> dict[str, Any]:
    number, size = integer(params, "pageNo"), integer(params, "pageSize")
    if number < 1 or not 1 <= size <= max_size:
        raise TTLockError(errors.INVALID_PARAMETER)
    chunk = items[(number - 1) * size:number * size]
    return {"list": chunk, "pageNo": number, "pageSize": size,
            "pages": math.ceil(len(items) / size), "total": len(items)}


class TTLockApp:
    def __init__(self, world: World, loop: asyncio.AbstractEventLoop, pusher: Pusher) -> None:
        self.world = world
        self.pusher = pusher
        self.outage = False  # every request answers 503, as when the cloud is down
        self.slow = Gate(loop)  # holds every request on arrival
        self.gateway = Gate(loop)  # holds gateway commands while they hold their gateway
        self.pushes: set[asyncio.Task[None]] = set()  # callbacks under way (kept referenced)

    def push_soon(self, lock: Lock, records: list[Record]) -> None:
        task = asyncio.get_running_loop().create_task(self.pusher.push_async(lock, records))
        self.pushes.add(task)
        task.add_done_callback(self.pushes.discard)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        params = dict(parse_qsl(scope.get("query_string", b"").decode()))
        params.update(parse_qsl(body.decode()))
        await self.slow.passage()
        self.world.calls.append(scope["path"])
        if self.outage:
            await respond(send, 503, b"<html><body>503 Service Unavailable</body></html>",
                          "text/html")
            return
        handler = ROUTES.get(scope["path"])
        if handler is None or scope["method"] not in ("POST", "GET"):
            await respond(send, 404, b"<html><body>404 Not Found</body></html>", "text/html")
            return
        try:
            answer = await handler(self, params)
        except TTLockError as exc:
            answer = exc.envelope()
        await respond(send, 200, json.dumps(answer).encode(), "application/json")

    def account(self, params: Params) -> str:
        """The username behind a v3 call, after the checks every call gets."""
        world = self.world
        client_id = params.get("clientId", "")
        if client_id not in world.apps:
            raise TTLockError(errors.INVALID_CLIENT_ID)
        username = world.token_owner(client_id, params.get("accessToken", ""))
        date = integer(params, "date")
        if abs(date - world.now_ms()) > DATE_TOLERANCE_MS:
            raise TTLockError(errors.DATE_NOT_CURRENT)
        if world.quota_exceeded:
            raise TTLockError(errors.CALL_LIMIT)
        return username


async def respond(send: Any, status: int, body: bytes, content_type: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


# --- OAuth2 -----------------------------------------------------------------------------


@route("/oauth2/token")
async def token(app: TTLockApp, params: Params) -> dict[str, Any]:
    world = app.world
    client = world.apps.get(params.get("client_id", ""))
    if client is None:
        raise TTLockError(errors.INVALID_CLIENT_ID)
    if params.get("client_secret") != client.client_secret:
        raise TTLockError(errors.INVALID_CLIENT)
    grant = params.get("grant_type", "password")
    if grant == "refresh_token":
        owner = world.refresh_tokens.pop(params.get("refresh_token", ""), None)
        if owner is None or owner[0] != client.client_id:
            raise TTLockError(errors.INVALID_REFRESH_TOKEN)
        access, refresh = world.issue_tokens(client.client_id, owner[1])
        return {"access_token": access, "refresh_token": refresh,
                "openid": world.accounts[owner[1]].uid, "scope": "user,key,room",
                "token_type": "Bearer", "expires_in": world.token_lifetime_s}
    if grant != "password":
        raise TTLockError(errors.UNSUPPORTED_GRANT_TYPE)
    username = params.get("username", "")
    account = world.accounts.get(username)
    if account is None or params.get("password") != account.password_md5:
        raise TTLockError(errors.INVALID_ACCOUNT)
    if not client.reviewed and username not in client.test_usernames:
        raise TTLockError(errors.UNREVIEWED_APP)
    access, refresh = world.issue_tokens(client.client_id, username)
    return {"access_token": access, "uid": account.uid, "openid": account.uid,
            "refresh_token": refresh, "scope": "user,key,room", "token_type": "Bearer",
            "expires_in": world.token_lifetime_s}


# --- locks ------------------------------------------------------------------------------


@route("/v3/lock/list")
async def lock_list(app: TTLockApp, params: Params) -> dict[str, Any]:
    username = app.account(params)
    locks = [lock.listed() for lock in app.world.locks.values() if lock.owner == username]
    return page(locks, params, max_size=10_000)


@route("/v3/lock/detail")
async def lock_detail(app: TTLockApp, params: Params) -> dict[str, Any]:
    username = app.account(params)
    return app.world.owned_lock(username, integer(params, "lockId")).detail()


async def through_gateway(app: TTLockApp, params: Params, feature: int | None,
                          change: Callable[[str], Any]) -> Any:
    """Run `change(username)` as a command the gateway carries to the lock."""
    username = app.account(params)
    lock = app.world.owned_lock(username, integer(params, "lockId"))
    if feature is not None and not lock.features & feature:
        raise TTLockError(errors.NOT_SUPPORTED)
    gateway = app.world.claim_gateway(lock)
    try:
        await app.gateway.passage()
        return change(username)
    finally:
        app.world.free_gateway(gateway)


@route("/v3/lock/queryOpenState")
async def query_open_state(app: TTLockApp, params: Params) -> dict[str, Any]:
    lock_id = integer(params, "lockId")
    locked = await through_gateway(app, params, None,
                                   lambda _user: app.world.locks[lock_id].locked)
    return {"state": 0 if locked else 1}


async def operate(app: TTLockApp, params: Params, locked: bool) -> dict[str, Any]:
    lock_id = integer(params, "lockId")
    world = app.world

    def change(username: str) -> None:
        lock = world.locks[lock_id]
        lock.locked = locked
        entry = world.record(lock, RECORD_LOCK_BY_APP if locked else RECORD_GATEWAY_UNLOCK,
                             username=username)
        app.push_soon(lock, [entry])

    feature = FEATURE_LOCK_REMOTELY if locked else FEATURE_UNLOCK_VIA_GATEWAY
    await through_gateway(app, params, feature, change)
    return errors.success()


@route("/v3/lock/lock")
async def lock_lock(app: TTLockApp, params: Params) -> dict[str, Any]:
    return await operate(app, params, locked=True)


@route("/v3/lock/unlock")
async def lock_unlock(app: TTLockApp, params: Params) -> dict[str, Any]:
    return await operate(app, params, locked=False)


# --- passcodes --------------------------------------------------------------------------


@route("/v3/keyboardPwd/add")
async def passcode_add(app: TTLockApp, params: Params) -> dict[str, Any]:
    world = app.world
    username = app.account(params)
    lock = world.owned_lock(username, integer(params, "lockId"))
    code, name = params.get("keyboardPwd", ""), params.get("keyboardPwdName", "")
    start, end = integer(params, "startDate"), integer(params, "endDate")
    add_type = integer(params, "addType", default=1)
    if add_type == 1:  # the app SDK writes it over Bluetooth; the cloud only records it
        passcode = world.add_custom_passcode(lock, code, name, start, end, username,
                                             on_lock=False)
    elif add_type == 2:
        passcode = await through_gateway(
            app, params, None,
            lambda user: world.add_custom_passcode(lock, code, name, start, end, user,
                                                   on_lock=True))
    else:  # NB-IoT locks are not modelled
        raise TTLockError(errors.NOT_SUPPORTED)
    return {"keyboardPwdId": passcode.keyboard_pwd_id}


@route("/v3/keyboardPwd/delete")
async def passcode_delete(app: TTLockApp, params: Params) -> dict[str, Any]:
    world = app.world
    username = app.account(params)
    lock = world.owned_lock(username, integer(params, "lockId"))
    passcode_id = integer(params, "keyboardPwdId")
    if integer(params, "deleteType", default=1) == 2:
        await through_gateway(app, params, None,
                              lambda _user: world.delete_passcode(lock, passcode_id))
    else:
        world.delete_passcode(lock, passcode_id)
    return errors.success()


@route("/v3/keyboardPwd/get")
async def passcode_get(app: TTLockApp, params: Params) -> dict[str, Any]:
    world = app.world
    username = app.account(params)
    lock = world.owned_lock(username, integer(params, "lockId"))
    if integer(params, "keyboardPwdVersion") not in (1, 2, 3, 4):
        raise TTLockError(errors.INVALID_KEYBOARD_PWD_VERSION)
    passcode = world.generate_passcode(
        lock, integer(params, "keyboardPwdType"), integer(params, "startDate", default=0),
        integer(params, "endDate", default=0), params.get("keyboardPwdName", ""), username)
    return {"keyboardPwd": passcode.code, "keyboardPwdId": passcode.keyboard_pwd_id}


@route("/v3/lock/listKeyboardPwd")
async def passcode_list(app: TTLockApp, params: Params) -> dict[str, Any]:
    username = app.account(params)
    lock = app.world.owned_lock(username, integer(params, "lockId"))
    now = app.world.now_ms()
    for passcode in lock.passcodes.values():
        if passcode.end_ms and passcode.end_ms <= now and passcode.type != 2:
            passcode.status = 2
    return page([p.served() for p in lock.passcodes.values()], params)


# --- records ----------------------------------------------------------------------------


@route("/v3/lockRecord/list")
async def record_list(app: TTLockApp, params: Params) -> dict[str, Any]:
    username = app.account(params)
    lock = app.world.owned_lock(username, integer(params, "lockId"))
    since, until = integer(params, "startDate", default=0), integer(params, "endDate", default=0)
    records = [r.served() for r in reversed(lock.records)
               if (not since or r.lock_date >= since) and (not until or r.lock_date <= until)]
    return page(records, params)
