"""Each widget in a tiny host app: keys in, posted messages and state out."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.message import Message

from roundtable.model import AgendaItem, Attendance, Country, Entry
from widgets import (
    AgendaList,
    CaptureBar,
    EntryTable,
    KeyBar,
    RollCall,
    SpeakerQueue,
    SyncBadge,
    TimeBoxTimer,
    TourDeTable,
)


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Host(App):
    """Mounts one widget and keeps every message it posts."""

    def __init__(self, widget) -> None:
        super().__init__()
        self.widget = widget
        self.messages: list[Message] = []

    def compose(self) -> ComposeResult:
        yield self.widget

    def on_mount(self) -> None:
        self.widget.focus()

    def on_capture_bar_submitted(self, m) -> None:
        self.messages.append(m)

    def on_capture_bar_cancelled(self, m) -> None:
        self.messages.append(m)

    def on_entry_table_edit_requested(self, m) -> None:
        self.messages.append(m)

    def on_entry_table_delete_requested(self, m) -> None:
        self.messages.append(m)

    def on_roll_call_status_changed(self, m) -> None:
        self.messages.append(m)

    def on_roll_call_delegates_requested(self, m) -> None:
        self.messages.append(m)

    def on_tour_de_table_next(self, m) -> None:
        self.messages.append(m)

    def on_tour_de_table_pass(self, m) -> None:
        self.messages.append(m)

    def on_tour_de_table_skip(self, m) -> None:
        self.messages.append(m)

    def on_speaker_queue_move_requested(self, m) -> None:
        self.messages.append(m)

    def on_speaker_queue_remove_requested(self, m) -> None:
        self.messages.append(m)

    def on_speaker_queue_limit_requested(self, m) -> None:
        self.messages.append(m)

    def on_agenda_list_item_selected(self, m) -> None:
        self.messages.append(m)


def entry(n: int, kind: str = "issue", **kw) -> Entry:
    return Entry(id=f"e{n:04d}", entry_kind=kind, text=f"Entry {n}", created_at=f"{n:04d}", **kw)


async def test_timer_counts_down_warns_and_goes_overtime() -> None:
    clock = Clock()
    timer = TimeBoxTimer(clock=clock)
    async with Host(timer).run_test(size=(80, 24)) as pilot:
        timer.show("a", 300, 0, "idle")
        assert "05:00 left (s starts)" in str(timer.render()) and timer.has_class("-paused")
        timer.show("a", 300, 0, "running")
        clock.now += 275
        timer.refresh_time()
        assert "00:25 left" in str(timer.render())
        assert timer.has_class("-warning") and not timer.has_class("-overtime")
        clock.now += 55
        timer.refresh_time()
        assert "+00:30 over" in str(timer.render()) and timer.has_class("-overtime")
        timer.show("a", 300, 330, "paused")  # the clock's records say: paused at 330 s
        clock.now += 100
        timer.refresh_time()
        assert "+00:30 over paused" in str(timer.render())
        timer.show("a", 300, 330, "running")
        clock.now += 10
        timer.refresh_time()
        assert "+00:40 over" in str(timer.render())
        timer.show("a", 300, 340, "closed")
        clock.now += 100
        timer.refresh_time()
        assert "+00:40 over (closed)" in str(timer.render())
        await pilot.pause()


def _parse_or_fail(line: str) -> str:
    if "bad" in line:
        raise ValueError("col 3: bad")
    return line.upper()


async def test_lines_typed_before_the_last_is_stored_are_each_posted_alone() -> None:
    """A facilitator typing fast: Enter, the next line and Enter again before the screen has
    stored the first.  The input then holds both lines; the second Enter posts only the second
    (it posted both run together and failed to parse, so its Enter was lost and the lines
    merged).  A line the screen could not store stays at the front of the input."""
    bar = CaptureBar(parse=_parse_or_fail)
    app = Host(bar)
    async with app.run_test(size=(80, 24)) as pilot:
        bar.focus_input()
        for line in ("/issue one", "/need two", "/note three"):
            bar.input.value += line
            bar.input.cursor_position = len(bar.input.value)
            await pilot.press("enter")
        await pilot.pause()
        assert [m.line for m in app.messages] == ["/issue one", "/need two", "/note three"]
        assert bar.input.value == "/issue one/need two/note three"  # none answered yet
        bar.show_saved("Saved issue")
        assert bar.input.value == "/need two/note three"
        bar.show_error("Not saved: the session is closed")
        assert bar.input.value == "/need two/note three"  # kept for fixing
        bar.show_saved("Saved note")
        assert bar.input.value == "/need two"
        await pilot.press("enter")  # sent again, alone
        await pilot.pause()
        assert app.messages[-1].line == "/need two"


async def test_capture_bar_keeps_text_on_error_and_recalls_history() -> None:
    bar = CaptureBar(parse=_parse_or_fail)
    app = Host(bar)
    async with app.run_test(size=(80, 24)) as pilot:
        bar.focus_input()
        bar.input.value = "a bad line"
        await pilot.press("enter")
        await pilot.pause()
        assert bar.input.value == "a bad line"
        assert "col 3: bad" in str(bar.query_one(".capture-status").render())
        assert app.messages == []
        bar.input.value = "/note fine"
        await pilot.press("enter")
        await pilot.pause()
        assert [(m.line, m.captured) for m in app.messages] == [("/note fine", "/NOTE FINE")]
        assert bar.input.value == "/note fine"  # kept until the screen says it is stored
        bar.show_saved("Saved note")
        assert bar.input.value == ""
        await pilot.press("up")
        assert bar.input.value == "/note fine"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.messages[-1], CaptureBar.Cancelled)


async def test_entry_table_filters_marks_conflicts_and_posts_requests() -> None:
    table = EntryTable()
    app = Host(table)
    async with app.run_test(size=(100, 24)) as pilot:
        entries = [entry(1), entry(2, "need"), entry(3, "action", owner="GH")]
        table.set_entries(entries, {"e0002": "lap-b"})
        assert table.row_count == 3
        assert "also edited by lap-b" in str(table.get_cell("e0002", "text"))
        table.set_entries(entries + [entry(4, "need")])  # append: rows kept, one added
        assert table.row_count == 4
        assert "also edited" not in str(table.get_cell("e0002", "text"))
        table.set_filter("need")
        assert table.row_count == 2
        table.select_entry("e0004")
        await pilot.press("e")
        await pilot.press("d")
        await pilot.pause()
        assert [type(m).__name__ for m in app.messages] == ["EditRequested", "DeleteRequested"]
        assert all(m.entry_id == "e0004" for m in app.messages)


async def test_roll_call_filter_and_status_keys() -> None:
    countries = [
        Country("GH", "Ghana", "africa"),
        Country("CI", "Côte d'Ivoire", "africa"),
        Country("KE", "Kenya", "africa"),
    ]
    roll = RollCall(countries, {"KE": Attendance(id="x", country="KE", status="present")})
    app = Host(roll)
    async with app.run_test(size=(80, 24)) as pilot:
        counts = str(roll.query_one(".roll-counts").render())
        assert "Present 1" in counts and "Not recorded 2" in counts
        roll.query_one("#roll-filter").focus()
        await pilot.press("c", "o", "t", "e")  # accent-insensitive
        await pilot.pause()
        assert [c.code for c in roll.visible_countries()] == ["CI"]
        await pilot.press("enter")  # to the list
        await pilot.press("a")
        await pilot.pause()
        assert [(m.code, m.status) for m in app.messages] == [("CI", "apologies")]
        roll.set_attendance(Attendance(id="y", country="CI", status="apologies"))
        assert "Apologies 1" in str(roll.query_one(".roll-counts").render())


async def test_tour_shows_the_stored_tour_and_posts_what_the_facilitator_asks() -> None:
    from widgets.tour import FloorView

    clock = Clock()
    tour = TourDeTable(names={"KE": "Kenya"}, budget=60, clock=clock)
    app = Host(tour)
    async with app.run_test(size=(80, 24)) as pilot:
        tour.show([], None, present=["GH", "KE"])  # not started: the order it would take
        assert tour.not_yet_heard() == ["GH", "KE"]
        assert "Enter gives the floor to GH" in str(tour.query_one(".tour-current").render())
        tour.show([("KE", "speaking"), ("NG", "passed"), ("GH", "skipped once")],
                  FloorView("KE", clock.now, 60))  # fmt: skip
        clock.now += 61
        tour.refresh_view()
        current = tour.query_one(".tour-current")
        assert "Speaking: Kenya" in str(current.render()) and current.has_class("-over")
        order = str(tour.query_one(".tour-order").render())
        assert "(passed)" in order and "(skipped once)" in order
        assert tour.not_yet_heard() == ["GH"]
        await pilot.press("enter", "p", "k")
        await pilot.pause()
        assert [type(m).__name__ for m in app.messages] == ["Next", "Pass", "Skip"]
        tour.show([("KE", "heard"), ("GH", "skipped")], None)
        assert tour.finished
    try:
        TourDeTable(budget=0)
    except ValueError as exc:
        assert "budget" in str(exc)
    else:
        raise AssertionError("a zero budget must be refused")


async def test_speaker_queue_shows_countdown_and_stats_and_posts_requests() -> None:
    from widgets.speaker_queue import WaitingSpeaker
    from widgets.tour import FloorView

    clock = Clock()
    queue = SpeakerQueue(names={"GH": "Ghana", "NG": "Nigeria"}, clock=clock)
    app = Host(queue)
    async with app.run_test(size=(100, 24)) as pilot:
        assert "empty" in str(queue.query_one(".queue-waiting").render())
        queue.show(
            [
                WaitingSpeaker("s1", "NG", point_of_order=True),
                WaitingSpeaker("s2", "GH", limit=90, interventions=2, seconds=130),
            ],
            FloorView("KE", clock.now, 120, "queue"),
            balanced=True,
        )
        clock.now += 30
        queue.refresh_view()
        assert "01:30 left" in str(queue.query_one(".queue-current").render())
        waiting = str(queue.query_one(".queue-waiting").render())
        assert "Nigeria (point of order)" in waiting and "2 interventions, 02:10" in waiting
        assert "Balanced" in str(queue.query_one(".queue-mode").render())
        queue.focus()
        await pilot.press("down", "shift+up", "r", "l")
        await pilot.pause()
        got = [(type(m).__name__, m.speaker_id) for m in app.messages]
        # the highlight stays with the speaker moved (issue 22, finding 7), never its old row
        assert got == [("MoveRequested", "s2"), ("RemoveRequested", "s2"), ("LimitRequested", "s2")]


async def test_agenda_list_marks_current_and_selects() -> None:
    items = [
        AgendaItem(id="a1", position=0, title="Opening", minutes=5),
        AgendaItem(id="a2", position=1, title="Drugs", minutes=20),
    ]
    agenda = AgendaList()
    app = Host(agenda)
    async with app.run_test(size=(80, 24)) as pilot:
        agenda.set_items(items, "a2", {"a2": 3})
        assert agenda.highlighted == 1
        assert "▶" in str(agenda.get_option_at_index(1).prompt)
        assert "· 3" in str(agenda.get_option_at_index(1).prompt)
        agenda.highlighted = 0
        await pilot.press("enter")
        await pilot.pause()
        assert [m.item_id for m in app.messages] == ["a1"]


async def test_sync_badge_states() -> None:
    badge = SyncBadge()
    async with Host(badge).run_test(size=(80, 24)):
        badge.set_state("offline", "offline since 10:42 · 3 pending")
        assert badge.has_class("-offline") and "offline since 10:42" in str(badge.render())
        badge.set_state("synced", "synced")
        assert badge.has_class("-synced") and not badge.has_class("-offline")


async def test_timer_warning_threshold_is_the_smaller_of_30_seconds_and_a_fifth() -> None:
    """One warning threshold for every countdown (issue 26): the last 20 % or 30 s, whichever is
    shorter; the session's plan may change both."""
    clock = Clock()
    timer = TimeBoxTimer(clock=clock)
    async with Host(timer).run_test(size=(80, 24)):
        timer.show("long", 1800, 0, "running")  # 30 min: warn at 0:30
        clock.now += 1800 - 31
        timer.refresh_time()
        assert not timer.has_class("-warning")
        clock.now += 1
        timer.refresh_time()
        assert timer.has_class("-warning") and "00:30 left" in str(timer.render())
        timer.show("short", 100, 0, "running")  # 100 s: warn at 0:20
        clock.now += 79
        timer.refresh_time()
        assert not timer.has_class("-warning") and "00:21 left" in str(timer.render())
        clock.now += 1
        timer.refresh_time()
        assert timer.has_class("-warning")
        timer.warning_percent, timer.warning_cap = 10, 120  # a plan's: 10 % or 2 min
        timer.show("plan", 1800, 0, "running")  # warn at 2:00
        clock.now += 1800 - 120
        timer.refresh_time()
        assert timer.has_class("-warning") and "02:00 left" in str(timer.render())
        try:
            timer.show("bad", -5, 0, "idle")
        except ValueError as exc:
            assert "'bad'" in str(exc) and "-5" in str(exc)
        else:
            raise AssertionError("a negative time box must be refused")


