"""`lockhub serve --workers N`: several API processes answering on one port.

uvicorn binds the port once and spawns N fresh interpreters, each of which imports `app` (a
factory named by string: a closure cannot cross into a spawned process). The settings the
parent resolved from its flags, environment and configuration file travel to them whole, as
JSON in `LOCKHUB_SERVE_SETTINGS`, so a child cannot read them differently.

Each process counts its own requests and jobs; Prometheus' multiprocess mode (a folder of
shared metric files, `PROMETHEUS_MULTIPROC_DIR`) lets whichever process answers `/metrics`
report the sum of all of them (metrics.py).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lockhub.config import Settings
from lockhub.metrics import MULTIPROCESS_DIR_ENV

SETTINGS_ENV = "LOCKHUB_SERVE_SETTINGS"


def hand_over(settings: Settings) -> None:
    """Make `settings` what every spawned API process runs with."""
    os.environ[SETTINGS_ENV] = json.dumps(dataclasses.asdict(settings))


@contextmanager
def shared_metrics() -> Iterator[None]:
    """While the processes run, keep their metrics in `PROMETHEUS_MULTIPROC_DIR` if set (emptied
    first: files of an earlier run would be added to this one's), else in a temporary folder
    removed afterwards."""
    named = os.environ.get(MULTIPROCESS_DIR_ENV)
    if named:
        Path(named).mkdir(parents=True, exist_ok=True)
        for stale in Path(named).glob("*.db"):
            stale.unlink()
        yield
        return
    folder = tempfile.mkdtemp(prefix="lockhub-metrics-")
    os.environ[MULTIPROCESS_DIR_ENV] = folder
    try:
        yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def app():  # type: ignore[no-untyped-def]
    """The ASGI application of one spawned API process."""
    from lockhub.api.app import asgi_app
    from lockhub.services.runtime import build_runtime

    settings = Settings(**json.loads(os.environ[SETTINGS_ENV]))
    return asgi_app(build_runtime(settings))
