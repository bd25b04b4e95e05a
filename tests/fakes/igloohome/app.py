"""The fake igloohome cloud as a plain ASGI app: the OAuth token host and the
`/igloohome` device API on one server, plus the switches tests flip (outage, throttling, held
answers).

Error bodies follow the hosts igloohome runs on: Cognito's `{"error": ...}` for the token host,
API Gateway's `{"message": ...}` for the API (401 Unauthorized / token expired, 403 Forbidden for
a missing scope, 403 "Missing Authentication Token" for an unknown route, 429 Too Many Requests,
503 Service Unavailable).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.igloohome import algopin
from tests.fakes.igloohome.jobs import SCOPES as JOB_SCOPES
from tests.fakes.igloohome.jobs import JobError, JobQueue
from tests.fakes.igloohome.tokens import TokenIssuer
from tests.fakes.igloohome.world import MAX_PINS_PER_LOCK, World

Reply = tuple[int, dict]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]

DEVICES_PAGE_SIZE = 50


@dataclass
class Switches:
    """What tests turn on and off. Read by the server thread, set by the test thread."""

    outage: bool = False  # every request answers 503
    throttle: int = 0  # the next n API requests answer 429
    retry_after: str | None = None  # sent with those 429s when set
    hold: bool = False  # answers wait until released (a slow cloud)
    held: int = 0  # requests waiting right now
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeIgloohomeApp:
    def __init__(self, world: World, tokens: TokenIssuer, jobs: JobQueue) -> None:
        self.world = world
        self.tokens = tokens
        self.jobs = jobs
        self.switches = Switches()
        self.page_size = DEVICES_PAGE_SIZE
        self.released: asyncio.Event | None = None  # created on the server's loop
        self.loop: asyncio.AbstractEventLoop | None = None
        self.algopin_secrets: dict[str, str] = {}

    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                if message["type"] == "lifespan.startup":
                    self.loop = asyncio.get_running_loop()
                    self.released = asyncio.Event()
                    await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        status, payload, extra = await self._answer(scope["method"], scope["path"],
                                                    scope.get("query_string", b"").decode(),
                                                    headers, body)
        raw = json.dumps(payload).encode()
        response_headers = [(b"content-type", b"application/json"),
                            (b"content-length", str(len(raw)).encode()), *extra]
        await send({"type": "http.response.start", "status": status,
                    "headers": response_headers})
        await send({"type": "http.response.body", "body": raw})

    async def _answer(self, method: str, path: str, query: str, headers: dict[str, str],
                      body: bytes) -> tuple[int, dict, list[tuple[bytes, bytes]]]:
        sw = self.switches
        with sw.lock:
            sw.requests.append((method, path))
            hold = sw.hold
        if hold and self.released is not None:
            with sw.lock:
                sw.held += 1
            try:
                await self.released.wait()
            finally:
                with sw.lock:
                    sw.held -= 1
        with sw.lock:
            if sw.outage:
                return 503, {"message": "Service Unavailable"}, []
            if sw.throttle and path.startswith("/igloohome"):
                sw.throttle -= 1
                extra = [(b"retry-after", sw.retry_after.encode())] if sw.retry_after else []
                return 429, {"message": "Too Many Requests"}, extra
        status, payload = self._route(method, path, query, headers, body)
        return status, payload, []

    def _route(self, method: str, path: str, query: str, headers: dict[str, str],
               body: bytes) -> Reply:
        auth = headers.get("authorization")
        if method == "POST" and path == "/oauth2/token":
            return self.tokens.issue(auth, headers.get("content-type", ""), body)
        if method == "GET" and path == "/igloohome/devices":
            return self._checked(auth, "igloohomeapi/get-devices", lambda: self._devices(query))
        if method == "GET" and (m := re.fullmatch(r"/igloohome/devices/([^/]+)", path)):
            return self._checked(auth, "igloohomeapi/get-devices", lambda: self._device(m[1]))
        if method == "GET" and (m := re.fullmatch(r"/igloohome/jobs/([^/]+)", path)):
            return self._checked(auth, "igloohomeapi/get-job-status", lambda: self._job(m[1]))
        if method == "POST" and (m := re.fullmatch(r"/igloohome/devices/([^/]+)/jobs/bridges/"
                                                   r"([^/]+)", path)):
            parsed = _json(body)
            if parsed is None:
                return 400, {"message": "Invalid request body"}
            job_type = parsed.get("jobType")
            scope = JOB_SCOPES.get(job_type) if isinstance(job_type, int) else None
            return self._checked(auth, scope or "igloohomeapi/create-bridge-proxied-job",
                                 lambda: self._submit(m[1], m[2], parsed))
        if method == "POST" and (m := re.fullmatch(
                r"/igloohome/devices/([^/]+)/algopin/(hourly|daily|permanent|onetime)", path)):
            parsed = _json(body)
            if parsed is None:
                return 400, {"message": "Invalid request body"}
            return self._checked(auth, f"igloohomeapi/algopin-{m[2]}",
                                 lambda: self._algopin(m[1], m[2], parsed))
        return 403, {"message": "Missing Authentication Token"}

    def _checked(self, authorization: str | None, scope: str,
                 handler: Callable[[], Reply]) -> Reply:
        refused = self.tokens.check(authorization, scope)
        return refused if refused is not None else handler()

    def _devices(self, query: str) -> Reply:
        params = dict(p.partition("=")[::2] for p in query.split("&") if p)
        ids = self.world.device_ids()
        start = int(params["cursor"]) if params.get("cursor", "").isdigit() else 0
        page = ids[start:start + self.page_size]
        following = start + self.page_size
        return 200, {"nextCursor": str(following) if following < len(ids) else "",
                     "payload": [self.world.device_json(i) for i in page]}

    def _device(self, device_id: str) -> Reply:
        device = self.world.device_json(device_id)
        return (200, device) if device is not None else (404, {"message": "Device not found"})

    def _job(self, job_id: str) -> Reply:
        job = self.jobs.poll(job_id)
        return (200, job.json()) if job is not None else (404, {"message": "Job not found"})

    def _submit(self, lock_id: str, bridge_id: str, body: dict[str, Any]) -> Reply:
        try:
            job = self.jobs.submit(lock_id, bridge_id, body)
        except JobError as error:
            return error.status, {"message": error.message}
        return 200, {"jobId": job.job_id}

    def _algopin(self, device_id: str, kind: str, body: dict[str, Any]) -> Reply:
        with self.world.lock:
            lock = self.world.locks.get(device_id)
            if lock is None:
                return 404, {"message": "Device not found"}
            try:
                request = algopin.parse(kind, body, self.world.clock.now())
            except algopin.AlgoPinError as error:
                return error.status, {"message": error.message}
            if len(lock.pins) >= MAX_PINS_PER_LOCK:
                return 422, {"message": f"Exceeded the limit of {MAX_PINS_PER_LOCK} PINs"}
            secret = self.algopin_secrets.setdefault(device_id, f"seed-{lock.id}")
            pin, pin_id = algopin.generate(secret, request)
            self.world.add_pin(lock, pin=pin, name=request.name, kind=kind, pin_id=pin_id,
                               starts_at=request.starts_at, ends_at=request.ends_at,
                               variance=request.variance)
        return 200, {"pin": pin, "pinId": pin_id}


def _json(body: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