async def test_capture_bar_prefix_history_walk_and_status_classes() -> None:
    bar = CaptureBar(parse=lambda line: line)
    app = Host(bar)
    async with app.run_test(size=(80, 24)) as pilot:
        bar.focus_input("/action ")
        await pilot.pause()
        assert bar.input.value == "/action " and bar.input.has_focus
        await pilot.press(*"GH")
        await pilot.press("enter")
        bar.input.value = "/note two"
        await pilot.press("enter")
        await pilot.pause()
        assert [m.line for m in app.messages] == ["/action GH", "/note two"]
        assert bar.input.value == "/note two"
        bar.show_saved("Saved note")  # what the screen does once the line is stored
        bar.focus_input("/need ")  # empty again, so the prefix goes in
        assert bar.input.value == "/need "
        bar.input.value = ""
        await pilot.press("enter")  # an empty line is not submitted
        await pilot.pause()
        assert len(app.messages) == 2
        await pilot.press("up", "up")
        assert bar.input.value == "/action GH"
        await pilot.press("down")
        assert bar.input.value == "/note two"
        await pilot.press("down")
        assert bar.input.value == ""
        status = bar.query_one(".capture-status")
        bar.show_saved("Saved issue #12: Synthetic drug routes")
        assert status.has_class("-saved") and "Saved issue #12" in str(status.render())
        bar.show_error("col 5: unknown kind /isue")
        assert status.has_class("-error") and not status.has_class("-saved")
        await pilot.press("x")  # typing clears a stale error
        await pilot.pause()
        assert not status.has_class("-error")


