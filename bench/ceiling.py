"""The ceiling: the least an ASGI server can do to answer lockhub's routes on this machine.

One plain async function under uvicorn with lockhub's own uvicorn settings (one process, same
loop and HTTP implementation, no access log). Per request it reads the body, checks the bearer
token, parses the JSON and returns the body stored for the path: one SQLite row
(`responses(path, body)`, filled by bench/api.py with lockhub's real answers). No framework,
no validation, no ORM: what is left is the HTTP stack plus one indexed read.

Run: python -m bench.ceiling RESPONSES_DB PORT
"""

from __future__ import annotations

import json
import sqlite3
import sys

import uvicorn

TOKEN = b"Bearer seam_apikey1_token"
NOT_FOUND = b'{"error": {"type": "not_found"}, "ok": false}'


def store_responses(path: str, responses: dict[str, bytes]) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS responses (path TEXT PRIMARY KEY, body BLOB)")
        db.executemany("INSERT OR REPLACE INTO responses VALUES (?, ?)", responses.items())


def make_app(path: str):  # type: ignore[no-untyped-def]
    db = sqlite3.connect(path, check_same_thread=False)

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        authorized = (b"authorization", TOKEN) in scope["headers"]
        if body:
            json.loads(body)
        row = db.execute("SELECT body FROM responses WHERE path = ?",
                         (scope["path"],)).fetchone()
        status = 401 if not authorized else 200 if row else 404
        payload = row[0] if authorized and row else NOT_FOUND
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})

    return app


if __name__ == "__main__":
    # Same as `lockhub serve` (cli.serve): one process, defaults for loop and http.
    uvicorn.run(make_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]),
                log_level="warning", access_log=False, lifespan="on")
