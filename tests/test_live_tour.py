"""The tour de table and the list of speakers as records (issue 16, defects 2 and 3): they
survive Esc, a restart and sync, and one floor is shared by both."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from test_live_run import FakeClock, burst, new_session

from roundtable.app import RoundtableApp
from roundtable.config import Settings
from roundtable.store import LocalStore


def make_app(home: Path, clock: FakeClock, session_id: str) -> RoundtableApp:
    return RoundtableApp(
        home=home, session_id=session_id, clock=clock, settings=Settings(), sync_enabled=False
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def queue_text(app) -> tuple[str, str]:
    queue = app.screen.query_one("#queue")
    queue.refresh_view()
    return (
        str(queue.query_one(".queue-current").render()),
        str(queue.query_one(".queue-waiting").render()),
    )


async def add_speaker(pilot, app, text: str) -> None:
    field = app.screen.query_one("#queue-add")
    field.focus()
    field.value = text
    await pilot.press("enter")
    await pilot.pause()


def open_speeches(store) -> list:
    return [s for s in store.records("speech") if not s.ended_at and not s.passed]


# -- defect 2: leaving the screen neither empties the list nor ends the turn -----------------


async def test_esc_keeps_the_list_and_the_turn_and_the_rapporteur_types_meanwhile(
    home: Path,
) -> None:
    from roundtable.screens.run import RunScreen
    from roundtable.screens.tour import TourScreen

    sid = new_session(home, present=("GH", "NG", "KE", "SN"))
    clock = FakeClock()
    app = make_app(home, clock, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("escape", "t")
        await pilot.pause()
        assert isinstance(app.screen, TourScreen)
        await add_speaker(pilot, app, "GH")
        await add_speaker(pilot, app, "NG")
        await pilot.press("ctrl+e")  # Ghana has the floor
        await pilot.pause()
        clock.now += 20
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        store = app.session_store
        assert [s.country for s in open_speeches(store)] == ["GH"]  # the turn goes on
        # the rapporteur types while Ghana speaks: the line is Ghana's
        bar = app.screen.query_one("#capture")
        bar.focus_input()
        bar.input.value = "/issue Drug routes through the ports"
        await pilot.press("enter")
        await pilot.pause()
        assert [e.delegations for e in store.records("entry")] == [["GH"]]
        await pilot.press("escape", "t")
        await pilot.pause()
        floor, waiting = queue_text(app)
        assert "Floor: Ghana  00:20" in floor
        assert "Nigeria" in waiting  # the list was not emptied
        clock.now += 10
        await pilot.press("ctrl+e")  # Nigeria: Ghana's turn ends at 30 s
        await pilot.pause()
        ghana = next(s for s in store.records("speech") if s.country == "GH")
        assert ghana.seconds == 30 and ghana.ended_at


async def test_a_skipped_delegation_moves_to_the_end_marked(home: Path) -> None:
    sid = new_session(home, present=("GH", "KE", "NG"))  # alphabetical: Ghana, Kenya, Nigeria
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("escape", "t")
        await pilot.pause()
        await pilot.press("enter")  # Ghana
        await pilot.press("k")  # not in the room: to the end; Kenya gets the floor
        await pilot.press("escape", "t")  # leave and come back
        await pilot.pause()
        order = str(app.screen.query_one("#tour .tour-order").render())
        lines = [line.split(". ", 1)[1] for line in order.splitlines()]
        assert lines == ["Kenya", "Nigeria", "Ghana (skipped once)"]
        assert app.session_store.floor().country == "KE"


# -- defect 3: ctrl+e never runs two clocks --------------------------------------------------


async def test_ctrl_e_during_the_tour_ends_the_tour_turn_one_floor(home: Path) -> None:
    sid = new_session(home, present=("GH", "KE"))
    clock = FakeClock()
    app = make_app(home, clock, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("escape", "t")
        await pilot.pause()
        await add_speaker(pilot, app, "NG")
        app.screen.query_one("#tour").focus()
        await pilot.press("enter")  # the tour gives Ghana the floor
        await pilot.pause()
        clock.now += 40
        await burst(pilot, app, "ctrl+e")  # the list gives Nigeria the floor
        store = app.session_store
        assert [s.country for s in open_speeches(store)] == ["NG"]
        ghana = next(s for s in store.records("speech") if s.country == "GH")
        assert ghana.seconds == 40
        tour_line = str(app.screen.query_one("#tour .tour-current").render())
        assert "Speaking" not in tour_line  # the tour shows no running clock
        assert "Floor: Nigeria" in queue_text(app)[0]


# -- the list of speakers: order, point of order, limit, balanced, stats ---------------------


async def test_list_of_speakers_keys_and_countdown_persist_across_a_restart(home: Path) -> None:
    sid = new_session(home, present=("GH", "KE", "NG"))
    clock = FakeClock()
    app = make_app(home, clock, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("escape", "t")
        await pilot.pause()
        for code in ("GH", "KE", "NG"):
            await add_speaker(pilot, app, code)
        await pilot.press("ctrl+e")  # Ghana
        clock.now += 15
        await pilot.press("ctrl+e")  # Kenya; Ghana spoke 15 s
        await pilot.pause()
        await add_speaker(pilot, app, "GH")  # Ghana asks again
        await add_speaker(pilot, app, "!SN")  # a point of order goes to the top, marked
        _floor, waiting = queue_text(app)
        assert [line.split(". ", 1)[1].split(" ·")[0] for line in waiting.splitlines()] == [
            "Senegal (point of order)",
            "Nigeria",
            "Ghana",
        ]
        assert "1 intervention, 00:15" in waiting.splitlines()[2]
        queue = app.screen.query_one("#queue")
        queue.focus()
        await pilot.press("down", "down", "shift+up")  # Ghana above Nigeria
        await pilot.pause()
        _floor, waiting = queue_text(app)
        assert [line.split(". ", 1)[1].split(" ·")[0] for line in waiting.splitlines()] == [
            "Senegal (point of order)",
            "Ghana",
            "Nigeria",
        ]
        await pilot.press("b")  # balanced order: Nigeria (not yet heard) first again
        await pilot.pause()
        _floor, waiting = queue_text(app)
        assert [line.split(". ", 1)[1].split(" ·")[0] for line in waiting.splitlines()] == [
            "Senegal (point of order)",
            "Nigeria",
            "Ghana",
        ]
        clock.now += 130  # Kenya's limit is the plan's tour time (Africa: 120 s)
        floor, _waiting = queue_text(app)
        assert "Floor: Kenya  02:10 / 02:00  — time is up" in floor
    # quit and restart: the list, its order and the floor are still there
    app = make_app(home, clock, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("escape", "t")
        await pilot.pause()
        floor, waiting = queue_text(app)
        assert "Floor: Kenya" in floor
        assert [line.split(". ", 1)[1].split(" ·")[0] for line in waiting.splitlines()] == [
            "Senegal (point of order)",
            "Nigeria",
            "Ghana",
        ]
        assert app.session_store.session.balanced_order


async def test_the_tour_screen_capture_bar_files_the_line_for_the_floor(home: Path) -> None:
    sid = new_session(home, present=("GH", "KE"))
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("escape", "t")
        await pilot.pause()
        await pilot.press("enter")  # Ghana has the floor
        await pilot.press("c")
        await pilot.pause()
        bar = app.screen.query_one("#capture")
        bar.input.value = "Reports a 30 % rise in requests"
        await burst(pilot, app, "enter", "ctrl+e")
        (entry,) = app.session_store.records("entry")
        assert entry.delegations == ["GH"] and entry.entry_kind == "note"
        assert entry.agenda_item == app.session_store.current_item_id()


# -- sync: a second laptop sees the same list, floor and current item ------------------------


def test_the_list_the_floor_and_the_item_clock_travel_with_sync(live_server, tmp_path) -> None:
    from roundtable.sync import SyncClient

    event_id = live_server.create_event("Conference 2026")
    token = live_server.token(event_id, ["*"])
    a, b = LocalStore(tmp_path / "a"), LocalStore(tmp_path / "b")

    def sync(store: LocalStore) -> None:
        result = asyncio.run(SyncClient(store, live_server.url, token).sync_once())
        assert result.ok, result.summary()

    sync(a)
    session = a.create_session(
        event_id, "africa", "Africa", [{"title": "Opening"}, {"title": "Drugs"}]
    )
    with a.open_session(session.id) as ss:
        second = ss.records("agenda_item")[1].id
        ss.go_to_item(second)
        ss.add_speaker("GH", limit_seconds=90)
        ss.add_speaker("NG")
        ss.next_speaker()
    sync(a)
    sync(b)
    with b.open_session(session.id) as ss:
        assert ss.session.current_item == second
        assert ss.clock_state(second) == "running"
        assert ss.floor().country == "GH"
        assert [s.country for s in ss.waiting_speakers()] == ["NG"]
