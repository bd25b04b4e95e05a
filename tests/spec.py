"""Seam's OpenAPI document, vendored in spec/ so contract tests always run."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).parents[1] / "spec" / "seam-openapi.json"


@cache
def load_spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text())