async def test_entry_table_updates_in_place_and_keeps_cursor() -> None:
    table = EntryTable()
    app = Host(table)
    async with app.run_test(size=(80, 24)) as pilot:
        entries = [entry(n, "need" if n % 2 else "issue") for n in range(1, 301)]
        table.set_entries(entries)
        table.select_entry("e0150")
        first_row = table.row("e0001")
        # a capture: one row appended, the existing rows are not rebuilt, the cursor stays
        entries.append(entry(301, "action"))
        table.set_entries(entries)
        assert table.row_count == 301 and table.row("e0001") is first_row
        assert table.selected_entry_id() == "e0150"
        # an edit changes one cell in place
        entries[149] = entry(150, "issue", priority="high")
        table.set_entries(entries)
        assert "!high" in str(table.get_cell("e0150", "details"))
        assert table.row("e0001") is first_row
        # a delete in the middle removes that row only; the cursor stays on its entry
        del entries[9]
        table.set_entries(entries)
        texts = {table.get_row_at(n)[1] for n in range(table.row_count)}
        assert table.row_count == 300 and "Entry 10" not in texts
        assert table.row("e0001") is first_row
        assert table.selected_entry_id() == "e0150"
        assert table.get_row_at(9)[1] == "Entry 11"
        # the filter narrows and widens again
        table.set_filter("action")
        assert table.row_count == 1 and table.selected_entry_id() == "e0301"
        table.set_filter(None)
        assert table.row_count == 300
        # conflict marker and action details
        table.set_entries([entry(1, "action", owner="GH", due="2026-12-01")], {"e0001": "lap-b"})
        assert table.row_count == 1
        assert str(table.get_cell("e0001", "text")).startswith("⚠ also edited by lap-b")
        details = str(table.get_cell("e0001", "details"))
        assert "owner GH" in details and "due 2026-12-01" in details
        await pilot.press("delete")
        await pilot.pause()
        assert [m.entry_id for m in app.messages] == ["e0001"]


