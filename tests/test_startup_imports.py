"""Start-up (issue 22): what `roundtable` imports before its first screen is up, in a fresh
process as a facilitator starts it.  A module loaded here is paid for on every start; the
sessions list and the run screen need neither the network, the server, the documents nor the
parser of every command, and the sessions list not even the member-country roster.

The process is the real command (``cli.main``) with Textual's ``App.run`` made headless: it
prints the first screen's class and ``sys.modules`` once that screen is up, then quits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, sys
import textual.app
from roundtable import cli

run = textual.app.App.run

def headless(self, **kwargs):
    async def report(pilot):
        await pilot.pause()
        shown = {"screen": type(pilot.app.screen).__name__, "modules": sorted(sys.modules)}
        print(json.dumps(shown))
        pilot.app.exit()

    return run(self, headless=True, size=(120, 40), auto_pilot=report)

textual.app.App.run = headless
sys.exit(cli.main(sys.argv[1:]))
"""

NEVER = (
    "httpx",
    "markdown_it",
    "roundtable.secretariat",
    "roundtable.sync",
    "roundtable.netcli",  # the network commands' parser: built only for a command
    "roundtable.documents",
    "roundtable.minutes",
    "roundtable.report",
)
"""Modules (and their submodules) that no start-up of the app imports."""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], str]:
    """A home with the demo session, made by `roundtable demo`; the environment to run in."""
    home = tmp_path_factory.mktemp("startup") / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROUNDTABLE_")}
    env |= {"ROUNDTABLE_HOME": str(home), "ROUNDTABLE_CONFIG": str(home / "settings.toml")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    made = subprocess.run(
        [sys.executable, "-m", "roundtable", "demo"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return env, made.stdout.strip().splitlines()[-1]


def _first_screen(env: dict[str, str], *argv: str) -> tuple[str, set[str]]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    shown = json.loads(out.stdout.strip().splitlines()[-1])
    return shown["screen"], set(shown["modules"])


def _loaded(modules: set[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


def test_the_sessions_list_imports_neither_network_documents_nor_roster(home) -> None:
    env, _session_id = home
    screen, modules = _first_screen(env)
    assert screen == "HomeScreen"
    loaded = [name for name in (*NEVER, "sessions.roster") if _loaded(modules, name)]
    assert loaded == [], f"the sessions list imported {loaded}"


def test_the_run_screen_imports_neither_network_nor_documents(home) -> None:
    env, session_id = home
    screen, modules = _first_screen(env, "--session", session_id)
    assert screen == "RunScreen"
    loaded = [name for name in NEVER if _loaded(modules, name)]
    assert loaded == [], f"the run screen imported {loaded}"
