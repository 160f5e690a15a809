"""The room as a facilitator lives it (issue 22): each numbered finding, driven through the
app with Pilot on a real store in a temporary home, asserting on the stored records."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_live_run import FakeClock, new_session

from roundtable.app import RoundtableApp
from roundtable.config import Settings
from roundtable.store import LocalStore


def make_app(home: Path, clock: FakeClock, session_id: str | None) -> RoundtableApp:
    return RoundtableApp(
        home=home, session_id=session_id, clock=clock, settings=Settings(), sync_enabled=False
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def planned_session(home: Path, region: str = "americas", facilitator: str = "Ana Souza") -> str:
    """A session nobody has started: opening it shows the set-up and roll call."""
    local = LocalStore(home)
    event = local.create_event("Conference 2026")
    session = local.create_session(
        event.id, region, "Round table", agenda=[{"title": "Opening", "minutes": 5}]
    )
    with local.open_session(session.id) as ss:
        ss.update("session", session.id, facilitator=facilitator)
    local.close()
    return session.id


def statuses(app) -> dict[str, str]:
    return {a.country: a.status for a in app.session_store.records("attendance")}


async def capture(pilot, text: str) -> None:
    bar = pilot.app.screen.query_one("#capture")
    bar.focus_input()
    bar.input.value = text
    await pilot.press("enter")
    await pilot.pause()


# -- finding 1: the set-up screen's focus starts where its hint says ---------------------------


async def test_setup_opens_on_the_roll_call_filter_and_down_p_marks_present(home: Path) -> None:
    from roundtable.screens.setup import SetupScreen

    sid = planned_session(home)
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen)
        assert app.focused is app.screen.query_one("#roll-filter")
        await pilot.press("down", "p")
        await pilot.pause()
        assert app.session_store.session.facilitator == "Ana Souza"  # never replaced by "p"
        first = app.screen.query_one("#roll-table").get_row_at(0)[0]
        assert statuses(app) == {first: "present"}


# -- finding 2: ↑ returns to the filter; typing on the list filters, never marks ----------------


async def test_typing_on_the_roll_call_list_filters_and_up_returns_to_the_filter(
    home: Path,
) -> None:
    sid = planned_session(home)
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        field = app.screen.query_one("#roll-filter")
        table = app.screen.query_one("#roll-table")
        await pilot.press("down")  # on the list, Antigua/Argentina first
        assert app.focused is table
        await pilot.press("b", "r", "a")  # "bra" to find Brazil: no "apologies" for anyone
        await pilot.pause()
        assert statuses(app) == {}
        assert app.focused is field and field.value == "bra"
        await pilot.press("down", "p")
        await pilot.pause()
        assert statuses(app) == {"BR": "present"}
        await pilot.press("up")  # from the first row, back to the filter
        assert app.focused is field


# -- finding 3: p passes only for a delegation that has not spoken on this item ---------------


async def test_pass_is_refused_for_the_delegation_that_has_spoken(home: Path) -> None:
    from roundtable.screens.tour import TourScreen

    sid = new_session(home, region="americas", present=("AR", "BR", "CA"))
    clock = FakeClock()
    app = make_app(home, clock, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("escape", "t")
        await pilot.pause()
        assert isinstance(app.screen, TourScreen)
        await pilot.press("enter")  # Argentina has the floor
        await pilot.pause()
        await capture(pilot, "Routes through the river ports")  # Argentina's statement
        app.screen.query_one("#tour").focus()
        await pilot.press("p")
        await pilot.pause()
        store = app.session_store
        marks = {s.country: s.status for s in store.speakers(mode="tour")}
        assert marks == {"AR": "speaking", "BR": "waiting", "CA": "waiting"}  # refused
        assert not [s for s in store.speeches() if s.passed]
        assert any("already spoken" in n.message for n in app._notifications)
        # ended its turn, Brazil has the floor without saying anything yet: it may pass
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()
        marks = {s.country: s.status for s in store.speakers(mode="tour")}
        assert marks == {"AR": "done", "BR": "passed", "CA": "speaking"}
        # and the minutes count Argentina's turn, Brazil's pass
        heard = [s.country for s in store.speeches() if not s.passed and s.ended_at]
        assert heard == ["AR"]
        # after ten seconds on the floor, Canada has spoken even without a note
        clock.now += 11
        await pilot.press("p")
        await pilot.pause()
        assert {s.country: s.status for s in store.speakers(mode="tour")}["CA"] == "speaking"


# -- finding 4: the floor ends with its item ---------------------------------------------------


@pytest.mark.parametrize("key", ["ctrl+n", "ctrl+b"])
async def test_the_floor_ends_with_its_item(home: Path, key: str) -> None:
    sid = new_session(home, region="americas", present=("AR", "BR", "CA"))
    clock = FakeClock()
    app = make_app(home, clock, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        store = app.session_store
        if key == "ctrl+b":
            store.go_to_item(store.records("agenda_item")[1].id)
        store.tour_start(["AR", "BR"], 120)
        store.tour_next()  # Argentina has the floor on this item
        first_item = store.current_item_id()
        clock.now += 30
        await pilot.press(key)
        await pilot.pause()
        assert store.current_item_id() != first_item
        assert store.floor() is None
        speech = next(s for s in store.speeches() if s.country == "AR")
        assert speech.ended_at and speech.seconds == 30 and speech.agenda_item == first_item
        await capture(pilot, "A note on the new item")
        note = next(e for e in store.records("entry") if e.text == "A note on the new item")
        assert note.delegations == [] and note.agenda_item == store.current_item_id()


def screen_lines(app) -> list[str]:
    """The screen as the terminal shows it, line by line."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