async def test_entry_table_keys_mouse_and_what_reaches_the_screen() -> None:
    table = EntryTable()
    app = Host(table)
    async with app.run_test(size=(80, 12)) as pilot:
        entries = [entry(n) for n in range(1, 41)]
        entries[0] = Entry(
            id="e0001",
            entry_kind="issue",
            text="Ports \x1b[31mred\x07 and\u200b zero-width",
            created_at="0001",
        )
        table.set_entries(entries)
        table.focus()
        await pilot.press("home")
        assert table.selected_entry_id() == "e0001"
        await pilot.press("down", "down")
        assert table.selected_entry_id() == "e0003"
        await pilot.press("end")
        assert table.selected_entry_id() == "e0040"
        await pilot.pause()
        screen = app.export_screenshot().replace("&#160;", " ")
        assert "Entry 40" in screen and "Entry 1 " not in screen  # scrolled to the cursor
        await pilot.press("pageup")
        assert table.selected_entry_id() < "e0040"
        await pilot.press("home")
        await pilot.pause()
        # control characters and zero-width format characters never reach the terminal
        assert table.get_row_at(0)[1] == "Ports [31mred and zero-width"
        screen = app.export_screenshot()
        assert "\x1b" not in screen and "\u200b" not in screen
        # a capture: the new row is drawn at the end; the cursor follows when asked
        table.append_entry(entry(41, "need"))
        table.select_entry("e0041")
        for _ in range(20):  # the frame after the scroll (one pause was short under load)
            await pilot.pause(0.02)
            if "Entry 41" in app.export_screenshot().replace("&#160;", " "):
                break
        assert "Entry 41" in app.export_screenshot().replace("&#160;", " ")
        await pilot.click(EntryTable, offset=(5, 2))  # header is line 0: line 2 is a row
        assert table.selected_entry_id() != "e0041"
        clicked = table.selected_entry_id()
        await pilot.press("enter")
        await pilot.pause()
        assert [type(m).__name__ for m in app.messages] == ["EditRequested"]
        assert app.messages[0].entry_id == clicked


