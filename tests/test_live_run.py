"""The run screen as a facilitator uses it live (issue 16, defects 1, 4, 5, 10, 11, 12):
Pilot drives a real app over a real store, and the stored records are checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from _cli import rt

from roundtable.app import RoundtableApp
from roundtable.config import Settings
from roundtable.store import LocalStore

FIXED_NOW = 1_795_600_800.0  # 2026-11-25 09:20 UTC


class FakeClock:
    def __init__(self) -> None:
        self.now = FIXED_NOW

    def __call__(self) -> float:
        return self.now


def make_app(home: Path, clock: FakeClock, session_id: str) -> RoundtableApp:
    return RoundtableApp(
        home=home, session_id=session_id, clock=clock, settings=Settings(), sync_enabled=False
    )


def new_session(home: Path, region: str = "africa", present=("GH", "NG", "KE")) -> str:
    """A running session of three items with some delegations present (no set-up screen)."""
    local = LocalStore(home)
    event = local.create_event("Conference 2026")
    session = local.create_session(
        event.id,
        region,
        "Round table",
        agenda=[
            {"title": "Opening", "minutes": 5, "item_kind": "opening"},
            {"title": "Drugs", "minutes": 20},
            {"title": "Cyber", "minutes": 15},
            {"title": "Needs", "minutes": 10},
            {"title": "Actions", "minutes": 10},
        ],
    )
    with local.open_session(session.id) as ss:
        for code in present:
            ss.set_attendance(code, "present")
        ss.update("session", session.id, attendance_confirmed=True, status="running")
    local.close()
    return session.id


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def timer_text(app) -> str:
    from widgets import TimeBoxTimer

    timer = app.screen.query_one(TimeBoxTimer)
    timer.refresh_time()
    return str(timer.render())


def status_text(app) -> str:
    return str(app.screen.query_one("#capture .capture-status").render())


async def enter_line(pilot, app, line: str, *then: str) -> None:
    """Put ``line`` in the capture bar and press Enter, then ``then`` keys in the same call."""
    bar = app.screen.query_one("#capture")
    bar.focus_input()
    await pilot.pause()
    bar.input.value = line
    await pilot.press("enter", *then)
    await pilot.pause()


# -- defect 1: time boxes stop ---------------------------------------------------------------


async def test_moving_on_stops_the_item_clock_pauses_hold_and_nothing_counts_after_close(
    home: Path,
) -> None:
    sid = new_session(home)
    clock = FakeClock()
    app = make_app(home, clock, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("escape")  # leave the capture bar: letters act on the screen
        await pilot.press("s")  # item 1 (5 min) starts
        await pilot.pause()
        clock.now += 30
        assert timer_text(app).startswith("04:30 left")
        await pilot.press("ctrl+n")  # item 1 stops, item 2 (20 min) starts
        await pilot.pause()
        clock.now += 600
        assert timer_text(app).startswith("10:00 left")
        await pilot.press("ctrl+b")  # back to item 1: it resumes from its 30 s
        await pilot.pause()
        assert timer_text(app).startswith("04:30 left")
        clock.now += 10
        await pilot.press("s")  # pause
        await pilot.pause()
        clock.now += 300
        assert timer_text(app) == "04:20 left paused"
        await pilot.press("s")  # resume
        await pilot.pause()
        clock.now += 20
        assert timer_text(app).startswith("04:00 left")
        # planned vs actual in the agenda: item 2 used 10 of its 20 minutes
        agenda = app.screen.query_one("#agenda")
        assert "(10/20′)" in str(agenda.get_option_at_index(1).prompt)
        # close: nothing counts any more
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.click("#yes")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        clock.now += 900
        assert timer_text(app) == "04:00 left (closed)"
    # and after a restart the clocks read the same
    app = make_app(home, clock, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert timer_text(app) == "04:00 left (closed)"
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert timer_text(app).startswith("10:00 left")


# -- defect 4: a capture is filed where Enter was pressed ------------------------------------


async def burst(pilot, app, *keys: str) -> None:
    """Send keys as a terminal delivers a burst read at once: every key is queued before the
    app handles the first (``pilot.press`` waits for the app between keys)."""
    from textual import events
    from textual.keys import _character_to_key

    for key in keys:
        if len(key) == 1:  # a typed character
            event = events.Key(_character_to_key(key), key)
        else:
            event = events.Key(key, "\r" if key == "enter" else None)
        event.set_sender(app)
        app._driver.send_message(event)
    await pilot.pause()
    await pilot.pause()


async def test_enter_and_ctrl_n_in_one_burst_file_each_line_where_enter_was_pressed(
    home: Path,
) -> None:
    sid = new_session(home)
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        bar = app.screen.query_one("#capture")
        for n in range(5):
            bar.focus_input()
            bar.input.value = f"/note burst {n}"
            await burst(pilot, app, "enter", "ctrl+n")
        store = app.session_store
        agenda = store.records("agenda_item")
        filed = {e.text: e.agenda_item for e in store.records("entry")}
        assert filed == {f"burst {n}": agenda[n].id for n in range(5)}
        assert app.screen.query_one("#agenda").highlighted == 4


async def test_enter_then_ctrl_n_files_each_line_under_the_item_of_its_enter(home: Path) -> None:
    sid = new_session(home)
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        for n in range(5):
            await enter_line(pilot, app, f"/note line {n}", "ctrl+n")
        store = app.session_store
        agenda = store.records("agenda_item")
        filed = {e.text: e.agenda_item for e in store.records("entry")}
        assert filed == {f"line {n}": agenda[n].id for n in range(5)}
        # the highlight, the marker and the right pane agree on the current item
        assert store.session.current_item == agenda[4].id
        assert app.screen.query_one("#agenda").highlighted == 4
        assert str(app.screen.query_one("#item-title").render()).startswith("5. Actions")


async def test_a_line_is_attributed_to_the_delegation_with_the_floor(home: Path) -> None:
    sid = new_session(home)
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        store = app.session_store
        store.add_speaker("KE")
        store.next_speaker()
        await pilot.pause()
        assert "floor: Kenya" in str(app.screen.query_one("#item-floor").render())
        await enter_line(pilot, app, "/issue Fraud by phone")
        await enter_line(pilot, app, "/decide Set up a working group")
        by_text = {e.text: e.delegations for e in store.records("entry")}
        assert by_text == {"Fraud by phone": ["KE"], "Set up a working group": []}


# -- defect 5: closed means closed -----------------------------------------------------------


async def test_a_closed_session_refuses_captures_until_reopened(home: Path) -> None:
    sid = new_session(home)
    with LocalStore(home).open_session(sid) as ss:
        ss.close_session()
    refused = rt("add", sid[:8], "/note after close", home=home)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and f"roundtable reopen {sid[:8]}" in lines[0]
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await enter_line(pilot, app, "/note typed after the close")
        assert "is closed: reopen it with" in status_text(app)
        assert app.screen.query_one("#capture").input.value == "/note typed after the close"
        assert app.session_store.records("entry") == []
        app.screen.action_reopen()  # the palette's "session: reopen"
        await pilot.pause()
        await enter_line(pilot, app, "/note typed after the close")
        assert [e.text for e in app.session_store.records("entry")] == ["typed after the close"]
        assert app.session_store.session.reopened_at
        assert "session: reopen" in [c[0] for c in app.screen.palette_commands()]
    ok = rt("add", sid[:8], "/note from the command line", home=home)
    assert ok.returncode == 0, ok.stderr
    with LocalStore(home).open_session(sid) as ss:
        ss.close_session()
    again = rt("reopen", sid[:8], home=home)
    assert again.returncode == 0 and "reopened" in again.stdout
    with LocalStore(home).open_session(sid, read_only=True) as ss:
        assert ss.session.status == "running"


# -- defect 10: move an entry to another item ------------------------------------------------


async def test_move_to_item_key_files_the_entry_elsewhere(home: Path) -> None:
    from roundtable.screens.common import ChoiceModal

    sid = new_session(home)
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await enter_line(pilot, app, "/need Cyber forensics training @KE !high")
        await pilot.press("escape")  # to the entry list
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceModal)
        await pilot.press("down", "down", "enter")  # 3. Cyber
        await pilot.pause()
        store = app.session_store
        (entry,) = store.records("entry")
        assert entry.agenda_item == store.records("agenda_item")[2].id
        assert app.screen.query_one("#entries").row_count == 0  # gone from item 1's list


# -- defect 11: lines attributed to absent delegations are flagged ---------------------------


async def test_check_flags_lines_of_delegations_not_present_and_fixes_them(home: Path) -> None:
    from roundtable.screens.close import CloseScreen

    sid = new_session(home, present=("GH",))
    with LocalStore(home).open_session(sid) as ss:
        ss.set_attendance("NG", "absent")
        ss.add_entry("issue", "Fraud", delegations=["GH", "NG", "KE"])
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("escape", "x")
        await pilot.pause()
        assert isinstance(app.screen, CloseScreen)
        found = [f for f in app.screen.findings() if f.rule == "attributed-not-present"]
        assert [(f.record_id, f.message.split(" but")[0]) for f in found] == [
            ("KE", "Kenya has no attendance recorded"),
            ("NG", "Nigeria marked absent"),
        ]
        table = app.screen.query_one("#findings")
        row = next(
            n
            for n in range(table.row_count)
            if table.coordinate_to_cell_key((n, 0)).row_key.value == found[0].code
        )
        table.move_cursor(row=row)
        await pilot.press("enter")  # the fix: mark Kenya present
        await pilot.pause()
        assert isinstance(app.screen, CloseScreen)
        left = [f.record_id for f in app.screen.findings() if f.rule == "attributed-not-present"]
        assert left == ["NG"]
        assert {a.country: a.status for a in app.session_store.records("attendance")}["KE"] == (
            "present"
        )


# -- defect 12: the session's regional roster ------------------------------------------------


async def test_a_mena_session_takes_mena_delegations_and_confirmed_observers_only(
    home: Path,
) -> None:
    from roundtable.screens.common import ConfirmModal

    sid = new_session(home, region="mena", present=("AE", "JO"))
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        bar = app.screen.query_one("#capture")
        assert "@GH" not in bar.input.placeholder
        await enter_line(pilot, app, "/issue Routes via Accra @GH")
        assert "Ghana (@GH) is not a delegation of the Middle East & North Africa" in (
            status_text(app)
        )
        await enter_line(pilot, app, "/issue Routes @XQ")
        text = status_text(app)
        assert "unknown delegation @XQ" in text and "not in the roster" not in text
        await enter_line(pilot, app, "/issue Ports @FR @JO")
        assert app.session_store.records("entry") == []
        await pilot.press("ctrl+o")  # confirm France as an observer, once
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.click("#yes")
        await pilot.pause()
        bar = app.screen.query_one("#capture")
        bar.focus_input()
        await pilot.press("enter")
        await pilot.pause()
        store = app.session_store
        assert [e.delegations for e in store.records("entry")] == [["FR", "JO"]]
        assert store.session.observers == ["FR"]


async def test_a_refusal_typed_in_one_burst_stays_on_screen(home: Path) -> None:
    """Keys typed and Enter read in one burst (a real terminal): the error is not wiped by the
    typed characters' change messages that arrive after Enter."""
    sid = new_session(home)
    with LocalStore(home).open_session(sid) as ss:
        ss.close_session()
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await burst(pilot, app, *"/note late", "enter")
        assert app.screen.query_one("#capture").input.value == "/note late"
        assert "is closed: reopen it with" in status_text(app)
        assert app.session_store.records("entry") == []