# -- finding 5: the floor holder's name is always in the header ---------------------------------


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_header_names_the_floor_whatever_the_item_title(
    home: Path, size: tuple[int, int]
) -> None:
    sid = new_session(home, region="americas", present=("AR", "BR", "CA"))
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=size) as pilot:
        store = app.session_store
        item = store.current_item_id()
        long_title = "Drug trafficking routes through ports and transshipment hubs of the region"
        store.update("agenda_item", item, title=long_title)
        store.add_speaker("BR")
        store.next_speaker()
        await pilot.pause()
        head = next(line for line in screen_lines(app) if " left" in line)
        assert "1. Drug traffick" in head and "floor: Brazil" in head


async def open_tour(pilot):
    from roundtable.screens.tour import TourScreen

    await pilot.press("escape", "t")
    await pilot.pause()
    assert isinstance(pilot.app.screen, TourScreen)
    return pilot.app.screen


async def add_speaker(pilot, text: str) -> None:
    field = pilot.app.screen.query_one("#queue-add")
    field.focus()
    field.value = text
    await pilot.press("enter")
    await pilot.pause()


# -- finding 6: a point of order from a delegation already on the list -------------------------


async def test_a_point_of_order_takes_precedence_over_the_list(home: Path) -> None:
    sid = new_session(home, region="americas", present=("AR", "BR", "US"))
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_tour(pilot)
        for text in ("AR", "BR", "US", "!US"):
            await add_speaker(pilot, text)
        store = app.session_store
        waiting = [(s.country, s.point_of_order) for s in store.waiting_speakers()]
        assert waiting == [("US", True), ("AR", False), ("BR", False), ("US", False)]
        await add_speaker(pilot, "!US")  # a second one while the first waits: refused
        assert len(store.waiting_speakers()) == 4
        assert any("already waiting with a point of order" in n.message for n in app._notifications)
        await pilot.press("ctrl+e")  # the point of order has the floor; its place stays
        await pilot.pause()
        assert store.floor().country == "US"
        assert [s.country for s in store.waiting_speakers()] == ["AR", "BR", "US"]


# -- finding 7: the highlight follows the moved speaker ----------------------------------------


async def test_the_highlight_follows_the_moved_speaker(home: Path) -> None:
    sid = new_session(home, region="americas", present=("AR", "BR", "CA"))
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_tour(pilot)
        for text in ("AR", "BR", "CA"):
            await add_speaker(pilot, text)
        queue = app.screen.query_one("#queue")
        queue.focus()
        await pilot.press("down", "down")  # Canada
        await pilot.press("shift+up")
        await pilot.pause()
        store = app.session_store
        assert [s.country for s in store.waiting_speakers()] == ["AR", "CA", "BR"]
        await pilot.press("r")  # removes Canada, the speaker moved, not Brazil
        await pilot.pause()
        assert [s.country for s in store.waiting_speakers()] == ["AR", "BR"]


