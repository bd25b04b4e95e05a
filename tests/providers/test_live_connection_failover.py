"""One live connection per account across worker processes, and a takeover when its holder dies.

PostgreSQL, one `lockhub serve --no-engine` and two `lockhub worker` processes; the production
workspace is connected to a real mosquitto broker with a simulated Zigbee2MQTT bridge. The live
connections are counted where they are: mosquitto logs every client that connects and leaves
(its view of who is connected, replayed in order, so nothing between two looks is missed), and
the kernel says which process owns the client end of each socket (/proc), so a broker client is
tied to the worker that opened it. Lockhub's own `provider_connections` row must agree.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from seam import Seam

from tests.conformance.helpers import OTHER_KEY, wait_until
from tests.postgres import PostgresServer, start_postgres
from tests.providers.zigbee2mqtt.broker import MosquittoBroker
from tests.providers.zigbee2mqtt.test_zigbee2mqtt_sdk import (
    YALE,
    BridgeThread,
    broker_form,
    submit,
)
from tests.server import LockhubServer, start_server, start_worker

LEASE_SECONDS = 6.0
# Within the lease: the survivor's heartbeat (every lease/3) finds the holder's process gone
# and frees its row, and its connection pass (every few tenths of a second) takes it; it does
# not wait for the lease to run out (which alone would take up to LEASE_SECONDS + one pass).
TAKEOVER_BOUND = LEASE_SECONDS
ENV = {"LOCKHUB_LEASE_SECONDS": str(LEASE_SECONDS), "LOCKHUB_ENGINE_POLL_SECONDS": "0.05",
       "LOCKHUB_DEVICE_SYNC_SECONDS": "3600"}

CONNECTED = re.compile(r"^(\d+): New client connected from [\d.]+:(\d+) as (\S+) ")
GONE = re.compile(r"^(\d+): (?:Client (\S+) (?:disconnected|closed its connection|has exceeded "
                  r"timeout)|Socket error on client (\S+),)")


@dataclass
class BrokerClient:
    client_id: str
    port: int  # the client's end of the TCP connection, as the broker saw it


def broker_history(broker: MosquittoBroker) -> Iterator[tuple[int, dict[str, BrokerClient]]]:
    """Lockhub's clients connected at the broker after each connect or disconnect it logged,
    with that log line's number."""
    connected: dict[str, BrokerClient] = {}
    for number, line in enumerate(broker.log().splitlines()):
        if m := CONNECTED.match(line):
            if m[3].startswith("lockhub-"):
                connected[m[3]] = BrokerClient(m[3], int(m[2]))
                yield number, dict(connected)
        elif (m := GONE.match(line)) and connected.pop(m[2] or m[3], None) is not None:
            yield number, dict(connected)


def broker_clients(broker: MosquittoBroker) -> dict[str, BrokerClient]:
    """Lockhub's clients connected at the broker now."""
    states = [clients for _, clients in broker_history(broker)]
    return states[-1] if states else {}


