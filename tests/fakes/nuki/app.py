"""The HTTP surface of the fake Nuki Web API: Nuki's paths, JSON shapes and error bodies.

Two error shapes, as the real API answers them:
- parameter errors: `{"detailMessage": "The supplied value '13' for parameter 'type' is not
  valid", "stackTrace": [], "suppressedExceptions": []}` (developer.nuki.io/t/16794), status 400
  (409 for a code the lock already has);
- HTTP-level errors from its Restlet server: `{"code": 422, "description": ..., "reasonPhrase":
  "Unprocessable Entity", "uri": ..., "homeRef": "/"}` (developer.nuki.io/t/35593) for 401, 403,
  404, 405, 422, 429 and 503.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.nuki import world as w
from tests.fakes.nuki.webhooks import FEATURES, Webhooks

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]

RESTLET = {
    401: ("Unauthorized", "The request requires user authentication",
          "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.2"),
    403: ("Forbidden", "The server understood the request, but is refusing to fulfill it",
          "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.4"),
    404: ("Not Found", "The server has not found anything matching the request URI",
          "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.5"),
    405: ("Method Not Allowed", "The method specified in the request is not allowed for the resource identified by the request URI",
          "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.6"),
    422: ("Unprocessable Entity", "The server understands the content type of the request entity and the syntax of the request entity is correct but was unable to process the contained instructions",
          "http://www.webdav.org/specs/rfc2518.html#STATUS_422"),
    429: ("Too Many Requests", "The user has sent too many requests in a given amount of time",
          "https://tools.ietf.org/html/rfc6585#section-4"),
    503: ("Service Unavailable", "The server is currently unable to handle the request due to a temporary overloading or maintenance of the server",
          "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.4"),
}


class HttpError(Exception):
    def __init__(self, status: int, body: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body if body is not None else restlet(status)
        self.headers = headers or {}


def restlet(status: int) -> dict[str, Any]:
    reason, description, uri = RESTLET[status]
    return {"code": status, "description": description, "reasonPhrase": reason, "uri": uri,
            "homeRef": "/"}


def bad_parameter(name: str, value: Any, status: int = 400) -> HttpError:
    return HttpError(status, {
        "detailMessage": f"The supplied value '{value}' for parameter '{name}' is not valid",
        "stackTrace": [], "suppressedExceptions": []})


@dataclass
class Switches:
    """Failure modes a test turns on (see NukiCloud)."""

    outage_status: int | None = None
    rate_limited: int = 0  # answer the next N requests with 429
    retry_after: int | None = None
    held: threading.Event = field(default_factory=threading.Event)  # set: answer at once
    waiting: int = 0  # requests currently held
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self.held.set()


@dataclass
class Seen:
    method: str
    path: str
    query: str
    authorization: str | None
    body: Any


ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile(f"^{p}$"), h) for m, p, h in [
        ("GET", r"/account", "get_account"),
        ("GET", r"/smartlock", "list_smartlocks"),
        ("GET", r"/smartlock/(?P<sl>\d+)", "get_smartlock"),
        ("POST", r"/smartlock/(?P<sl>\d+)/action", "action"),
        ("POST", r"/smartlock/(?P<sl>\d+)/action/(?P<verb>lock|unlock)", "action_verb"),
        ("GET", r"/smartlock/(?P<sl>\d+)/auth", "list_auths"),
        ("PUT", r"/smartlock/(?P<sl>\d+)/auth", "create_auth"),
        ("GET", r"/smartlock/(?P<sl>\d+)/auth/(?P<auth>[0-9a-f]+)", "get_auth"),
        ("POST", r"/smartlock/(?P<sl>\d+)/auth/(?P<auth>[0-9a-f]+)", "update_auth"),
        ("DELETE", r"/smartlock/(?P<sl>\d+)/auth/(?P<auth>[0-9a-f]+)", "delete_auth"),
        ("GET", r"/smartlock/(?P<sl>\d+)/log", "list_log"),
        ("GET", r"/api/decentralWebhook", "list_webhooks"),
        ("PUT", r"/api/decentralWebhook", "create_webhook"),
        ("DELETE", r"/api/decentralWebhook/(?P<hook>\d+)", "delete_webhook"),
    ]
]


class NukiApp:
    """A plain ASGI app; the world and switches are shared with the test thread."""

    def __init__(self, world: w.World, webhooks: Webhooks, switches: Switches,
                 *, insecure_webhooks: bool = False) -> None:
        self.world = world
        self.webhooks = webhooks
        self.switches = switches
        self.insecure_webhooks = insecure_webhooks
        self.seen: list[Seen] = []

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                pass
            return
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            status, body, headers = await self._handle(scope, raw)
        except HttpError as exc:
            status, body, headers = exc.status, exc.body, exc.headers
        payload = b"" if body is None else json.dumps(body).encode()
        head = [(b"content-type", b"application/json")] if body is not None else []
        head += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": head})
        await send({"type": "http.response.body", "body": payload})

    async def _handle(self, scope: dict[str, Any], raw: bytes) -> tuple[int, Any, dict[str, str]]:
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
        self.seen.append(Seen(scope["method"], scope["path"], scope["query_string"].decode(),
                              headers.get("authorization"), body))
        sw = self.switches
        if not sw.held.is_set():  # the slow-answer switch: wait (off the loop) until released
            with sw.arrived:
                sw.waiting += 1
                sw.arrived.notify_all()
            try:
                await asyncio.to_thread(sw.held.wait, 30)
            finally:
                sw.waiting -= 1
        if sw.outage_status is not None:
            raise HttpError(sw.outage_status,
                            restlet(sw.outage_status) if sw.outage_status in RESTLET else {})
        if sw.rate_limited > 0:
            sw.rate_limited -= 1
            extra = {"Retry-After": str(sw.retry_after)} if sw.retry_after is not None else {}
            raise HttpError(429, headers=extra)
        token = headers.get("authorization", "")
        with self.world.guard:
            account = None
            if token.startswith("Bearer "):
                account = self.world.account_for_token(token[len("Bearer "):].strip())
            if account is None:
                raise HttpError(401)
            method, path = scope["method"], scope["path"].rstrip("/") or "/"
            allowed = False
            for route_method, pattern, handler in ROUTES:
                match = pattern.match(path)
                if not match:
                    continue
                allowed = True
                if route_method == method:
                    query = {k: v[-1] for k, v in parse_qs(scope["query_string"].decode()).items()}
                    return getattr(self, handler)(account, body, query, **match.groupdict())
            raise HttpError(405 if allowed else 404)

    # --- helpers -----------------------------------------------------------------------------

    def _lock(self, account: w.Account, sl: str) -> w.Smartlock:
        lock = self.world.lock_of(account, int(sl))
        if lock is None:
            raise HttpError(404)
        return lock

    @staticmethod
    def _object(body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise HttpError(400, {"detailMessage": "The request body is not a valid JSON object",
                                  "stackTrace": [], "suppressedExceptions": []})
        return body

    # --- account and smart locks -------------------------------------------------------------

    def get_account(self, account: w.Account, body: Any, query: dict[str, str]) -> Any:
        return 200, {"accountId": account.account_id, "type": 0, "email": account.email,
                     "name": account.name, "language": "en", "emailVerified": True,
                     "config": {"use2fa": False}, "creationDate": "2024-01-01T00:00:00.000Z",
                     "updateDate": "2024-01-01T00:00:00.000Z"}, {}

    def list_smartlocks(self, account: w.Account, body: Any, query: dict[str, str]) -> Any:
        locks = [lock.to_json() for lock in self.world.locks.values()
                 if lock.account_id == account.account_id]
        return 200, locks, {}

    def get_smartlock(self, account: w.Account, body: Any, query: dict[str, str], sl: str) -> Any:
        return 200, self._lock(account, sl).to_json(), {}

    def action(self, account: w.Account, body: Any, query: dict[str, str], sl: str) -> Any:
        lock = self._lock(account, sl)
        data = self._object(body)
        action = data.get("action")
        if action not in (1, 2, 3, 4, 5) or isinstance(action, bool):
            raise bad_parameter("action", action)
        return self._accept_action(lock, w.ACTION_UNLATCH if action in (3, 5) else (
            w.ACTION_LOCK if action in (2, 4) else w.ACTION_UNLOCK))

    def action_verb(self, account: w.Account, body: Any, query: dict[str, str], sl: str,
                    verb: str) -> Any:
        lock = self._lock(account, sl)
        return self._accept_action(lock, w.ACTION_LOCK if verb == "lock" else w.ACTION_UNLOCK)

    def _accept_action(self, lock: w.Smartlock, action: int) -> Any:
        self.world.accept(lock.smartlock_id, f"action:{action}",
                          lambda: self.world.move_bolt(lock, action, w.TRIGGER_WEB))
        return 204, None, {}

    # --- keypad codes (auths) ----------------------------------------------------------------

    def list_auths(self, account: w.Account, body: Any, query: dict[str, str], sl: str) -> Any:
        lock = self._lock(account, sl)
        types = query.get("types")
        if types is not None and str(w.KEYPAD_CODE) not in types.split(","):
            return 200, [], {}
        return 200, [a.to_json() for a in lock.auths.values()], {}

    def get_auth(self, account: w.Account, body: Any, query: dict[str, str], sl: str,
                 auth: str) -> Any:
        found = self._lock(account, sl).auths.get(auth)
        if found is None:
            raise HttpError(404)
        return 200, found.to_json(), {}

    def create_auth(self, account: w.Account, body: Any, query: dict[str, str], sl: str) -> Any:
        lock = self._lock(account, sl)
        data = self._object(body)
        kind = data.get("type", 0)
        if "code" in data and kind != w.KEYPAD_CODE:
            raise bad_parameter("code", data["code"])
        if kind != w.KEYPAD_CODE or not lock.keypad_paired:
            raise bad_parameter("type", kind)
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad_parameter("name", name)
        fields = self._auth_fields(lock, data, creating=True)
        if len(lock.auths) + len(self.world.pending_codes(lock.smartlock_id)) >= lock.keypad_capacity:
            raise HttpError(400, {"detailMessage": "The maximum number of keypad codes is reached",
                                  "stackTrace": [], "suppressedExceptions": []})
        remote = bool(data.get("remoteAllowed", False))

        def apply() -> None:
            auth = self.world.new_auth(lock, name=name, remote_allowed=remote, **fields)
            lock.auths[auth.id] = auth
            self.world.auths_changed(lock, auth)

        self.world.accept(lock.smartlock_id, f"add-code:{fields['code']}", apply)
        return 204, None, {}

    def update_auth(self, account: w.Account, body: Any, query: dict[str, str], sl: str,
                    auth: str) -> Any:
        lock = self._lock(account, sl)
        found = lock.auths.get(auth)
        if found is None:
            raise HttpError(404)
        data = self._object(body)
        fields = self._auth_fields(lock, data, creating=False, current=found)
        if "name" in data:
            if not isinstance(data["name"], str) or not data["name"].strip():
                raise bad_parameter("name", data["name"])
            fields["name"] = data["name"]
        for key in ("enabled", "enable"):  # Nuki's own PIN example disables with "enable"
            if key in data:
                fields["enabled"] = bool(data[key])

        def apply() -> None:
            for key, value in fields.items():
                setattr(found, key, value)
            found.updated = self.world.now()
            self.world.auths_changed(lock, found)

        self.world.accept(lock.smartlock_id, f"update-code:{auth}", apply)
        return 204, None, {}

    def delete_auth(self, account: w.Account, body: Any, query: dict[str, str], sl: str,
                    auth: str) -> Any:
        lock = self._lock(account, sl)
        found = lock.auths.get(auth)
        if found is None:
            raise HttpError(404)

        def apply() -> None:
            if lock.auths.pop(auth, None) is not None:
                self.world.auths_changed(lock, found, deleted=True)

        self.world.accept(lock.smartlock_id, f"delete-code:{auth}", apply)
        return 204, None, {}

    def _auth_fields(self, lock: w.Smartlock, data: dict[str, Any], *, creating: bool,
                     current: w.KeypadAuth | None = None) -> dict[str, Any]:
        """Validate what Nuki validates; only keys present in the body are returned (null clears)."""
        fields: dict[str, Any] = {}
        name = data.get("name")
        if isinstance(name, str) and len(name) > 20:  # keypad code names: at most 20 characters
            raise HttpError(422)
        if creating or "code" in data:
            code = data.get("code")
            text = str(code) if isinstance(code, int | str) and not isinstance(code, bool) else ""
            if not re.fullmatch(r"[1-9]{6}", text) or text.startswith("12"):
                raise bad_parameter("code", code)
            taken = {a.code for a in lock.auths.values() if a is not current}
            taken |= set(self.world.pending_codes(lock.smartlock_id))
            if int(text) in taken:
                raise bad_parameter("code", code, status=409)
            fields["code"] = int(text)
        for key, attr in (("allowedFromDate", "allowed_from"), ("allowedUntilDate", "allowed_until")):
            if key in data:
                fields[attr] = None if data[key] is None else self._date(key, data[key])
        for key, attr, top in (("allowedWeekDays", "weekdays", 127),
                               ("allowedFromTime", "from_time", 1439),
                               ("allowedUntilTime", "until_time", 1440)):
            if key in data:
                value = data[key]
                if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                          or not 0 <= value <= top):
                    raise bad_parameter(key, value)
                fields[attr] = value
        start = fields.get("allowed_from", current.allowed_from if current else None)
        end = fields.get("allowed_until", current.allowed_until if current else None)
        if start and end and end <= start:
            raise bad_parameter("allowedUntilDate", data.get("allowedUntilDate"))
        return fields

    @staticmethod
    def _date(key: str, value: Any) -> datetime:
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
                if parsed.tzinfo is not None:
                    return parsed
            except ValueError:
                pass
        raise bad_parameter(key, value)

    # --- log ---------------------------------------------------------------------------------

    def list_log(self, account: w.Account, body: Any, query: dict[str, str], sl: str) -> Any:
        lock = self._lock(account, sl)
        entries = list(reversed(self.world.logs.get(lock.smartlock_id, [])))  # newest first
        try:
            limit = int(query.get("limit", "20"))
        except ValueError:
            raise bad_parameter("limit", query["limit"]) from None
        if not 1 <= limit <= 50:
            raise bad_parameter("limit", limit)
        if "id" in query:  # "filter for older logs": entries after the one with this id
            ids = [e["id"] for e in entries]
            entries = entries[ids.index(query["id"]) + 1:] if query["id"] in ids else []
        for key, keep in (("fromDate", lambda e, d: self._date("date", e["date"]) >= d),
                          ("toDate", lambda e, d: self._date("date", e["date"]) < d)):
            if key in query:
                bound = self._date(key, query[key])
                entries = [e for e in entries if keep(e, bound)]
        if "action" in query:
            entries = [e for e in entries if str(e["action"]) == query["action"]]
        if "authId" in query:
            entries = [e for e in entries if e.get("authId") == query["authId"]]
        return 200, entries[:limit], {}

    # --- decentral webhooks (Advanced API) ---------------------------------------------------

    def _advanced(self, account: w.Account) -> None:
        if not account.advanced_api:
            raise HttpError(403)

    def list_webhooks(self, account: w.Account, body: Any, query: dict[str, str]) -> Any:
        self._advanced(account)
        return 200, [h.to_json() for h in self.webhooks.of_account(account.account_id)], {}

    def create_webhook(self, account: w.Account, body: Any, query: dict[str, str]) -> Any:
        self._advanced(account)
        data = self._object(body)
        url = data.get("webhookUrl")
        schemes = ("https://", "http://") if self.insecure_webhooks else ("https://",)
        if not isinstance(url, str) or not url.startswith(schemes):
            raise bad_parameter("webhookUrl", url)
        features = data.get("webhookFeatures")
        if (not isinstance(features, list) or not features
                or any(f not in FEATURES for f in features)):
            raise bad_parameter("webhookFeatures", features)
        hook = self.webhooks.register(account.account_id, url, features)
        return 200, hook.to_json(with_secret=True), {}

    def delete_webhook(self, account: w.Account, body: Any, query: dict[str, str],
                       hook: str) -> Any:
        self._advanced(account)
        found = self.webhooks.hooks.get(int(hook))
        if found is None or found.account_id != account.account_id:
            raise HttpError(404)
        del self.webhooks.hooks[found.id]
        return 204, None, {}
