"""The Z-Wave JS test stack, one per test session (tests reset whatever lock state they change)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.providers.zwave_js.stack import ZWaveStack, missing_prerequisite


@pytest.fixture(scope="session")
def zwave_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZWaveStack]:
    if reason := missing_prerequisite():
        pytest.skip(reason)
    stack = ZWaveStack().start(tmp_path_factory.mktemp("zwave"))
    yield stack
    stack.stop()
