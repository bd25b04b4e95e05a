"""The README's SDK quick start works as written against a live server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.server import LockhubServer

README = Path(__file__).parents[1] / "README.md"


def test_readme_quick_start_runs_as_written(server: LockhubServer) -> None:
    text = README.read_text()
    section = text.split("## Quick start with the official SDK", 1)[1]
    snippet = re.search(r"```python\n(.*?)```", section, re.S)
    assert snippet is not None
    result = subprocess.run([sys.executable, "-c", snippet.group(1)], capture_output=True,
                            text=True, timeout=60, env={"SEAM_ENDPOINT": server.url,
                                                        "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "False"
    assert any("ttlock_lock_gateway_unlocking_not_enabled" in line for line in lines[1:])
