"""Issue 21: meeting commands are pure functions (``roundtable.commands``: state in, changes
out) that the store applies as one undoable change (``SessionStore.apply`` / ``perform``), and
the app and the command line call the same ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from _app import demo_home, make_app

from roundtable import cli, commands
from roundtable.commands import Change, CommandError, SessionState
from roundtable.model import Entry
from roundtable.store import LocalStore, StoreError

STATE = SessionState(
    session_id="s1", current_item="item-2", default_tlp="green", now="2026-11-25T09:20:00+00:00",
    floor="GH",
)  # fmt: skip


def test_a_capture_is_one_creation_with_the_sessions_defaults() -> None:
    changes = commands.capture(STATE, "action", "Share the watch list", owner="JO", entry_id="e1")
    assert changes.label == "add action" and changes.created == "e1"
    (change,) = changes.changes
    assert change == Change(
        "entry",
        "e1",
        {
            "session_id": "s1",
            "entry_kind": "action",
            "text": "Share the watch list",
            "owner": "JO",
            "status": "open",  # an action is open
            "agenda_item": "item-2",  # the current item
            "created_at": "2026-11-25T09:20:00+00:00",
            "tlp": "green",  # the session's default label
        },
    )


def test_a_line_naming_no_delegation_is_the_floors_only_when_the_face_says_so() -> None:
    by_floor = commands.capture(STATE, "issue", "Routes via ports", by_floor=True, entry_id="e")
    assert by_floor.changes[0].fields["delegations"] == ["GH"]
    plain = commands.capture(STATE, "issue", "Routes via ports", entry_id="e")
    assert "delegations" not in plain.changes[0].fields
    named = commands.capture(STATE, "issue", "Routes", delegations=["NG"], by_floor=True)
    assert named.changes[0].fields["delegations"] == ["NG"]
    decision = commands.capture(STATE, "decision", "Recommend a group", by_floor=True)
    assert "delegations" not in decision.changes[0].fields  # decisions are the room's


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"entry_kind": "wish", "text": "x"}, "unknown entry kind 'wish'"),
        ({"entry_kind": "note", "text": "  "}, "an entry needs some text"),
        ({"entry_kind": "need", "text": "x", "priority": "urgent"}, "unknown priority"),
        ({"entry_kind": "note", "text": "x", "tlp": "white"}, "unknown label 'white'"),
    ],
)
def test_a_capture_refuses_in_one_line(kwargs: dict, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        commands.capture(STATE, **kwargs)


def test_an_edit_writes_what_differs_and_keeps_the_label_of_a_line_without_one() -> None:
    entry = Entry(id="e1", session_id="s1", entry_kind="note", text="Old", tlp="amber")
    same = commands.edit(STATE, entry, {"entry_kind": "note", "text": "Old", "tlp": ""})
    assert not same and same.changes == ()
    changes = commands.edit(STATE, entry, {"entry_kind": "action", "text": "Old", "tlp": ""})
    assert changes.label == "edit entry entry_kind, status"
    assert changes.changes[0].fields == {"entry_kind": "action", "status": "open"}
    relabelled = commands.relabel(STATE, entry, "clear")
    assert relabelled.changes == (Change("entry", "e1", {"tlp": "clear"}),)
    with pytest.raises(CommandError, match="unknown label"):
        commands.relabel(STATE, entry, "white")


def test_the_store_applies_a_command_as_one_undoable_change(tmp_path: Path) -> None:
    home, sid = demo_home(tmp_path)
    with LocalStore(home).open_session(sid) as ss:
        before = len(ss.records(Entry))
        changes = ss.perform(commands.capture, "need", "Cyber forensics training", tlp="clear")
        entry = ss.get("entry", changes.created)
        assert isinstance(entry, Entry) and entry.tlp == "clear"
        ss.perform(commands.relabel, entry, "red")
        assert ss.get("entry", entry.id).tlp == "red"
        assert ss.undo() == "edit entry tlp"
        assert ss.undo() == "add need"
        assert len(ss.records(Entry)) == before
        with pytest.raises(StoreError, match="unknown entry kind"):
            ss.perform(commands.capture, "wish", "x")
        assert len(ss.records(Entry)) == before  # nothing written


async def test_the_app_and_the_command_line_capture_and_edit_with_the_same_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """One line captured in the app's capture bar and with `roundtable add` gives the same
    fields; an edit of an action that had no status opens it on both."""
    from roundtable.screens.edit import EditEntryModal
    from widgets import CaptureBar

    home, sid = demo_home(tmp_path)
    line = "/need Training on cyber forensics @GH !high #cybercrime ~green"
    app = make_app(home, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(CaptureBar)
        bar.focus_input()
        bar.query_one("Input").value = line
        await pilot.press("enter")
        await pilot.pause()
        store = app.session_store
        assert store is not None
        in_app = store.records(Entry)[-1]
        app.push_screen(EditEntryModal(in_app.id))
        await pilot.pause()
        app.screen.query_one("#edit-line").value = "/action Run the training owner:@GH"
        await pilot.press("enter")
        await pilot.pause()
        edited_in_app = store.get("entry", in_app.id)
    monkeypatch.setenv("ROUNDTABLE_HOME", str(home))
    capsys.readouterr()
    assert cli.main(["add", sid, line]) == 0
    cli_id = capsys.readouterr().out.strip()
    assert cli.main(["edit", sid, cli_id, "/action Run the training owner:@GH"]) == 0
    with LocalStore(home).open_session(sid, read_only=True) as ss:
        from_cli = ss.get("entry", cli_id)
        first = next(e for e in ss.records(Entry) if e.id == in_app.id)
    keep = ("entry_kind", "text", "delegations", "crime_areas", "priority", "tlp", "agenda_item")
    assert {k: getattr(first, k) for k in keep} == {k: getattr(from_cli, k) for k in keep}
    assert edited_in_app.status == from_cli.status == "open"
    assert edited_in_app.owner == from_cli.owner == "GH"
