"""The fake's two HTTP hosts as Litestar apps: the API host (`/v1/devices...`,
`/history/devices`) and the auth host (`/v1/oauth/authorize`, `/v1/oauth/token`).

Shapes follow the examples in tests/fakes/smartthings/examples/ (SmartThings' docs and the
captured fixtures of pysmartthings and the core SDK); test_fake_matches_the_docs.py replays them.
Errors on the API host use SmartThings' `ErrorResponse`:
`{"requestId", "error": {"code", "message", "details": [...]}}`.
"""

from __future__ import annotations

import base64
import html
import json
import random
import uuid
from typing import Any
from urllib.parse import urlencode

from litestar import Litestar, Request, Response, get, post
from tests.fakes.smartthings.cloud import Cloud
from tests.fakes.smartthings.oauth import Grant, OAuthError
from tests.fakes.smartthings.world import Lock, PendingCommand, iso_ms

MAX_COMMANDS = 10  # guardrail: commands to a device per request

# capability -> command -> argument types (from the capability definitions)
COMMANDS: dict[str, dict[str, list[type]]] = {
    "lock": {"lock": [], "unlock": []},
    "lockCodes": {
        "setCode": [int, str, str],
        "deleteCode": [int],
        "nameSlot": [int, str],
        "reloadAllCodes": [],
        "unlockWithTimeout": [],
    },
    "refresh": {"refresh": []},
}
OPTIONAL_FROM = {("lockCodes", "setCode"): 2}  # codeName may be left out
LOCK_CAPABILITIES = ["lock", "lockCodes", "battery", "refresh"]


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None
               ) -> dict[str, Any]:
    return {"requestId": str(random.randrange(10**18, 10**19)),
            "error": {"code": code, "message": message, "details": details or []}}


