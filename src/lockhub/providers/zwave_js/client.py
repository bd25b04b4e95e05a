"""One WebSocket connection to a zwave-js-server, through `zwave-js-server-python`.

zwave-js-server-python 0.56.0 is the newest release that installs on Python 3.11; it speaks
schema 35, which `@zwave-js/server` 3.x still serves. The connection listens (the server sends
a full state dump, then events); commands to the radio go one at a time per connection
(`commands` lock), since the controller transmits one frame at a time anyway and a queue of
lockhub's own would only turn into timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from zwave_js_server.client import Client
from zwave_js_server.exceptions import BaseZwaveJSServerError, CannotConnect, InvalidServerVersion

from lockhub.providers.base import ProviderError

CONNECT_TIMEOUT_SECONDS = 15.0
# A freshly started server is still interviewing its nodes; wait this long for them to be ready
# (or dead) before listing locks. Nodes that become ready later are reported when they do.
SETTLE_SECONDS = 10.0


def check_url(url: str) -> str:
    """A ws:// or wss:// URL with a host, or a ProviderError the sign-in form can show."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in ("ws", "wss") or not parts.hostname \
            or any(c.isspace() or ord(c) < 32 for c in url):
        raise ProviderError("invalid_credentials",
                            "Enter the Z-Wave JS server's WebSocket URL, e.g. "
                            "ws://192.168.1.10:3000.")
    del port
    return url


def node_dict(node: Any) -> dict[str, Any]:
    """The node as the server's dump writes it, with current values (the Python model keeps
    values and endpoints apart from `node.data`)."""
    data = dict(node.data)
    data["values"] = [dict(v.data) for v in node.values.values()]
    endpoint = node.endpoints.get(0) if hasattr(node, "endpoints") else None
    data["endpoints"] = [{"commandClasses": [{"id": cc.id} for cc in endpoint.command_classes]}] \
        if endpoint is not None else []
    return data


class ZWaveConnection:
    def __init__(self, url: str) -> None:
        self.url = url
        self.commands = asyncio.Lock()
        # What this connection last reported per device: each account's connection reports
        # its own changes, even when two accounts reach the same network.
        self.reported: dict[str, Any] = {}
        self._session: aiohttp.ClientSession | None = None
        self._client: Client | None = None
        self._listener: asyncio.Task[None] | None = None

    @property
    def client(self) -> Client:
        assert self._client is not None
        return self._client

    @property
    def home_id(self) -> int:
        driver = self.client.driver
        assert driver is not None
        return int(driver.controller.home_id or 0)

    @property
    def nodes(self) -> dict[int, Any]:
        driver = self.client.driver
        return dict(driver.controller.nodes) if driver is not None else {}

    @property
    def closed(self) -> Any:
        """Done when the server closes the connection."""
        assert self._listener is not None
        return self._listener

    async def open(self, timeout: float = CONNECT_TIMEOUT_SECONDS) -> None:
        self._session = aiohttp.ClientSession()
        self._client = Client(self.url, self._session)
        ready = asyncio.Event()
        try:
            async with asyncio.timeout(timeout):
                await self._client.connect()
                self._listener = asyncio.create_task(self._client.listen(ready))
                waiter = asyncio.create_task(ready.wait())
                done, _ = await asyncio.wait({waiter, self._listener},
                                             return_when=asyncio.FIRST_COMPLETED)
                if waiter not in done:
                    waiter.cancel()
                    self._listener.result()  # raises what ended it
                    raise ProviderError("account_disconnected",
                                        "The Z-Wave JS server closed the connection.")
            await self._settle()
        except InvalidServerVersion as exc:
            await self.close()
            raise ProviderError("invalid_credentials",
                                f"This Z-Wave JS server speaks another API version: {exc}") \
                from exc
        except (CannotConnect, aiohttp.ClientError, OSError) as exc:
            await self.close()
            raise ProviderError("account_disconnected",
                                f"Cannot reach the Z-Wave JS server at {self.url}.") from exc
        except TimeoutError as exc:
            await self.close()
            raise ProviderError("account_disconnected",
                                f"The Z-Wave JS server at {self.url} did not answer in time.") \
                from exc
        except BaseZwaveJSServerError as exc:
            await self.close()
            raise ProviderError("account_disconnected", f"Z-Wave JS server error: {exc}") \
                from exc
        except BaseException:
            await self.close()
            raise

    async def _settle(self) -> None:
        deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
        while asyncio.get_running_loop().time() < deadline and not self._listener.done():
            if all(node.ready or node.status == 3 for node in self.nodes.values()):
                return
            await asyncio.sleep(0.1)

    async def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._client.disconnect(), 5)
        if self._listener is not None and not self._listener.done():
            self._listener.cancel()
            with contextlib.suppress(BaseException):
                await self._listener
        if self._session is not None:
            await self._session.close()
        self._client = None
        self._session = None


@contextlib.asynccontextmanager
async def connected(url: str) -> AsyncIterator[ZWaveConnection]:
    """A connection for one task (sign-in, or a command from a process that does not hold
    the account's live connection)."""
    connection = ZWaveConnection(url)
    await connection.open()
    try:
        yield connection
    finally:
        await connection.close()
