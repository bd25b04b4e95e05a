"""A loopback HTTP endpoint standing in for lockhub's TTLock callback URL in tests: it keeps
every form POSTed to it and answers "success", as TTLock expects."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


class CallbackReceiver:
    def __init__(self) -> None:
        self.forms: list[dict[str, str]] = []
        self.content_types: list[str] = []
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                with receiver._arrived:
                    receiver.forms.append(dict(parse_qsl(body)))
                    receiver.content_types.append(self.headers.get("content-type", ""))
                    receiver._arrived.notify_all()
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"success")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/ttlock/callback-secret"

    def __enter__(self) -> CallbackReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, str]]:
        """Block until `count` forms arrived (for pushes sent from the fake's own loop)."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.forms) >= count, timeout=timeout):
                raise TimeoutError(f"{len(self.forms)} callbacks arrived, expected {count}")
            return list(self.forms)