async def test_entry_table_empty_posts_nothing() -> None:
    table = EntryTable()
    app = Host(table)
    async with app.run_test(size=(80, 24)) as pilot:
        table.set_entries([])
        await pilot.press("e", "d")
        await pilot.pause()
        assert app.messages == [] and table.selected_entry_id() is None


async def test_roll_call_keys_move_down_and_delegates_request() -> None:
    countries = [
        Country(code, name, "europe")
        for code, name in [
            ("AT", "Austria"),
            ("BE", "Belgium"),
            ("DE", "Germany"),
            ("FR", "France"),
        ]
    ]
    roll = RollCall(countries, {})
    app = Host(roll)
    async with app.run_test(size=(80, 24)) as pilot:
        roll.query_one("#roll-filter").focus()
        await pilot.press("down")  # from the filter to the list
        await pilot.press("p", "x", "u", "enter")
        await pilot.pause()
        got = [(type(m).__name__, m.code, getattr(m, "status", None)) for m in app.messages]
        assert got == [
            ("StatusChanged", "AT", "present"),
            ("StatusChanged", "BE", "absent"),
            ("StatusChanged", "DE", "unknown"),
            ("DelegatesRequested", "FR", None),
        ]
        roll.set_attendance(
            Attendance(id="a", country="FR", status="present", delegates=["M. Dupont"])
        )
        table = roll.query_one("#roll-table")
        assert table.get_cell("FR", "delegates") == "M. Dupont"
        assert "Present 1" in str(roll.query_one(".roll-counts").render())
        roll.query_one("#roll-filter").focus()
        await pilot.press(*"de")  # exact code DE, and 'de' inside no other name: Germany only
        await pilot.pause()
        assert [c.code for c in roll.visible_countries()] == ["DE"]
        await pilot.press("backspace", "backspace", *"zz")
        await pilot.pause()
        assert roll.visible_countries() == [] and table.row_count == 0
        table.focus()
        await pilot.press("p", "enter")  # nothing under the cursor: nothing posted
        await pilot.pause()
        assert len(app.messages) == 4


