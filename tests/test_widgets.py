"""Each widget in a tiny host app: keys in, posted messages and state out."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.message import Message

from roundtable.model import AgendaItem, Attendance, Country, Entry
from widgets import (
    AgendaList,
    CaptureBar,
    EntryTable,
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

    def on_tour_de_table_speech_finished(self, m) -> None:
        self.messages.append(m)

    def on_speaker_queue_speech_finished(self, m) -> None:
        self.messages.append(m)

    def on_speaker_queue_speaker_started(self, m) -> None:
        self.messages.append(m)

    def on_agenda_list_item_selected(self, m) -> None:
        self.messages.append(m)


def entry(n: int, kind: str = "issue", **kw) -> Entry:
    return Entry(id=f"e{n:04d}", entry_kind=kind, text=f"Entry {n}", created_at=f"{n:04d}", **kw)


async def test_timer_counts_down_warns_and_goes_overtime() -> None:
    clock = Clock()
    timer = TimeBoxTimer(clock=clock)
    async with Host(timer).run_test(size=(80, 24)) as pilot:
        timer.set_box(300, started_at=None, key="a")
        assert "05:00 left" in str(timer.render()) and timer.has_class("-paused")
        timer.set_box(300, started_at=clock.now, key="a")
        clock.now += 250
        timer.refresh_time()
        assert "00:50 left" in str(timer.render())
        assert timer.has_class("-warning") and not timer.has_class("-overtime")
        clock.now += 80
        timer.refresh_time()
        assert "+00:30 over" in str(timer.render()) and timer.has_class("-overtime")
        timer.toggle()  # pause: time stands still
        clock.now += 100
        timer.refresh_time()
        assert "+00:30 over" in str(timer.render())
        timer.toggle()
        clock.now += 10
        timer.refresh_time()
        assert "+00:40 over" in str(timer.render())
        await pilot.pause()


async def test_capture_bar_keeps_text_on_error_and_recalls_history() -> None:
    bar = CaptureBar(validate=lambda line: "col 3: bad" if "bad" in line else None)
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
        assert [m.line for m in app.messages] == ["/note fine"]
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
        assert [c.code for c in roll.visible()] == ["CI"]
        await pilot.press("enter")  # to the list
        await pilot.press("a")
        await pilot.pause()
        assert [(m.code, m.status) for m in app.messages] == [("CI", "apologies")]
        roll.set_attendance(Attendance(id="y", country="CI", status="apologies"))
        assert "Apologies 1" in str(roll.query_one(".roll-counts").render())


async def test_tour_rotates_passes_skips_and_tracks_not_yet_heard() -> None:
    clock = Clock()
    tour = TourDeTable(["GH", "KE", "NG"], budget=60, clock=clock)
    app = Host(tour)
    async with app.run_test(size=(80, 24)) as pilot:
        tour.rotate(1)
        assert tour.order == ["KE", "NG", "GH"]
        await pilot.press("enter")  # KE speaks
        clock.now += 42
        await pilot.press("k")  # skip: KE goes to the end of the order, once
        assert tour.order == ["NG", "GH", "KE"] and tour.current == "NG"
        clock.now += 30
        await pilot.press("p")  # NG passes after 30 s; GH gets the floor
        clock.now += 70
        await pilot.press("enter")  # GH done after 70 s; KE again
        assert tour.not_yet_heard() == []
        clock.now += 20
        await pilot.press("enter")  # KE done; finished
        await pilot.pause()
        assert tour.finished
        got = [(m.code, m.seconds, m.passed) for m in app.messages]
        assert got == [("NG", 30, True), ("GH", 70, False), ("KE", 20, False)]


async def test_speaker_queue_order_and_durations() -> None:
    clock = Clock()
    queue = SpeakerQueue(clock=clock)
    app = Host(queue)
    async with app.run_test(size=(80, 24)) as pilot:
        assert queue.add("GH") and queue.add("NG") and not queue.add("GH")
        assert queue.add("KE") and queue.remove("KE")
        assert queue.next() == "GH"
        clock.now += 33
        assert queue.next() == "NG"
        clock.now += 12
        queue.finish_current()
        await pilot.pause()
        kinds = [(type(m).__name__, m.code, getattr(m, "seconds", None)) for m in app.messages]
        assert kinds == [
            ("SpeakerStarted", "GH", None),
            ("SpeechFinished", "GH", 33),
            ("SpeakerStarted", "NG", None),
            ("SpeechFinished", "NG", 12),
        ]


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