# -- finding 12: the floor line adds up --------------------------------------------------------


async def test_the_floor_line_adds_up(home: Path) -> None:
    sid = new_session(home, region="americas", present=("AR", "BR", "CA"))
    clock = FakeClock()
    app = make_app(home, clock, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_tour(pilot)
        await add_speaker(pilot, "AR")
        app.session_store.set_speaker_limit(app.session_store.waiting_speakers()[0].id, 120)
        await pilot.press("ctrl+e")
        await pilot.pause()
        clock.now += 4.6
        queue = app.screen.query_one("#queue")
        queue.refresh_view()
        assert "00:04 / 02:00  (01:56 left)" in str(queue.query_one(".queue-current").render())


# -- finding 8: undo never crosses a close; reopening is its own recorded command ---------------


async def test_undo_after_close_keeps_the_session_closed(home: Path) -> None:
    sid = new_session(home, region="americas", present=("AR", "BR", "CA"))
    clock = FakeClock()
    app = make_app(home, clock, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        store = app.session_store
        await capture(pilot, "A note before the close")
        store.close_session(accept=["attendance-unknown"])
        await pilot.pause()
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert store.session.status == "closed" and store.session.closed_at
        status = app.screen.query_one("#capture").query_one(".capture-status")
        assert "undo stops at the close" in str(status.render())
        assert [e.text for e in store.records("entry")] == ["A note before the close"]
        # reopening is its own command, recorded; undo does not close again either
        clock.now += 60
        app.screen.action_reopen()
        await pilot.pause()
        assert store.session.status == "running" and store.session.reopened_at
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert store.session.status == "running"


# -- finding 9: typing on the sessions list; n never creates; archive asks ---------------------


async def test_typing_on_the_sessions_list_filters_and_never_creates(home: Path) -> None:
    from roundtable.screens.common import ConfirmModal
    from roundtable.screens.home import HomeScreen, NewSessionModal

    americas = new_session(home, region="americas", present=("AR",))
    app = make_app(home, FakeClock(), None)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("n", "o", "p", "e", "enter")  # typing, then Enter
        await pilot.pause()
        assert not isinstance(app.screen, NewSessionModal)
        assert app.screen.query_one("#sessions-filter").value == "nope"
        assert len(LocalStore(home).sessions()) == 1  # nothing created
        # ctrl+n is the key: the region comes from the selected session, never Africa
        app.screen.query_one("#sessions-filter").value = ""
        await pilot.pause()
        app.screen.query_one("#sessions").focus()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, NewSessionModal)
        assert app.screen.query_one("#new-region").value == "americas"
        assert app.screen.query_one("#new-event").value == "Conference 2026"
        await pilot.press("escape")
        await pilot.pause()
        # delete archives, after asking; ctrl+a lists it, delete there restores it
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("escape")  # no: nothing changes
        await pilot.pause()
        assert [s.id for s in LocalStore(home).sessions()] == [americas]
        await pilot.press("delete")
        await pilot.pause()
        await pilot.click("#yes")
        await pilot.pause()
        assert LocalStore(home).sessions() == []
        assert app.screen.query_one("#sessions").row_count == 0
        await pilot.press("ctrl+a")
        await pilot.pause()
        assert app.screen.query_one("#sessions").row_count == 1
        await pilot.press("delete")
        await pilot.pause()
        await pilot.click("#yes")
        await pilot.pause()
        assert [s.status for s in LocalStore(home).sessions()] == ["running"]


async def test_the_sessions_list_names_no_session_after_one_was_open(home: Path) -> None:
    sid = new_session(home, region="americas", present=("AR",))
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        from roundtable.screens.home import HomeScreen

        await pilot.pause()
        await pilot.press("escape", "escape")  # out of the capture line, then to the list
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        status = str(app.screen.query_one(".status-session").render())
        assert "Round table" not in status and "sessions on this laptop" in status


# -- findings 10 and 11: the attendance and Annex A say who attended, all of the region -------


async def test_a_delegation_only_named_is_no_observer_and_annex_a_lists_the_whole_region(
    home: Path,
) -> None:
    from roundtable.minutes import render_markdown
    from roundtable.screens.common import ConfirmModal
    from sessions import countries_in

    sid = new_session(home, region="americas", present=("AR", "BR", "CA"))
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        bar = app.screen.query_one("#capture")
        bar.focus_input()
        bar.input.value = "/note Spain offered places on its cyber course @ES"
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.click("#yes")
        await pilot.pause()
        bar.focus_input()
        await pilot.press("enter")
        await pilot.pause()
        store = app.session_store
        assert [e.delegations for e in store.records("entry")] == [["ES"]]
        store.set_attendance("US", "present")
        store.set_attendance("US", "unknown")  # toggled and back
        minutes = render_markdown(store.snapshot(app.country_names()))
    attendance = minutes.split("## 2.")[0]
    assert "Observers" not in attendance and "Spain" not in attendance
    annex = minutes.split("Annex A")[1].split("Annex B")[0]
    rows = [line for line in annex.splitlines() if line.startswith("| ")][1:]  # no header
    assert len(rows) == len(countries_in("americas"))  # every member, recorded or not
    assert "| Brazil |" in annex and "| Spain |" not in annex
    assert annex.count("| not recorded |") == len(countries_in("americas")) - 3


# -- finding 12: the minor points --------------------------------------------------------------


async def test_deleting_the_saved_note_replaces_the_saved_line(home: Path) -> None:
    sid = new_session(home, region="americas", present=("AR",))
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await capture(pilot, "A note soon deleted")
        status = app.screen.query_one("#capture").query_one(".capture-status")
        assert "Saved note" in str(status.render())
        app.screen.query_one("#entries").focus()
        await pilot.press("d")
        await pilot.pause()
        await pilot.click("#yes")
        await pilot.pause()
        assert app.session_store.records("entry") == []
        assert "Saved" not in str(status.render()) and "Deleted note" in str(status.render())


async def test_the_roll_call_mid_session_offers_confirm_not_start(home: Path) -> None:
    from roundtable.screens.setup import SetupScreen

    sid = new_session(home, region="americas", present=("AR",))
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("escape", "a")
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen)
        shown = {b.binding.description for b in app.active_bindings.values()}
        assert "Confirm" in shown and "Confirm & start" not in shown
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, SetupScreen)
    planned = planned_session(home.parent / "other")
    app = make_app(home.parent / "other", FakeClock(), planned)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        shown = {b.binding.description for b in app.active_bindings.values()}
        assert "Confirm & start" in shown and "Confirm" not in shown


