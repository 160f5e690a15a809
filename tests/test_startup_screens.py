"""Start-up (issue 22): the first screen is built once, with nothing it does not show.

Each of these was a second pass of Textual's styling or layout before the first frame, or
widgets built for nothing; the times are in docs/performance.md, these tests hold the shape.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from roundtable.screens.home import HomeScreen
from roundtable.screens.run import RunScreen
from tests._app import demo_home, make_app


@pytest.mark.parametrize(
    ("size", "classes"),
    [((80, 24), {"-narrow", "-short"}), ((120, 40), {"-wide", "-tall"})],
)
async def test_a_screen_is_built_with_the_size_classes_of_the_terminal(
    tmp_path: Path, size: tuple[int, int], classes: set[str]
) -> None:
    """Built with them, its first layout changes no class, and Textual does not style every
    widget of the screen a second time."""
    home, _session_id = demo_home(tmp_path)
    app = make_app(home, None)
    async with app.run_test(size=size):
        built = HomeScreen()  # not mounted yet
        assert classes <= set(built.classes)
        assert classes <= set(app.screen.classes)


async def test_the_session_list_is_the_first_screen_itself(tmp_path: Path) -> None:
    """No blank screen under it: one screen to build, style and lay out at start."""
    home, session_id = demo_home(tmp_path)
    app = make_app(home, None)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert [type(s) for s in app.screen_stack] == [HomeScreen]
        # opening a session and coming back keeps the list at the bottom
        app.open_session(session_id)
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        app.show_home()
        await pilot.pause()
        assert [type(s) for s in app.screen_stack] == [HomeScreen]


async def test_the_carried_actions_table_is_built_on_the_review_item_only(tmp_path: Path) -> None:
    home, session_id = demo_home(tmp_path)
    app = make_app(home, session_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunScreen)
        assert screen.current_item().item_kind != "actions"
        assert not screen.query("#carried-table")  # not built while not shown
        agenda = screen._agenda()
        review = next(i for i in agenda if i.item_kind == "actions")
        for _ in agenda:
            if screen.current_item().id == review.id:
                break
            await pilot.press("ctrl+n")
            await pilot.pause()
        assert screen.current_item().id == review.id
        assert screen.query_one("#carried").display
        assert screen.query("#carried-table")


async def test_a_large_session_opens_on_the_rows_on_screen_and_fills_the_list_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first frame reads only the entries it draws (the view's index gives the counts and
    which ones); the list's other rows, up to MAX_ROWS, follow just after, the same rows in
    the same order as a list built at once."""
    from roundtable.demo import create_demo
    from roundtable.screens.run import MAX_ROWS
    from roundtable.store import LocalStore
    from sessions import load_roster
    from widgets import EntryTable

    home = tmp_path / "home"
    store = LocalStore(home)
    session_id = create_demo(store, load_roster())
    with store.open_session(session_id) as ss:
        for n in range(600):
            ss.add_entry(entry_kind="issue", text=f"Backlog issue {n}", delegations=["GH"])
        item = ss.current_item_id()
        total, expected = ss.latest_entries(agenda_item=item, limit=MAX_ROWS)
    fills: list[tuple[int, int]] = []  # (rows in the list, entries still unread) after each
    refresh_entries = RunScreen._refresh_entries

    def recorded(screen: RunScreen, *args, **kwargs) -> None:
        refresh_entries(screen, *args, **kwargs)
        unit = screen.app.session_store.unit
        fills.append((screen.query_one(EntryTable).row_count, unit.unread_records))

    monkeypatch.setattr(RunScreen, "_refresh_entries", recorded)
    app = make_app(home, session_id)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, RunScreen)
        table = screen.query_one(EntryTable)
        for _ in range(50):
            if len(fills) >= 2:
                break
            await pilot.pause(0.05)
        (first_rows, first_unread), (rows, _unread) = fills[:2]
        assert 0 < first_rows <= 40 and first_unread >= total - 40  # the first frame
        assert rows == table.row_count == MAX_ROWS
        assert [table._by_id[rid].text for rid in table._order] == [e.text for e in expected]
        caption = str(screen.query_one("#entries-caption").render())
        assert f"({total}, latest {MAX_ROWS} shown)" in caption


async def test_a_session_opened_at_start_is_drawn_once_outside_textuals_start_up_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pushed inside Textual's start-up batch, the run screen was drawn, the frame dropped,
    and drawn again once the batch ended (~20 ms of `roundtable --session`'s first frame)."""
    from textual.app import App

    home, session_id = demo_home(tmp_path)
    drawn: list[tuple[str, int]] = []
    display = App._display

    def recorded(app: App, screen, renderable) -> None:
        if renderable is not None:
            drawn.append((type(screen).__name__, app._batch_count))
        display(app, screen, renderable)

    monkeypatch.setattr(App, "_display", recorded)
    app = make_app(home, session_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
    run_frames = [batch for name, batch in drawn if name == "RunScreen"]
    assert run_frames and all(batch == 0 for batch in run_frames), drawn[:5]