async def test_agenda_list_same_input_is_a_no_op_and_counts_update() -> None:
    items = [AgendaItem(id="a1", position=0, title="Opening", minutes=5)]
    agenda = AgendaList()
    async with Host(agenda).run_test(size=(80, 24)):
        agenda.set_items(items, "a1", {})
        option = agenda.get_option_at_index(0)
        agenda.set_items(items, "a1", {})
        assert agenda.get_option_at_index(0) is option
        agenda.set_items(items, "a1", {"a1": 4})
        assert "· 4" in str(agenda.get_option_at_index(0).prompt)


async def test_sync_badge_refuses_unknown_state() -> None:
    badge = SyncBadge()
    async with Host(badge).run_test(size=(80, 24)):
        try:
            badge.set_state("weird", "x")
        except ValueError as exc:
            assert "'weird'" in str(exc)
        else:
            raise AssertionError("unknown state accepted")
        assert badge.state == "off"


class KeyHost(App):
    """Two focusable widgets with their own keys, and a key bar."""

    BINDINGS = [
        ("ctrl+q", "quit", "Quit"),
        Binding("f5", "count", "Count", tooltip="Add one"),
        Binding("f6", "never", "Never"),
        Binding("f7", "hidden", "Hidden", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def compose(self) -> ComposeResult:
        yield CaptureBar(id="bar")
        yield KeyBar()

    def action_count(self) -> None:
        self.count += 1

    def check_action(self, action: str, parameters) -> bool | None:
        return None if action == "never" else True


def _key_bar_text(app: App) -> str:
    return app.query_one(KeyBar).render().plain


async def test_key_bar_shows_the_keys_of_the_focus_and_clicks_run_them() -> None:
    app = KeyHost()
    async with app.run_test(size=(100, 5)) as pilot:
        app.query_one("#bar Input").focus()
        await pilot.pause()
        text = _key_bar_text(app)
        assert "esc Leave capture" in text  # the focused capture bar's key
        assert "f5 Count" in text and "Hidden" not in text
        assert text.rstrip().endswith("^p palette")
        bar = app.query_one(KeyBar)
        count = next(k for k in bar._shown if k.key == "f5")
        await pilot.click(KeyBar, offset=(count.start + 1, 0))
        await pilot.click(KeyBar, offset=(count.end - 1, 0))
        assert app.count == 2
        never = next(k for k in bar._shown if k.key == "f6")
        assert not never.enabled
        await pilot.click(KeyBar, offset=(never.start, 0))  # disabled: a bell, nothing runs
        assert app.count == 2
        await pilot.hover(KeyBar, offset=(count.start, 0))
        assert bar.tooltip == "Add one"
        app.set_focus(None)
        await pilot.pause()
        assert "Leave capture" not in _key_bar_text(app)


async def test_key_bar_drops_whole_keys_that_do_not_fit_and_keeps_the_palette() -> None:
    app = KeyHost()
    async with app.run_test(size=(34, 5)) as pilot:
        await pilot.pause()
        text = _key_bar_text(app)
        assert len(text) == 34
        assert text.rstrip().endswith("^p palette")
        shown = [k.key for k in app.query_one(KeyBar)._shown]
        assert shown[-1] == "ctrl+p" and "f6" not in shown
        assert all(k.end <= 34 for k in app.query_one(KeyBar)._shown)