async def test_the_detail_pane_says_the_label_in_words(home: Path) -> None:
    sid = new_session(home, region="americas", present=("AR",))
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await capture(pilot, "/issue Routes through the river ports @AR ~red")
        await pilot.pause(0.2)
        detail = app.screen.query_one("#entry-detail").text()
        assert "Label: TLP:RED — the people in the room only" in detail


async def test_help_examples_use_the_session_region(home: Path) -> None:
    from roundtable.capture import parse_line
    from roundtable.rosters import regional_roster
    from sessions import load_roster

    sid = new_session(home, region="americas", present=("AR",))
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        text = app.screen.query_one("#help").source
        examples = text.split("Examples:")[1].split("```")[1].strip().splitlines()
        assert "@GH" not in text and "@ZM" not in text and "owner:@JO" not in text
        roster = regional_roster(load_roster(), "americas")
        for line in examples:  # each example is a line an Americas session takes
            parse_line(line, roster)


def test_roundtable_add_confirms_an_observer_and_owner_says_another_region(
    home: Path, capsys, monkeypatch
) -> None:
    from roundtable import cli

    monkeypatch.setenv("ROUNDTABLE_HOME", str(home))
    sid = new_session(home, region="africa", present=("GH",))
    code = cli.main(["add", sid, "/action Share the watch list owner:@JO"])
    err = capsys.readouterr().err
    assert code != 0 and "Jordan (@JO) is not a delegation of the Africa round table" in err
    assert "--observer JO" in err and len(err.strip().splitlines()) == 1
    code = cli.main(["add", sid, "/action Share the watch list owner:@JO", "--observer", "JO"])
    assert code == 0, capsys.readouterr().err
    with LocalStore(home).open_session(sid) as ss:
        assert ss.session.observers == ["JO"]
        assert [e.owner for e in ss.records("entry")] == ["JO"]
    code = cli.main(["add", sid, "/note x", "--observer", "GH"])
    assert code != 0 and "a member of this round table" in capsys.readouterr().err


