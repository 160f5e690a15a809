"""The projector at 80x24, 120x40 and 200x50 (issue 26): an item running with the floor taken
and a message up, and between items (the agenda).  Update the baselines with
`pytest tests/test_projector_snapshots.py --snapshot-update` only after looking at the report."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from _app import FIXED_NOW, demo_home

from roundtable.screens.projector import ProjectorApp
from roundtable.store import LocalStore

SIZES = [(80, 24), (120, 40), (200, 50)]


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def live_room(tmp_path: Path) -> tuple[Path, str]:
    """The demo session on its drug-routes item: the clock running, Ghana with the floor (a
    two-minute limit), a list of speakers with a point of order, a message up."""
    home, sid = demo_home(tmp_path)
    with LocalStore(home, wall=lambda: FIXED_NOW).open_session(sid) as ss:
        item = sorted(ss.records("agenda_item"), key=lambda a: a.position)[2]
        ss.go_to_item(item.id)
        ss.clock("start", item.id)
        first = ss.add_speaker("GH", limit_seconds=120)
        for code in ("NG", "CI", "KE", "ZA", "EG", "MA", "TN", "ET", "UG"):
            ss.add_speaker(code, limit_seconds=120)
        ss.add_speaker("SN", point_of_order=True)
        ss.give_floor(first.id)
        ss.project("Decision: a regional working group on migrant smuggling")
    return home, sid


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("state", ["live", "agenda"])
def test_projector(snap_compare, tmp_path: Path, state: str, size: tuple[int, int]) -> None:
    if state == "live":
        home, sid = live_room(tmp_path)
        now = FIXED_NOW + 100  # the floor in its last 24 s: the warning colour
    else:
        home, sid = demo_home(tmp_path)
        now = FIXED_NOW
    app = ProjectorApp(home=home, session_id=sid, clock=lambda: now, poll_seconds=0.5)

    async def run_before(pilot) -> None:
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=size)
