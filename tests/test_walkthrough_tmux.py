"""A short round table run end to end in a real terminal (issue 22): `roundtable` in tmux at
120x40, driven by the keys a facilitator presses, read back from the screen and the store.

The paths: the sessions list (typing filters, never fires a key), the set-up (focus on the
roll call's filter; ↓ p marks present; typing on the list filters), the run screen (capture,
the floor's name in the header), the tour (Enter, a refused p, p for one who has not spoken),
ctrl+n ending the floor with its item, the close, ctrl+z refused after it, and the archive.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from roundtable import cli
from roundtable.store import LocalStore

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

ROOT = Path(__file__).resolve().parent.parent


class Terminal:
    """One tmux session of 120x40 running a command; keys in, screen text out."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name = name
        line = " ".join([*(f"{k}={shlex.quote(v)}" for k, v in env.items()), *command])
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "40", f"env {line}"],
            check=True,
        )

    def screen(self) -> str:
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        ).stdout

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if text in shown:
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never showed; the screen:\n{shown}")
            time.sleep(0.05)

    def wait_for_any(self, *texts: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if any(text in shown for text in texts):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"none of {texts!r} showed; the screen:\n{shown}")
            time.sleep(0.05)

    def keys(self, *keys: str, pause: float = 0.15) -> None:
        for key in keys:
            subprocess.run(["tmux", "send-keys", "-t", self.name, key], check=True)
            time.sleep(pause if key != "Escape" else 0.4)  # a lone Esc is read after a wait

    def type(self, text: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)
        time.sleep(0.2)

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("ROUNDTABLE_HOME", str(home))
    monkeypatch.setenv("ROUNDTABLE_CONFIG", str(tmp_path / "settings.toml"))
    return home


def test_a_short_round_table_in_a_real_terminal(home: Path, tmp_path: Path, capsys) -> None:
    assert cli.main(["new", "--region", "americas", "--event", "Conference 2026"]) == 0
    session_id = capsys.readouterr().out.strip()
    env = {
        "PYTHONPATH": str(ROOT),
        "ROUNDTABLE_HOME": str(home),
        "ROUNDTABLE_CONFIG": str(tmp_path / "settings.toml"),
        "TERM": "xterm-256color",
    }
    term = Terminal(f"rt-walk-{os.getpid()}", [sys.executable, "-m", "roundtable"], env)
    try:
        # the sessions list: typing filters, never creates
        term.wait_for("Sessions on this laptop")
        term.type("nope")
        shown = term.wait_for("No session matches the filter")
        assert "New round-table session" not in shown
        term.keys(*["BSpace"] * 4)
        term.wait_for("Americas")
        # typed on the list itself, the characters go to the filter, and so does Backspace
        # (the filter's refill took the focus back to the list: Backspace did nothing)
        term.keys("Down")
        term.type("a")  # still matches: the refill of the list ran with the list shown
        term.keys("BSpace")
        term.wait_for("Type to filter by event", timeout=5)  # the filter is empty again
        term.keys("Down", "Enter")
        # the set-up: the roll call's filter has the focus; typing on the list filters
        term.wait_for("Set-up and roll call")
        term.type("bra")
        term.keys("Down", "p")  # Brazil present
        term.keys("Up", "BSpace", "BSpace", "BSpace")
        term.type("canada")
        term.keys("Down", "p")
        term.keys("Up", *["BSpace"] * 6)
        term.type("argentina")
        term.keys("Down", "p")
        term.wait_for("Present 3")
        term.keys("C-s")
        # the run screen: a capture
        term.wait_for("Captured —")
        term.type("/issue Cocaine routes through river ports @BR #drugs")
        term.keys("Enter")
        term.wait_for("Saved issue")
        # the tour: Argentina has the floor; it speaks; p is refused; Enter; Brazil passes
        term.keys("Escape", "t")
        term.wait_for("Tour de table")
        term.keys("Enter")
        term.wait_for("Speaking: Argentina")
        term.keys("c")
        term.type("Argentina reports new maritime routes")
        term.keys("Enter", "Escape")
        term.keys("p")
        term.wait_for("already spoken")
        term.keys("Enter")
        term.wait_for("Speaking: Brazil")
        term.keys("p")
        term.wait_for("Speaking: Canada")
        term.keys("Escape")
        shown = term.wait_for("floor: Canada")
        # ctrl+n: the floor ends with its item
        term.keys("C-n")
        time.sleep(0.5)
        assert "floor: Canada" not in term.screen()
        # close (the entry list has the focus, as when the tour was opened), and ctrl+z does
        # not reopen
        term.keys("x")
        term.wait_for("Completeness check")
        term.keys("C-s")
        # the confirmation itself (the check's own screen says "Close" too: waiting for that
        # raced the dialog on a loaded machine)
        term.wait_for_any("findings are still open", "Close the session?")
        term.keys("Enter")
        term.wait_for("Session closed")
        term.keys("Escape")
        time.sleep(0.5)
        term.keys("C-z")
        term.wait_for("undo stops at the close")
        term.keys("C-q")
        time.sleep(1.0)
    finally:
        term.close()

    with LocalStore(home).open_session(session_id, read_only=True) as ss:
        assert ss.session.status == "closed"
        marks = {a.country: a.status for a in ss.records("attendance")}
        assert marks == {"AR": "present", "BR": "present", "CA": "present"}
        texts = {e.text: e.delegations for e in ss.records("entry")}
        assert texts["Cocaine routes through river ports"] == ["BR"]
        assert texts["Argentina reports new maritime routes"] == ["AR"]
        tour = {s.country: s.status for s in ss.records("speaker") if s.mode == "tour"}
        assert tour["AR"] == "done" and tour["BR"] == "passed"
        assert ss.session.floor == ""
    # archive: out of the list, kept on disk, back with unarchive
    assert cli.main(["archive", session_id]) == 0
    assert cli.main(["sessions", "--ids"]) == 0
    assert session_id not in capsys.readouterr().out
    assert cli.main(["unarchive", session_id]) == 0
    assert "closed again" in capsys.readouterr().out