# -- findings 13 and 14: usable at 80x24, 120x40 and 200x50 ------------------------------------

SIZES = [(80, 24), (120, 40), (200, 50)]


@pytest.fixture
def demo(tmp_path: Path) -> tuple[Path, str]:
    from _app import demo_home

    return demo_home(tmp_path)


def demo_app(demo):
    from _app import make_app as make_demo_app

    return make_demo_app(*demo)


def on_screen(app, widget) -> bool:
    region = widget.region
    return (
        region.height > 0
        and region.y >= 0
        and region.bottom <= app.size.height
        and region.right <= app.size.width
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(
    "keys",
    [
        ("escape", "escape", "ctrl+n"),
        ("escape", "e"),
        ("escape", "d"),
        ("escape", "escape", "delete"),
    ],
    ids=["new-session", "edit", "delete", "archive"],
)
async def test_every_dialog_button_is_on_screen(demo, size, keys) -> None:
    from textual.widgets import Button

    app = demo_app(demo)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
        buttons = list(app.screen.query(Button))
        assert buttons
        for button in buttons:
            assert on_screen(app, button), (button.id, button.region)
        if keys[-1] == "ctrl+n":
            encrypt = app.screen.query_one("#new-encrypt")
            assert on_screen(app, encrypt)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_text_gets_half_the_table_and_a_new_capture_is_in_view(demo, size) -> None:
    from widgets import EntryTable
    from widgets.entry_table import BADGE_WIDTH, column_widths

    app = demo_app(demo)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        table = app.screen.query_one(EntryTable)
        assert BADGE_WIDTH <= 2
        for n in range(3):
            await capture(pilot, f"/note Fresh capture number {n}")
        shown = screen_lines(app)
        assert any("Fresh capture number 2" in line for line in shown)  # scrolled to it
        width = table.scrollable_content_region.width
        _, text, _, _ = column_widths(width - BADGE_WIDTH, table._need, (table.size.width + 1) // 2)
        assert text >= table.size.width / 2
        assert table.row_count > 8  # the entries get the rows at 80x24 too
        header = table.render_line(0).text
        assert header.index("Delegations") - header.index("Text") >= table.size.width / 2


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_sessions_list_and_the_findings_fit(demo, size) -> None:
    app = demo_app(demo)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("escape", "x")
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        for finding in app.screen.findings():  # whole, wrapped if need be
            assert " ".join(finding.message.split()[-3:]) in " ".join(text.split()), finding
        await pilot.press("escape", "escape")
        await pilot.pause()
        header = next(line for line in screen_lines(app) if "Session" in line and "Date" in line)
        for column in ("Region", "Date", "Status", "Entries", "To sync"):
            assert column in header


async def test_f1_lists_the_new_keys(home: Path) -> None:
    import io

    from rich.console import Console

    sid = new_session(home, region="americas", present=("AR",))
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        console = Console(width=160, record=True, file=io.StringIO())
        for widget in app.screen.query(".help-keys"):
            console.print(widget.content)
        keys = console.export_text()
        for binding_id in ("home.new", "home.archive", "home.archived", "setup.confirm"):
            assert binding_id in keys
        note = app.screen.query_one("#help").source
        assert "typing goes to the filter" in note and "never crosses a close" in note


async def test_ctrl_z_undoes_a_status_on_the_roll_call_and_a_removal_on_the_list(
    home: Path,
) -> None:
    sid = new_session(home, region="americas", present=("AR", "BR"))
    app = make_app(home, FakeClock(), sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("escape", "a")
        await pilot.pause()
        await pilot.press("down", "x")  # Antigua and Barbuda "absent" by mistake
        await pilot.pause()
        assert statuses(app).get("AG") == "absent"
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert statuses(app).get("AG") in (None, "unknown")
        await pilot.press("escape", "t")  # back to the agenda (the list focused), the tour
        await pilot.pause()
        await add_speaker(pilot, "AR")
        app.screen.query_one("#queue").focus()
        await pilot.press("r")
        await pilot.pause()
        assert app.session_store.waiting_speakers() == []
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert [s.country for s in app.session_store.waiting_speakers()] == ["AR"]
