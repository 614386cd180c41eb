"""Running the real ``cardbatch`` command in a subprocess, as an operator would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

CLI_TIMEOUT_S = 300


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "CARDBATCH_USER": "tester", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cardbatch", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


def cli_json(*args: str, env: dict[str, str] | None = None) -> Any:
    """Run a command that must succeed and print one JSON document."""
    done = run_cli(*args, "--json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
