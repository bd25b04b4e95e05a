"""Shared output: percentiles, the machine, and results written under bench/results/."""

from __future__ import annotations

import json
import os
import platform
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def median_of(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Per-key median over rounds (keys every round has)."""
    return {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}


def ratio(value: float, base: float) -> float | None:
    """value / base, or None when base is 0 (a server that answered nothing in the run)."""
    return value / base if base else None


def format_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def machine() -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip()
                  for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown")
    # Other work on this machine skews every number: the load average says how much there was.
    return {"nproc": os.cpu_count(), "cpu": model, "platform": platform.platform(),
            "python": platform.python_version(), "loadavg_at_end": os.getloadavg()}


def write(name: str, data: dict[str, Any], latest: str | None) -> Path:
    """bench/results/NAME-<UTC time>.json, and the same under bench/results/LATEST if given."""
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps({"date": stamp, "machine": machine(), **data}, indent=2)
    out = RESULTS / f"{name}-{stamp}.json"
    out.write_text(text)
    if latest is not None:
        (RESULTS / latest).write_text(text)
    return out
