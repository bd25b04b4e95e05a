"""A real HTTP receiver on loopback that verifies every delivery with the official SDK's
`SeamWebhook(secret).verify(...)` and counts what it accepted."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from seam import SeamWebhook


class Receiver:
    def __init__(self) -> None:
        self.secret: str | None = None
        self.mode = "ok"  # ok | fail | hang
        self.events: list[Any] = []  # verified events, in arrival order
        self.arrivals: list[float] = []  # time.time() of each verified event's arrival
        self.message_ids: list[str] = []
        self.rejected = 0  # requests that failed verification
        self.requests = 0
        self.released = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                with receiver._lock:
                    receiver.requests += 1
                if receiver.mode == "hang":
                    receiver.released.wait(30)
                if receiver.mode == "fail":
                    self.send_response(503)
                    self.end_headers()
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    event = SeamWebhook(receiver.secret or "").verify(body, headers)
                except Exception:
                    with receiver._lock:
                        receiver.rejected += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                with receiver._lock:
                    receiver.events.append(event)
                    receiver.arrivals.append(time.time())
                    receiver.message_ids.append(headers["webhook-id"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/lockhub"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def event_ids(self) -> set[str]:
        with self._lock:
            return {e.event_id for e in self.events}

    def wait_for(self, predicate: Callable[[Receiver], bool], timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            assert time.monotonic() < deadline, (
                f"receiver saw {len(self.events)} events, {self.requests} requests")
            time.sleep(0.05)
