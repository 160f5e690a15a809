"""Issue 14 in the app, driven with Pilot: the entry list shows each entry's label, the edit
dialog changes it (and says when the secretariat will be asked to withdraw it), and the
export asks who the minutes are for and writes them cut to that audience."""

from __future__ import annotations

from pathlib import Path

from _app import FIXED_NOW, make_app

from roundtable.store import LocalStore

AGENDA = [
    {"title": "Opening", "item_kind": "opening"},
    {"title": "Cases", "item_kind": "discussion"},
]


def make_session(home: Path) -> tuple[str, dict[str, str]]:
    store = LocalStore(home, wall=lambda: FIXED_NOW)
    event = store.create_event("Conference")
    session = store.create_session(event.id, "africa", "Africa round table", AGENDA)
    with store.open_session(session.id) as ss:
        ss.update("session", session.id, status="running", attendance_confirmed=True)
        ids = {
            "clear": ss.add_entry("decision", "Adopt the agenda MARK-CLEAR", tlp="clear").id,
            "amber": ss.add_entry("issue", "Routes via ports MARK-AMBER").id,
            "red": ss.add_entry("issue", "Operation name MARK-RED", tlp="red").id,
        }
    return session.id, ids


async def test_the_entry_list_shows_each_label(tmp_path: Path) -> None:
    from widgets import EntryTable

    home = tmp_path / "home"
    sid, ids = make_session(home)
    app = make_app(home, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(EntryTable)
        table.set_entries(app.session_store.records("entry"))  # the whole session's
        await pilot.pause()
        lines = {table.entry_at(i).id: table.render_line(i + 1).text for i in range(3)}
        header = table.render_line(0).text
    # issue 22: a one-cell badge with the label's initial (the detail pane says it in words)
    assert lines[ids["clear"]].startswith(" C ")
    assert lines[ids["amber"]].startswith(" A ")
    assert lines[ids["red"]].startswith(" R ")
    assert header.startswith("   Kind")


async def test_the_edit_dialog_relabels_and_says_a_pushed_entry_is_withdrawn(
    tmp_path: Path,
) -> None:
    from textual.widgets import Select

    from roundtable.screens.edit import EditEntryModal

    home = tmp_path / "home"
    sid, ids = make_session(home)
    app = make_app(home, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        store = app.session_store
        # the secretariat acknowledged the amber entry's ops (as a sync round would)
        store.mark_acked([o.op_id for o in store.outbox() if o.record_id == ids["amber"]])
        app.push_screen(EditEntryModal(ids["amber"]))
        await pilot.pause()
        assert "~" not in app.screen.query_one("#edit-line").value  # the label has its list
        app.screen.query_one("#edit-tlp", Select).value = "red"
        await pilot.click("#save")
        await pilot.pause()
        assert store.get("entry", ids["amber"]).tlp == "red"
        messages = [n.message for n in app._notifications]
        assert any("withdraw" in m for m in messages), messages
        (withdrawal,) = [o for o in store.outbox() if o.record_id == ids["amber"]]
        assert (withdrawal.record_id, withdrawal.field, withdrawal.value) == (
            ids["amber"],
            "deleted",
            True,
        )
        # a typed ~label wins over the list
        app.push_screen(EditEntryModal(ids["clear"]))
        await pilot.pause()
        line = app.screen.query_one("#edit-line")
        line.value = line.value + " ~green"
        await pilot.click("#save")
        await pilot.pause()
        assert store.get("entry", ids["clear"]).tlp == "green"


async def test_the_export_asks_for_the_audience(tmp_path: Path) -> None:
    from textual.widgets import Select

    from roundtable.screens.minutes import ExportModal, MinutesScreen

    home = tmp_path / "home"
    sid, _ids = make_session(home)
    app = make_app(home, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.push_screen(MinutesScreen())
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ExportModal)  # one dialog: audience, language, format
        app.screen.query_one("#export-audience", Select).value = "public"
        await pilot.pause()
        await pilot.press("enter")  # the Export button has the focus
        await pilot.pause()
        assert isinstance(app.screen, MinutesScreen)
        await pilot.press("h")
        await pilot.pause()
        await pilot.press("escape")  # cancelled: nothing written
        await pilot.pause()
    written = sorted((home / "exports").glob("*.md"))
    assert [p.name.split("-minutes-")[1] for p in written] == ["en-public-draft1.md"]
    text = written[0].read_text(encoding="utf-8")
    assert "MARK-CLEAR" in text and "MARK-AMBER" not in text and "MARK-RED" not in text
    assert "Entries withheld (TLP:AMBER): 1" in text and "Entries withheld (TLP:RED): 1" in text
    assert not list((home / "exports").glob("*.html"))


async def test_the_set_up_chooses_the_session_default_label(tmp_path: Path) -> None:
    from textual.widgets import Select

    from roundtable.screens.setup import SetupScreen

    home = tmp_path / "home"
    store = LocalStore(home, wall=lambda: FIXED_NOW)
    event = store.create_event("Conference")
    sid = store.create_session(event.id, "africa", "Africa round table", AGENDA).id
    app = make_app(home, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen)
        choice = app.screen.query_one("#setup-tlp", Select)
        assert choice.value == "amber"  # the built-in default
        choice.value = "green"
        await pilot.pause()
        session_store = app.session_store
        assert session_store.session.default_tlp == "green"
        assert session_store.add_entry("note", "Captured after set-up").tlp == "green"
    with LocalStore(home).open_session(sid, read_only=True) as ss:
        assert ss.session.default_tlp == "green"
