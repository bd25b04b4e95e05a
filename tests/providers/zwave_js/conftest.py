"""The Z-Wave JS test stack, one per test session (tests reset whatever lock state they change),
and for the modules that drive the SDK (test_zwave_sdk, test_zwave_thermostat) a network, a
lockhub server and a production workspace connected to it, each module its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from seam import Seam

from tests.providers.webview import production_seam
from tests.providers.webview import submit as submit_form
from tests.providers.zwave_js.stack import ZWaveStack, missing_prerequisite
from tests.server import LockhubServer, start_server

ENGINE_ENV = {"LOCKHUB_ENGINE_POLL_SECONDS": "0.05", "LOCKHUB_DEVICE_SYNC_SECONDS": "3600",
              "LOCKHUB_ZWAVE_DEAD_PING_SECONDS": "1", "LOCKHUB_TEST_PRODUCTION_CLOCK": "1"}


@pytest.fixture(scope="session")
def zwave_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZWaveStack]:
    if reason := missing_prerequisite():
        pytest.skip(reason)
    stack = ZWaveStack().start(tmp_path_factory.mktemp("zwave"))
    yield stack
    stack.stop()


def _module(request: pytest.FixtureRequest) -> str:
    return str(request.module.__name__).rsplit(".", 1)[-1]


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZWaveStack]:
    """A network of the module's own, so its codes and device states are not shared."""
    if reason := missing_prerequisite():
        pytest.skip(reason)
    zwave = ZWaveStack().start(tmp_path_factory.mktemp(f"stack-{_module(request)}"))
    yield zwave
    zwave.stop()


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           stack: ZWaveStack) -> Iterator[LockhubServer]:
    srv = start_server(tmp_path_factory.mktemp(f"lockhub-{_module(request)}"), env=ENGINE_ENV)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def seam(server: LockhubServer) -> Seam:
    return production_seam(server)


@pytest.fixture(scope="module")
def account(server: LockhubServer, seam: Seam, stack: ZWaveStack) -> str:
    """The production workspace's Z-Wave JS account, signed in through a Connect Webview."""
    webview = seam.connect_webviews.create(accepted_providers=["zwave_js"])
    page = submit_form(server, webview, "zwave_js", {"url": stack.ws_url})
    assert page.status_code == 200, page.text
    webview = seam.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert webview.status == "authorized" and webview.login_successful
    return str(webview.connected_account_id)
