"""Child processes of the tests: stopped politely, then for sure."""

from __future__ import annotations

import subprocess
from typing import Any


def stop(process: subprocess.Popen[Any], *, grace: float = 15) -> None:
    """SIGTERM, wait up to `grace` seconds, then SIGKILL; return once it has exited."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