def local_ports(pid: int, remote_port: int) -> set[int]:
    """Local ports of the established TCP connections process `pid` has to `remote_port`."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().name
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        for row in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = row.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            if state == "01" and inode in inodes and int(remote.rsplit(":", 1)[1], 16) == remote_port:
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


@dataclass
class Stack:
    postgres: PostgresServer
    broker: MosquittoBroker
    bridge: BridgeThread
    api: LockhubServer
    workers: list[subprocess.Popen[bytes]]
    seam: Seam
    account: str

    def holder(self) -> str | None:
        """The holder in lockhub's `provider_connections` row of the account."""
        out = subprocess.run(
            [str(self.postgres.bin_dir / "psql"), "-h", "127.0.0.1", "-p",
             str(self.postgres.port), "-U", "lockhub", "-d", "lockhub", "-At", "-c",
             "select holder from provider_connections "
             f"where connected_account_id = '{self.account}' and connected"],
            check=True, capture_output=True, text=True).stdout.strip()
        return out or None

    def holding_worker(self) -> subprocess.Popen[bytes] | None:
        """The worker named by the row (worker ids are host:pid:random)."""
        holder = self.holder()
        return next((w for w in self.workers
                     if holder and holder.split(":")[-2] == str(w.pid)), None)

    def live_connections(self) -> dict[int, list[str]]:
        """Lockhub's clients connected at the broker, by the pid of the process owning them."""
        clients = broker_clients(self.broker)
        owners: dict[int, list[str]] = {}
        for process in [*self.workers, self.api.process]:
            assert process is not None
            if process.poll() is None:
                ports = local_ports(process.pid, self.broker.port)
                owners[process.pid] = [c.client_id for c in clients.values() if c.port in ports]
        unowned = [c.client_id for c in clients.values()
                   if all(c.client_id not in ids for ids in owners.values())]
        if unowned:
            owners[0] = unowned  # a client the broker has not yet seen leave
        return {pid: ids for pid, ids in owners.items() if ids}

    def one_live_connection(self) -> tuple[subprocess.Popen[bytes], str] | None:
        """(worker, client id) when the broker has exactly one lockhub client, that worker
        owns it and lockhub's row names that worker as the connected holder."""
        live = self.live_connections()
        worker = self.holding_worker()
        if worker is None or list(live) != [worker.pid] or len(live[worker.pid]) != 1:
            return None
        return worker, live[worker.pid][0]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("live-failover")
    postgres = start_postgres()
    broker = MosquittoBroker(username="lockhub", password="s3cret-mqtt")
    broker.start()
    bridge = BridgeThread(broker)
    api = workers = None
    try:
        api = start_server(tmp, name="api", env=ENV, database_url=postgres.url,
                           extra_args=["--no-engine"])
        workers = [start_worker(postgres.url, tmp / f"worker-{i}.log", env=ENV)
                   for i in range(2)]
        seam = Seam(api_key=OTHER_KEY, endpoint=api.url)
        webview = seam.connect_webviews.create(accepted_providers=["zigbee2mqtt"])
        page = submit(api, webview, broker_form(broker))
        assert page.status_code == 200 and 'role="alert"' not in page.text, page.text
        account = seam.connect_webviews.get(
            connect_webview_id=webview.connect_webview_id).connected_account_id
        assert account
        yield Stack(postgres, broker, bridge, api, workers, seam, account)
    finally:
        for worker in workers or []:
            worker.terminate()
        for worker in workers or []:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        if api is not None:
            api.stop()
        bridge.close()
        broker.close()
        postgres.stop()


def test_two_workers_keep_exactly_one_live_connection_to_the_account(stack: Stack) -> None:
    worker, client_id = wait_until(stack.one_live_connection, timeout=30,
                                   message="one live connection, held by a worker")
    start = len(stack.broker.log().splitlines())
    end = time.monotonic() + 3 * LEASE_SECONDS
    while time.monotonic() < end:  # three lease periods of renewals by one, attempts by both
        assert all(w.poll() is None for w in stack.workers)
        time.sleep(0.2)
    # Every state the broker went through in the window, from the one it was in at the start.
    window: list[dict[str, BrokerClient]] = [{}]
    for number, clients in broker_history(stack.broker):
        if number < start:
            window[0] = clients
        else:
            window.append(clients)
    assert list(window[0]) == [client_id]
    assert all(len(clients) <= 1 for clients in window), window
    # Not even a reconnect: the same client of the same worker throughout.
    assert stack.one_live_connection() == (worker, client_id)


def test_killing_the_holder_hands_the_account_to_the_other_worker_within_the_lease(
    stack: Stack,
) -> None:
    seam = stack.seam
    holder, old_client = wait_until(stack.one_live_connection, timeout=30,
                                    message="one live connection, held by a worker")
    [survivor] = [w for w in stack.workers if w is not holder]
    killed_at = time.monotonic()
    since = datetime.now(UTC).isoformat()
    holder.kill()
    holder.wait()

    survivor_now, new_client = wait_until(stack.one_live_connection, timeout=TAKEOVER_BOUND,
                                          interval=0.1, message="the other worker's connection")
    took = time.monotonic() - killed_at
    assert survivor_now is survivor and new_client != old_client
    assert took <= TAKEOVER_BOUND, took

    # Still works end to end, through the new holder's connection.
    device: Any = next(d for d in seam.locks.list(connected_account_id=stack.account)
                       if d.display_name == "front_door")
    stack.bridge.call(stack.bridge.bridge.keypad_unlock, YALE, 3)
    wait_until(lambda: [e for e in seam.events.list(since=since, device_id=device.device_id,
                                                    event_type="lock.unlocked")
                        if e.method == "keycode"], message="the keypad unlock as an event")
    assert seam.locks.lock_door(device_id=device.device_id).status == "success"
    assert seam.locks.unlock_door(device_id=device.device_id).status == "success"
    assert seam.locks.get(device_id=device.device_id).properties.locked is False
    assert stack.one_live_connection() == (survivor, new_client)