def error(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None,
          headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(error_body(code, message, details), status_code=status, headers=headers)


def detail(code: str, target: str, message: str) -> dict[str, Any]:
    return {"code": code, "target": target, "message": message, "details": []}


def device_json(cloud: Cloud, lock: Lock) -> dict[str, Any]:
    world = cloud.world
    network: dict[str, Any] = {
        "networkId": "32",
        "driverId": "0f206d13-508e-4342-9cbb-937e02489141",
        "executingLocally": True,
        "hubId": lock.hub_id,
        "provisioningState": "PROVISIONED",
    }
    if lock.network == "ZWAVE":
        network |= {"networkSecurityLevel": "ZWAVE_S0_LEGACY", "manufacturerId": 297,
                    "productType": 33031, "productId": 2517}
    else:
        network |= {"eui": "000D6F0002FB6E24"}
    return {
        "deviceId": lock.device_id,
        "name": "base-lock",
        "label": lock.label,
        "manufacturerName": "SmartThingsCommunity",
        "presentationId": "7a15b375-294d-37fc-9ebe-000aea7436c8",
        "deviceManufacturerCode": lock.manufacturer_code,
        "locationId": world.location_id,
        "ownerId": world.owner_id,
        "roomId": "68b45114-9af8-4906-8636-b973a6faa271",
        "components": [{
            "id": "main",
            "label": "main",
            "capabilities": [{"id": c, "version": 1} for c in LOCK_CAPABILITIES],
            "categories": [{"name": "SmartLock", "categoryType": "manufacturer"}],
        }],
        "createTime": iso_ms(lock.created_at) if lock.created_at else None,
        "parentDeviceId": lock.hub_id,
        "profile": {"id": "8d99f687-b7d8-3650-b3be-57e13e17883b"},
        lock.network.lower(): network,
        "type": lock.network,
        "restrictionTier": 0,
        "allowed": [],
        "executionContext": "LOCAL",
    }


def hub_json(cloud: Cloud, hub_id: str) -> dict[str, Any]:
    hub = cloud.world.hubs[hub_id]
    return {
        "deviceId": hub.device_id,
        "name": "SmartThings v3 Hub",
        "label": hub.label,
        "manufacturerName": "SmartThingsCommunity",
        "presentationId": "63f1469e-dc4a-3689-8cc5-69e293c1eb21",
        "locationId": cloud.world.location_id,
        "ownerId": cloud.world.owner_id,
        "components": [{"id": "main", "label": "main",
                        "capabilities": [{"id": "bridge", "version": 1}],
                        "categories": [{"name": "Hub", "categoryType": "manufacturer"}]}],
        "profile": {"id": "d77ba2f6-c377-36f5-bb68-15db9d1aa0e1"},
        "type": "HUB",
        "restrictionTier": 0,
        "allowed": [],
        "executionContext": "LOCAL",
    }


def status_json(cloud: Cloud, lock: Lock) -> dict[str, Any]:
    world = cloud.world
    lock_attr = {"value": lock.lock, "data": lock.lock_data,
                 "timestamp": iso_ms(lock.lock_changed_at or world.clock.now())}
    codes_ts = iso_ms(lock.codes_changed_at or world.clock.now())
    return {"components": {"main": {
        "lock": {
            "supportedUnlockDirections": {"value": None},
            "supportedLockValues": {"value": None},
            "lock": lock_attr,
            "supportedLockCommands": {"value": None},
        },
        "refresh": {},
        "battery": {
            "quantity": {"value": None},
            "battery": {"value": lock.battery, "unit": "%", "timestamp": codes_ts},
            "type": {"value": None},
        },
        "lockCodes": {
            "codeLength": {"value": None},
            "maxCodes": {"value": lock.max_codes, "timestamp": codes_ts},
            "maxCodeLength": {"value": lock.max_code_length, "timestamp": codes_ts},
            "codeChanged": lock.code_changed.to_json() if lock.code_changed
            else {"value": None},
            "lock": lock_attr,
            "minCodeLength": {"value": lock.min_code_length, "timestamp": codes_ts},
            "codeReport": {"value": None},
            "scanCodes": {"value": "Complete", "timestamp": codes_ts},
            "lockCodes": {"value": world.lock_codes_json(lock), "timestamp": codes_ts},
        },
    }}}


def validate_commands(lock: Lock, body: Any) -> list[dict[str, Any]]:
    """The 422 details for a command list the API would refuse (empty when it is valid)."""
    if not isinstance(body, dict) or not isinstance(body.get("commands"), list) \
            or not body["commands"]:
        return [detail("NotNullError", "commands", "commands must not be empty")]
    commands = body["commands"]
    if len(commands) > MAX_COMMANDS:
        return [detail("UnprocessableEntityError", "commands",
                       f"commands: size must be between 1 and {MAX_COMMANDS}")]
    problems: list[dict[str, Any]] = []
    for i, cmd in enumerate(commands):
        at = f"commands[{i}]"
        if not isinstance(cmd, dict):
            problems.append(detail("NotValidValue", at, "must be an object"))
            continue
        component = cmd.get("component", "main")
        capability, command = cmd.get("capability"), cmd.get("command")
        if component != "main":
            problems.append(detail("NotValidValue", f"{at}.component",
                                   f"{component} is not a valid value."))
            continue
        if capability not in LOCK_CAPABILITIES or capability not in COMMANDS:
            problems.append(detail("NotValidValue", f"{at}.capability",
                                   f"{capability} is not a valid value."))
            continue
        if command not in COMMANDS[capability]:
            problems.append(detail("NotValidValue", f"{at}.command",
                                   f"{command} is not a valid value."))
            continue
        types = COMMANDS[capability][command]
        args = cmd.get("arguments", [])
        required = OPTIONAL_FROM.get((capability, command), len(types))
        if not isinstance(args, list) or not required <= len(args) <= len(types):
            problems.append(detail("UnprocessableEntityError", f"{at}.arguments",
                                   f"{at}.arguments: expected {len(types)} arguments"))
            continue
        for j, (arg, kind) in enumerate(zip(args, types, strict=False)):
            if kind is int and (isinstance(arg, bool) or not isinstance(arg, int)):
                problems.append(detail("UnprocessableEntityError", f"{at}.arguments[{j}]",
                                       f"{at}.arguments[{j}]: must be an integer"))
            elif kind is int and not 0 <= arg <= 4294967295:
                problems.append(detail("UnprocessableEntityError", f"{at}.arguments[{j}]",
                                       f"{at}.arguments[{j}]: must have a maximum value of "
                                       f"4294967295"))
            elif kind is str and not isinstance(arg, str):
                problems.append(detail("UnprocessableEntityError", f"{at}.arguments[{j}]",
                                       f"{at}.arguments[{j}]: must be a string"))
    return problems


def build_api_app(cloud: Cloud) -> Litestar:
    world = cloud.world

    async def guard(request: Request[Any, Any, Any], scope: str) -> Grant | Response[Any]:
        await cloud.gate()
        cloud.switches.requests.append(f"{request.method} {request.url.path}")
        if cloud.switches.outage:
            return error(503, "ServiceUnavailableError", "Service Unavailable")
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        grant = cloud.oauth.authenticate(token)
        if grant is None:
            return error(401, "UnauthorizedError", "Unauthorized")
        if scope not in grant.scope.split():
            return error(403, "ForbiddenError", "Forbidden", [detail(
                "ForbiddenError", "scope", f"Token does not have the {scope} scope")])
        return grant

    def find(device_id: str) -> Lock | None:
        return world.locks.get(device_id)

    def limited(device_id: str) -> tuple[Response[Any] | None, dict[str, str]]:
        verdict = cloud.limiter.hit(device_id)
        if verdict.allowed:
            return None, verdict.headers()
        message = (f"attempt {verdict.attempt} limit {verdict.limit} - retry in "
                   f"{verdict.reset_ms} millis")
        return error(429, "TooManyRequestError", "Too Many Requests",
                     [{"code": "TooManyRequestError", "message": message, "details": []}],
                     headers=verdict.headers()), {}

    def not_found(device_id: str) -> Response[Any]:
        return error(404, "NotFoundError", f"Device {device_id} not found")

    @get("/v1/devices")
    async def list_devices(request: Request[Any, Any, Any]) -> Response[Any]:
        grant = await guard(request, "r:devices:*")
        if isinstance(grant, Response):
            return grant
        wanted = request.query_params.getall("capability", [])
        with world.mutex:
            items: list[dict[str, Any]] = [hub_json(cloud, h) for h in world.hubs]
            items += [device_json(cloud, lock) for lock in world.locks.values()]
        for cap in wanted:
            items = [d for d in items
                     if any(c["id"] == cap for comp in d["components"]
                            for c in comp["capabilities"])]
        page = int(request.query_params.get("page", "0"))
        size = cloud.switches.page_size
        chunk = items[page * size:(page + 1) * size]
        links: dict[str, Any] = {}
        if (page + 1) * size < len(items):
            query = urlencode([("capability", c) for c in wanted] + [("page", page + 1)])
            links["next"] = {"href": f"{cloud.url}/v1/devices?{query}"}
        return Response({"items": chunk, "_links": links})

    @get("/v1/devices/{device_id:str}")
    async def get_device(request: Request[Any, Any, Any]) -> Response[Any]:
        device_id = request.path_params["device_id"]
        grant = await guard(request, "r:devices:*")
        if isinstance(grant, Response):
            return grant
        if device_id in world.hubs:
            return Response(hub_json(cloud, device_id))
        lock = find(device_id)
        return Response(device_json(cloud, lock)) if lock else not_found(device_id)

    @get("/v1/devices/{device_id:str}/status")
    async def get_status(request: Request[Any, Any, Any]) -> Response[Any]:
        device_id = request.path_params["device_id"]
        grant = await guard(request, "r:devices:*")
        if isinstance(grant, Response):
            return grant
        lock = find(device_id)
        if lock is None:
            return not_found(device_id)
        refused, headers = limited(device_id)
        if refused:
            return refused
        with world.mutex:
            return Response(status_json(cloud, lock), headers=headers)

    @get("/v1/devices/{device_id:str}/health")
    async def get_health(request: Request[Any, Any, Any]) -> Response[Any]:
        device_id = request.path_params["device_id"]
        grant = await guard(request, "r:devices:*")
        if isinstance(grant, Response):
            return grant
        with world.mutex:
            if device_id in world.hubs:
                hub = world.hubs[device_id]
                online, changed = hub.online, hub.changed_at
            elif (lock := find(device_id)) is not None:
                # A hub that drops off takes its locks with it.
                online = world.reachable(lock)
                hub = world.hub_of(lock)
                changed = max(c for c in (lock.health_changed_at, hub.changed_at) if c)
            else:
                return not_found(device_id)
        return Response({"deviceId": device_id, "state": "ONLINE" if online else "OFFLINE",
                         "lastUpdatedDate": iso_ms(changed or world.clock.now())})

    @post("/v1/devices/{device_id:str}/commands")
    async def post_commands(request: Request[Any, Any, Any]) -> Response[Any]:
        device_id = request.path_params["device_id"]
        grant = await guard(request, "x:devices:*")
        if isinstance(grant, Response):
            return grant
        lock = find(device_id)
        if lock is None:
            return not_found(device_id)
        refused, headers = limited(device_id)
        if refused:
            return refused
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            return error(400, "BadRequestError", "The request is malformed.")
        problems = validate_commands(lock, body)
        if problems:
            return error(422, "ConstraintViolationError", "The request is malformed.",
                         problems, headers=headers)
        results = []
        for cmd in body["commands"]:
            world.enqueue(PendingCommand(device_id, cmd["capability"], cmd["command"],
                                         list(cmd.get("arguments", []))))
            results.append({"id": str(uuid.uuid4()), "status": "ACCEPTED"})
        cloud.schedule_delivery()
        return Response({"results": results}, status_code=200, headers=headers)

    @get("/history/devices")
    async def history(request: Request[Any, Any, Any]) -> Response[Any]:
        grant = await guard(request, "r:devices:*")
        if isinstance(grant, Response):
            return grant
        params = request.query_params
        device_ids = params.getall("deviceId", [])
        limit = min(int(params.get("limit", "20")), 200)
        oldest_first = params.get("oldestFirst", "false") == "true"
        after = params.get("pagingAfterEpoch") or params.get("after")
        before = params.get("pagingBeforeEpoch") or params.get("before")
        with world.mutex:
            rows = [r for r in world.history if not device_ids or r["deviceId"] in device_ids]
        if after:
            rows = [r for r in rows if r["epoch"] > int(after)]
        if before:
            rows = [r for r in rows if r["epoch"] < int(before)]
        if not oldest_first:
            rows = rows[::-1]
        page, more = rows[:limit], len(rows) > limit
        links: dict[str, Any] = {}
        if more:
            last = page[-1]
            key = "pagingAfter" if oldest_first else "pagingBefore"
            query = urlencode([(f"{key}Epoch", last["epoch"]), (f"{key}Hash", last["hash"]),
                               ("limit", limit), ("oldestFirst", str(oldest_first).lower())]
                              + [("deviceId", d) for d in device_ids])
            links["next"] = {"href": f"{cloud.url}/history/devices?{query}"}
        return Response({"items": page, "_links": links})

    return Litestar([list_devices, get_device, get_status, get_health, post_commands, history],
                    debug=False)


AUTHORIZE_PAGE = """<!doctype html><title>Samsung account</title>
<h1>Sign in to allow access to SmartThings</h1>{error}
<form method="post" action="/v1/oauth/authorize">
{hidden}
<label>Email <input name="email"></label>
<label>Password <input name="password" type="password"></label>
<button>Authorize</button></form>"""

OAUTH_FIELDS = ("client_id", "redirect_uri", "response_type", "scope", "state")


def build_auth_app(cloud: Cloud) -> Litestar:
    oauth = cloud.oauth

    def page(params: dict[str, str], message: str = "") -> Response[Any]:
        hidden = "\n".join(f'<input type="hidden" name="{k}" value="{html.escape(params.get(k, ""))}">'
                           for k in OAUTH_FIELDS)
        err = f'<p class="error">{html.escape(message)}</p>' if message else ""
        return Response(AUTHORIZE_PAGE.format(hidden=hidden, error=err), status_code=200,
                        media_type="text/html")

    def oauth_error(exc: OAuthError) -> Response[Any]:
        return Response({"error": exc.error, "error_description": exc.description},
                        status_code=exc.status)

    @get("/v1/oauth/authorize")
    async def authorize_page(request: Request[Any, Any, Any]) -> Response[Any]:
        await cloud.gate()
        params = {k: request.query_params.get(k, "") for k in OAUTH_FIELDS}
        try:
            oauth.check_authorize(params["client_id"], params["redirect_uri"],
                                  params["response_type"])
        except OAuthError as exc:
            return oauth_error(exc)
        return page(params)

    @post("/v1/oauth/authorize")
    async def authorize(request: Request[Any, Any, Any]) -> Response[Any]:
        """The user signs in and allows the app: back to the app's redirect URI with a code."""
        await cloud.gate()
        form = dict(await request.form())
        params = {k: str(form.get(k, "")) for k in OAUTH_FIELDS}
        try:
            oauth.check_authorize(params["client_id"], params["redirect_uri"],
                                  params["response_type"])
        except OAuthError as exc:
            return oauth_error(exc)
        email = str(form.get("email", ""))
        if not oauth.sign_in(email, str(form.get("password", ""))):
            return page(params, "The email or password is incorrect.")
        code = oauth.issue_code(params["client_id"], email, params["redirect_uri"],
                                params["scope"] or "r:devices:* x:devices:*")
        sep = "&" if "?" in params["redirect_uri"] else "?"
        query = urlencode({"code": code, "state": params["state"]})
        return Response(None, status_code=302,
                        headers={"Location": f"{params['redirect_uri']}{sep}{query}"})

    @post("/v1/oauth/token")
    async def token(request: Request[Any, Any, Any]) -> Response[Any]:
        await cloud.gate()
        if cloud.switches.outage:
            return error(503, "ServiceUnavailableError", "Service Unavailable")
        basic = None
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                basic = (user, password)
            except ValueError:
                basic = None
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            return Response(oauth.token(basic, form), status_code=200,
                            media_type="application/json;charset=UTF-8")
        except OAuthError as exc:
            return oauth_error(exc)

    return Litestar([authorize_page, authorize, token], debug=False)
