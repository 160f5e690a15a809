"""The `roundtable` command as scripts run it in tests: a real process with its own home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def rt(
    *args: str, home: Path, passphrase: str | None = None, input_: str | None = None
) -> subprocess.CompletedProcess:
    """``python -m roundtable ARGS`` with ROUNDTABLE_HOME and ROUNDTABLE_CONFIG under ``home``;
    ROUNDTABLE_PASSPHRASE is ``passphrase`` when given, never one inherited."""
    env = dict(os.environ)
    env["ROUNDTABLE_HOME"] = str(home)
    env["ROUNDTABLE_CONFIG"] = str(home / "settings.toml")
    env.pop("ROUNDTABLE_PASSPHRASE", None)
    if passphrase is not None:
        env["ROUNDTABLE_PASSPHRASE"] = passphrase
    return subprocess.run(
        [sys.executable, "-m", "roundtable", *args],
        capture_output=True,
        text=True,
        env=env,
        input=input_,
        timeout=120,
    )


def one_line_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    """Asserts the command failed with exactly one line on stderr, holding every needle, and
    no traceback; returns that line."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
