"""The facilitator's whole path, driven with Pilot as a user would, checked in the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from roundtable.app import RoundtableApp
from roundtable.config import Settings
from roundtable.store import LocalStore

FIXED_NOW = 1_795_600_800.0  # 2026-11-25 09:20 UTC


class FakeClock:
    """A wall clock the test moves by hand: timers and speeches get exact durations."""

    def __init__(self, now: float = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_app(home: Path, clock: FakeClock, session_id: str | None = None) -> RoundtableApp:
    return RoundtableApp(
        home=home, session_id=session_id, clock=clock, settings=Settings(), sync_enabled=False
    )


async def type_line(pilot, text: str) -> None:
    await pilot.press(*[c if c != " " else "space" for c in text])


async def capture(pilot, app: RoundtableApp, line: str) -> None:
    from widgets import CaptureBar

    bar = app.screen.query_one(CaptureBar)
    bar.focus_input()
    await pilot.pause()
    inp = bar.query_one("Input")
    inp.value = line
    await pilot.press("enter")
    await pilot.pause()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


async def test_full_session_walkthrough(home: Path, tmp_path: Path) -> None:
    from roundtable.screens.close import CloseScreen
    from roundtable.screens.edit import EditEntryModal
    from roundtable.screens.home import NewSessionModal
    from roundtable.screens.run import RunScreen
    from roundtable.screens.setup import SetupScreen
    from roundtable.screens.tour import TourScreen
    from widgets import AgendaList, CaptureBar, RollCall, TourDeTable

    clock = FakeClock()
    app = make_app(home, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        # 1. create a session from the Africa plan
        await pilot.press("ctrl+n")
        await pilot.pause()
        app.screen.query_one("#new-region").value = "africa"  # nothing to preset it from
        assert isinstance(app.screen, NewSessionModal)
        app.screen.query_one("#new-event").value = "Conference 2026"
        app.screen.query_one("#new-room").value = "Room 3"
        app.screen.query_one("#new-date").value = "2026-11-25"
        await pilot.click("#create")
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen)
        session_id = app.session_store.session_id

        # 2. set-up and roll call: five present, one apology
        app.screen.query_one("#setup-facilitator").value = "Ms. A. Diallo"
        roll = app.screen.query_one(RollCall)
        for code in ("GH", "NG", "KE", "SN", "ZA"):
            roll.post_message(RollCall.StatusChanged(code, "present"))
        roll.post_message(RollCall.StatusChanged("BW", "apologies"))
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)

        # 3. three agenda items with captures of every kind
        await capture(pilot, app, "/note Agenda adopted")
        await pilot.press("ctrl+n")
        await pilot.pause()
        await capture(pilot, app, "/issue Synthetic drug routes via ports @GH @NG #drugs")
        await capture(pilot, app, "/need Cyber forensics training @KE !high #cybercrime")
        await pilot.press("ctrl+n")
        await pilot.pause()
        await capture(pilot, app, "/action Share the watch list owner:@SN due:2026-12-15")
        await capture(pilot, app, "/decide Recommend a regional working group")
        await capture(pilot, app, "/issue Bad delegation @XQ")  # rejected inline
        bar = app.screen.query_one(CaptureBar)
        assert bar.input.value == "/issue Bad delegation @XQ"  # kept for fixing
        assert "XQ" in str(bar.query_one(".capture-status").render())
        await capture(pilot, app, "/action Circulate contacts")  # no owner/due: a finding
        assert bar.input.value == ""  # stored, so the bar is empty again
        await pilot.pause(0.2)  # the agenda's counts follow the new row
        agenda_list = app.screen.query_one(AgendaList)
        counts = [str(agenda_list.get_option_at_index(n).prompt)[-3:] for n in range(3)]
        assert counts == ["· 1", "· 2", "· 3"]

        store = app.session_store
        entries = store.records("entry")
        assert sorted(e.entry_kind for e in entries) == [
            "action", "action", "decision", "issue", "need", "note",
        ]  # fmt: skip
        assert not any("XQ" in e.text for e in entries)
        agenda = store.records("agenda_item")
        by_item = {e.text: e.agenda_item for e in entries}
        assert by_item["Agenda adopted"] == agenda[0].id
        assert by_item["Synthetic drug routes via ports"] == agenda[1].id
        assert by_item["Share the watch list"] == agenda[2].id

        # an edit and an undo
        need = next(e for e in entries if e.entry_kind == "need")
        app.push_screen(EditEntryModal(need.id))
        await pilot.pause()
        app.screen.query_one(
            "#edit-line"
        ).value = "/need Cyber forensics training for bureau staff @KE @ZA !high #cybercrime"
        await pilot.click("#save")
        await pilot.pause()
        edited = store.get("entry", need.id)
        assert edited.text == "Cyber forensics training for bureau staff"
        assert edited.delegations == ["KE", "ZA"]
        await pilot.press("escape")  # leave the capture bar
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert store.get("entry", need.id).text == "Cyber forensics training"

        # 4. tour de table of five delegations, then the speaker queue
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TourScreen)
        tour = app.screen.query_one(TourDeTable)
        tour.focus()
        for _ in range(5):
            await pilot.press("enter")
            clock.advance(90)
            await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        app.screen.query_one("#queue-add").value = "GH"
        app.screen.query_one("#queue-add").focus()
        await pilot.press("enter")
        await pilot.press("ctrl+e")
        clock.advance(45)
        await pilot.press("ctrl+x")  # end the turn (leaving the screen would not: issue 16)
        await pilot.press("escape")
        await pilot.pause()
        speeches = store.records("speech")
        tour_speeches = [s for s in speeches if s.mode == "tour"]
        assert sorted(s.country for s in tour_speeches) == ["GH", "KE", "NG", "SN", "ZA"]
        assert all(s.seconds == 90 for s in tour_speeches)
        assert [(s.country, s.seconds) for s in speeches if s.mode == "queue"] == [("GH", 45)]

        # 5. close with the completeness check
        assert isinstance(app.screen, RunScreen)
        assert not app.screen.query_one("#capture-input").has_focus
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, CloseScreen)
        findings = app.screen.findings()
        assert any(f.rule == "action-owner" for f in findings)
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.click("#yes")
        await pilot.pause()
        assert store.session.status == "closed"
        assert any(code.startswith("action-owner:") for code in store.session.accepted_gaps)

        # 6. minutes exported to a file named in the notification
        from roundtable.screens.minutes import export_minutes

        path = export_minutes(app, "md")
        html = export_minutes(app, "html")
    assert path is not None and html is not None
    text = path.read_text(encoding="utf-8")
    assert "Share the watch list" in text and "Ghana" in text
    assert "<script" not in html.read_text(encoding="utf-8").lower()

    # everything survived the app: reopen the store from disk
    with LocalStore(home).open_session(session_id) as ss:
        assert ss.session.status == "closed"
        assert len(ss.records("entry")) == 6
        assert len(ss.records("speech")) == 6
        present = sorted(a.country for a in ss.records("attendance") if a.status == "present")
        assert present == ["GH", "KE", "NG", "SN", "ZA"]
        assert ss.session.facilitator == "Ms. A. Diallo"


async def test_opens_demo_session_and_filters(home: Path) -> None:
    from roundtable.demo import create_demo
    from sessions import load_roster
    from widgets import EntryTable

    session_id = create_demo(LocalStore(home), load_roster())
    app = make_app(home, FakeClock(), session_id)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(EntryTable)
        before = table.row_count
        assert before > 0
        await pilot.press("escape")  # leave the capture bar
        await pilot.press("w")  # whole session
        await pilot.pause()
        assert table.row_count > before
        await pilot.press("f")  # issues only
        await pilot.pause()
        with LocalStore(home).open_session(session_id, read_only=True) as ss:
            issues = [e for e in ss.records("entry") if e.entry_kind == "issue"]
        assert table.row_count == len(issues)


async def test_the_edit_dialog_follows_the_sessions_regional_roster(home: Path) -> None:
    """The edit dialog parses with the roster the capture bar uses (issue 16, defect 12): a
    delegation of another region is refused there too, and the entry is left as it was."""
    from roundtable.demo import create_demo
    from roundtable.screens.edit import EditEntryModal
    from sessions import load_roster

    session_id = create_demo(LocalStore(home), load_roster())  # an Africa session
    app = make_app(home, FakeClock(), session_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        store = app.session_store
        need = next(e for e in store.records("entry") if e.entry_kind == "need")
        app.push_screen(EditEntryModal(need.id))
        await pilot.pause()
        app.screen.query_one("#edit-line").value = "/need Forensic kits @FR"
        await pilot.click("#save")
        await pilot.pause()
        assert isinstance(app.screen, EditEntryModal)  # refused: the dialog stays open
        assert "FR" in str(app.screen.query_one("#edit-error").render())
        assert store.get("entry", need.id).delegations == need.delegations


async def test_second_instance_is_refused_with_a_message(home: Path) -> None:
    store = LocalStore(home)
    event = store.create_event("Conf")
    session = store.create_session(event.id, "europe", "Europe RT", [])
    holder = store.open_session(session.id)
    try:
        app = make_app(home, FakeClock(), session.id)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert app.session_store is None
            assert any("another roundtable" in n.message for n in app._notifications)
    finally:
        holder.close()


async def test_ctrl_p_opens_the_palette_and_ctrl_b_goes_back_on_the_run_screen(
    home: Path,
) -> None:
    from textual.command import CommandPalette

    from roundtable.demo import create_demo
    from roundtable.screens.run import RunScreen
    from sessions import load_roster

    session_id = create_demo(LocalStore(home), load_roster())
    app = make_app(home, FakeClock(), session_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        before = app.session_store.session.current_item
        await pilot.press("ctrl+b")  # works while the capture bar has the focus
        await pilot.pause()
        after = app.session_store.session.current_item
        agenda = [i.id for i in app.session_store.records("agenda_item")]
        assert agenda.index(after) == agenda.index(before) - 1
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)


def _session_with_entries(home: Path, entries: int) -> str:
    """The demo session plus ``entries`` captures, closed (so its view covers the journal)."""
    from roundtable.demo import create_demo
    from sessions import load_roster

    store = LocalStore(home)
    session_id = create_demo(store, load_roster())
    with store.open_session(session_id) as ss:
        for n in range(entries):
            ss.add_entry(entry_kind="issue", text=f"Backlog issue {n}", delegations=["GH"])
    return session_id


async def _wait_for_history(pilot, app: RoundtableApp, records: bool = True) -> None:
    """Until the history, and with ``records`` the entries the view left unread, are read
    (the app's chain of slices)."""
    for _ in range(200):
        unit = app.session_store.unit
        if unit._history_loaded and not (records and unit.unread_records):
            return
        await pilot.pause(0.02)
    raise AssertionError("the history was never read")


async def test_history_is_read_after_the_first_screen_and_a_capture_counts_once(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import roundtable.app as app_module

    # the first slice of the history is read only after 30 s: the capture comes first
    monkeypatch.setattr(app_module, "HISTORY_STEP", (200, 30.0))
    session_id = _session_with_entries(home, 450)
    with LocalStore(home).open_session(session_id) as eager:
        pending_before = eager.pending_count()
        outbox_before = [op.op_id for op in eager.outbox()]
    app = make_app(home, FakeClock(), session_id)
    async with app.run_test(size=(120, 40)) as pilot:
        store = app.session_store
        assert not store.unit._history_loaded  # the first screen did not wait for it
        assert store.pending_count() == pending_before  # known from the view at once
        await capture(pilot, app, "/issue Raised while the history was being read @NG")
        assert store.unit._history_loaded  # the capture read the rest first
        await pilot.press("ctrl+z")  # undo the capture: the undo stack is complete
        await pilot.pause()
        await capture(pilot, app, "/need Forensic training @KE !high")
        await _wait_for_history(pilot, app, records=False)  # the next slice is 30 s away
        outbox = [op.op_id for op in store.outbox()]
    assert len(outbox) == len(set(outbox))  # every op once
    assert outbox[: len(outbox_before)] == outbox_before
    with LocalStore(home).open_session(session_id) as ss:
        texts = {e.text: e for e in ss.records("entry")}
        assert "Forensic training" in texts and texts["Forensic training"].priority == "high"
        assert "Raised while the history was being read" not in texts  # undone
        assert ss.pending_count() == len(outbox)
        assert [op.op_id for op in ss.outbox()] == outbox


async def test_damage_in_the_history_is_recovered_in_place_with_a_notice(home: Path) -> None:
    session_id = _session_with_entries(home, 30)
    unit_dir = home / "sessions" / session_id
    journal = unit_dir / "journal.jsonl"
    lines = journal.read_bytes().split(b"\n")
    lines[5] = lines[5].replace(b'"', b"'", 1)  # a damaged middle line, before the view's offset
    journal.write_bytes(b"\n".join(lines))
    app = make_app(home, FakeClock(), session_id)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.session_store is not None  # the session opens on its view
        await _wait_for_history(pilot, app)
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("line 6" in m and "moved aside" in m for m in messages), messages
        await capture(pilot, app, "/action Share the watch list @GH")
    assert list(unit_dir.glob("journal.jsonl.corrupt-*"))
    with LocalStore(home).open_session(session_id) as ss:
        texts = [e.text for e in ss.records("entry")]
        assert "Share the watch list" in texts
        assert "Backlog issue 29" in texts  # the view's records were kept


async def test_the_collector_is_off_until_the_first_screen_the_history_and_records_are_in(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    import roundtable.app as app_module

    monkeypatch.setattr(app_module, "HISTORY_STEP", (5, 0.01))  # many slices
    session_id = _session_with_entries(home, 60)
    assert gc.isenabled()
    app = make_app(home, FakeClock(), session_id)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            assert not gc.isenabled()  # the first screen is up, the history not yet read
            await _wait_for_history(pilot, app)
            await pilot.pause()
            assert gc.isenabled()
            await pilot.press("escape", "escape")  # to the session list: nothing held
            await pilot.pause()
        assert gc.isenabled()
        app = make_app(home, FakeClock())  # no session: on as soon as the list is up
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.pause()
            assert gc.isenabled()
    finally:
        gc.enable()


async def test_opening_another_session_while_a_history_is_read_reads_the_new_one(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    import roundtable.app as app_module
    from roundtable.demo import create_demo
    from sessions import load_roster

    monkeypatch.setattr(app_module, "HISTORY_STEP", (5, 0.01))
    first = _session_with_entries(home, 40)
    second = create_demo(LocalStore(home), load_roster())  # a second demo event's session
    app = make_app(home, FakeClock(), first)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            old = app.session_store
            await pilot.pause(0.03)  # a few slices of the first history
            assert not old.unit._history_loaded
            assert app.open_session(second)
            new = app.session_store
            assert old.unit.closed and new is not old
            await pilot.pause(0.03)  # the first reading's next slice comes and stops
            assert not new.unit._history_loaded and not gc.isenabled()
            await _wait_for_history(pilot, app)
            await pilot.pause()
            assert gc.isenabled()  # back on once the new one is read, not before
            assert new.pending_count() == len(new.outbox())
    finally:
        gc.enable()
