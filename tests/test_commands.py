"""Issue 21: meeting commands are pure functions (``roundtable.commands``: state in, changes
out) that the store applies as one undoable change (``SessionStore.apply`` / ``perform``), and
the app and the command line call the same ones."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from _app import demo_home, make_app

from roundtable import cli, commands
from roundtable.actions import CarriedAction
from roundtable.commands import Change, CommandError, SessionState
from roundtable.model import (
    ActionReview,
    AgendaItem,
    Attendance,
    ClockEvent,
    Entry,
    Session,
    Speaker,
    Speech,
    stable_id,
)
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


# -- the meeting's other commands: state in, changes out (pure) -------------------------------

T0 = int(dt.datetime(2026, 11, 25, 9, 20, tzinfo=dt.UTC).timestamp() * 1000)  # in ms


def state_of(*records, session: Session | None = None, now_ms: int = T0) -> SessionState:
    """A session's state over the given records, as a store gives it to the commands."""
    session = session or Session(id="s1", event_id="ev1", status="running")
    return SessionState(
        session_id=session.id,
        current_item=session.current_item,
        default_tlp=session.default_tlp,
        now=commands.iso_at(now_ms),
        now_ms=now_ms,
        event_id=session.event_id,
        session=session,
        view=commands.InMemory([session, *records]),
    )


def journal(home: Path, sid: str, kinds: tuple[str, ...]) -> list[tuple[str, str, object]]:
    """The session's journalled writes of some kinds, as (kind, field, value), in order."""
    with LocalStore(home).open_session(sid, read_only=True) as ss:
        return [(op.kind, op.field, op.value) for op in ss.outbox() if op.kind in kinds]


def test_attendance_writes_what_differs_on_the_delegations_one_record() -> None:
    rid = stable_id("s1", "GH")
    first = commands.set_attendance(state_of(), "GH", "present", ["A. Mensah"])
    assert first.label == "attendance GH" and first.created == rid
    assert first.changes == (
        Change(
            "attendance",
            rid,
            {"session_id": "s1", "country": "GH", "status": "present", "delegates": ["A. Mensah"]},
        ),
    )
    present = Attendance(id=rid, session_id="s1", country="GH", status="present")
    assert not commands.set_attendance(state_of(present), "GH", "present")
    back = Attendance(id=rid, session_id="s1", country="GH", status="present", deleted=True)
    assert commands.set_attendance(state_of(back), "GH", "present").changes[0].fields == {
        "session_id": "s1",
        "country": "GH",
        "deleted": False,
    }
    with pytest.raises(CommandError, match="unknown attendance status 'late'"):
        commands.set_attendance(state_of(), "GH", "late")


def test_the_rest_absent_is_one_change_and_a_closed_session_refuses_it() -> None:
    gh = Attendance(id=stable_id("s1", "GH"), session_id="s1", country="GH", status="present")
    ke = Attendance(id=stable_id("s1", "KE"), session_id="s1", country="KE", status="unknown")
    changes = commands.mark_rest_absent(state_of(gh, ke), ["GH", "KE", "NG"])
    assert changes.value == ["KE", "NG"] and changes.label == "mark the rest absent (2)"
    assert [c.fields for c in changes.changes] == [
        {"status": "absent"},
        {"status": "absent", "session_id": "s1", "country": "NG"},
    ]
    closed = Session(id="s1", status="closed")
    with pytest.raises(CommandError, match="session s1 is closed: reopen it with"):
        commands.mark_rest_absent(state_of(session=closed), ["GH"])


def test_an_observer_is_added_once() -> None:
    changes = commands.add_observer(state_of(session=Session(id="s1", observers=["FR"])), "JO")
    assert changes.changes == (Change("session", "s1", {"observers": ["FR", "JO"]}),)
    assert changes.label == "edit session observers"
    assert not commands.add_observer(state_of(session=Session(id="s1", observers=["JO"])), "JO")


async def test_the_app_and_the_command_line_confirm_an_observer_with_the_same_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from roundtable.screens.common import ConfirmModal
    from widgets import CaptureBar

    homes = {}
    for face in ("app", "cli"):
        home, sid = demo_home(tmp_path / face)
        homes[face] = (home, sid)
    home, sid = homes["app"]
    app = make_app(home, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(CaptureBar)
        bar.focus_input()
        bar.query_one("Input").value = "/issue Ports @FR"
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.click("#yes")
        await pilot.pause()
    home, sid = homes["cli"]
    monkeypatch.setenv("ROUNDTABLE_HOME", str(home))
    assert cli.main(["add", sid, "/issue Ports @FR", "--observer", "FR"]) == 0
    capsys.readouterr()
    in_app = journal(*homes["app"], ("session",))
    from_cli = journal(*homes["cli"], ("session",))
    assert in_app[-1] == from_cli[-1] == ("session", "observers", ["FR"])
    assert in_app.count(in_app[-1]) == from_cli.count(from_cli[-1]) == 1


def test_closing_stops_the_clock_ends_the_turn_and_joins_the_accepted_findings() -> None:
    item = AgendaItem(id="i1", session_id="s1", started_at="2026-11-25T09:00:00+00:00")
    started = ClockEvent(id="c1", session_id="s1", agenda_item="i1", action="start", at=T0 - 60_000)
    speech = Speech(id="sp1", session_id="s1", country="GH", started_at="2026-11-25T09:19:30+00:00")
    session = Session(id="s1", status="running", floor="sp1", accepted_gaps=["quorum"])
    changes = commands.close(state_of(item, started, speech, session=session), ["quorum", "late"])
    assert changes.label == "close session"
    stop, ended, floor, closed = changes.changes
    assert (stop.kind, stop.fields["agenda_item"], stop.fields["action"]) == (
        "clock_event", "i1", "stop",
    )  # fmt: skip
    assert stop.fields["at"] == T0
    assert ended == Change(
        "speech", "sp1", {"ended_at": "2026-11-25T09:20:00+00:00", "seconds": 30}
    )  # the turn had no speaker record: nobody is marked done
    assert floor == Change("session", "s1", {"floor": ""})
    assert closed == Change(
        "session",
        "s1",
        {
            "status": "closed",
            "closed_at": "2026-11-25T09:20:00+00:00",
            "accepted_gaps": ["quorum", "late"],
        },
    )


def test_reopening_is_recorded_and_only_a_closed_session_reopens() -> None:
    closed = Session(id="s1", status="closed", closed_at="2026-11-25T09:00:00+00:00")
    changes = commands.reopen(state_of(session=closed))
    assert changes.label == "reopen session"
    assert changes.changes == (
        Change("session", "s1", {"status": "running", "reopened_at": "2026-11-25T09:20:00+00:00"}),
    )
    with pytest.raises(CommandError, match="session s1 is not closed"):
        commands.reopen(state_of())
    archived = Session(id="s1", status="archived", closed_at="2026-11-25T09:00:00+00:00")
    assert commands.unarchive(state_of(session=archived)).value == "closed"
    with pytest.raises(CommandError, match="session s1 is already archived"):
        commands.archive(state_of(session=archived))


def test_undo_never_crosses_a_close_made_by_the_command(tmp_path: Path) -> None:
    home, sid = demo_home(tmp_path)
    with LocalStore(home).open_session(sid) as ss:
        ss.perform(commands.close)
        with pytest.raises(StoreError, match="undo stops at the close"):
            ss.undo()
        ss.perform(commands.reopen)
        with pytest.raises(StoreError, match="undo stops there"):
            ss.undo()
        assert ss.session.status == "running"


async def test_the_app_and_the_command_line_reopen_with_the_same_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    homes = [demo_home(tmp_path / face) for face in ("app", "cli")]
    for home, sid in homes:
        with LocalStore(home).open_session(sid) as ss:
            ss.perform(commands.close)
    home, sid = homes[0]
    app = make_app(home, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.action_reopen()  # the palette's "session: reopen"
        await pilot.pause()
    home, sid = homes[1]
    monkeypatch.setenv("ROUNDTABLE_HOME", str(home))
    assert cli.main(["reopen", sid]) == 0
    assert "captures are accepted again" in capsys.readouterr().out
    in_app, from_cli = (journal(h, s, ("session",))[-2:] for h, s in homes)
    assert [(k, f) for k, f, _v in in_app] == [(k, f) for k, f, _v in from_cli]
    assert [(k, f) for k, f, _v in in_app] == [("session", "status"), ("session", "reopened_at")]
    assert in_app[0] == from_cli[0] == ("session", "status", "running")


def test_a_clock_starts_one_item_stopping_the_other_and_dates_its_first_start() -> None:
    one = AgendaItem(id="i1", session_id="s1", position=0, started_at="2026-11-25T09:00:00+00:00")
    two = AgendaItem(id="i2", session_id="s1", position=1)
    running = ClockEvent(id="c1", session_id="s1", agenda_item="i1", action="start", at=T0 - 1)
    session = Session(id="s1", status="running", current_item="i1")
    state = state_of(one, two, running, session=session)
    changes = commands.clock(state, "start", "i2")
    assert changes.label == "start clock"
    assert [(c.kind, {k: c.fields.get(k) for k in ("agenda_item", "action", "at")})
            for c in changes.changes[:2]] == [
        ("clock_event", {"agenda_item": "i1", "action": "stop", "at": T0}),
        ("clock_event", {"agenda_item": "i2", "action": None, "at": T0}),  # start: the default
    ]  # fmt: skip
    assert changes.changes[2] == Change("agenda_item", "i2", {"started_at": commands.iso_at(T0)})
    assert not commands.clock(state, "pause", "i2")  # not running: nothing to pause
    assert [c.fields["action"] for c in commands.clock(state, "pause").changes] == ["pause"]
    with pytest.raises(CommandError, match="unknown clock action 'halt'"):
        commands.clock(state, "halt")
    closed = state_of(one, two, session=Session(id="s1", status="closed"))
    with pytest.raises(CommandError, match="is closed: reopen it"):
        commands.clock(closed, "start", "i2")
    assert not commands.clock(closed, "stop", "i2")  # stopping stays possible, changes nothing


def test_moving_on_ends_the_turn_of_the_previous_item_and_moves_the_clock() -> None:
    one = AgendaItem(id="i1", session_id="s1", position=0)
    two = AgendaItem(id="i2", session_id="s1", position=1)
    running = ClockEvent(id="c1", session_id="s1", agenda_item="i1", action="start", at=T0 - 1)
    speech = Speech(id="sp1", session_id="s1", country="GH", agenda_item="i1",
                    started_at=commands.iso_at(T0 - 5000))  # fmt: skip
    session = Session(id="s1", status="running", current_item="i1", floor="sp1")
    changes = commands.go_to_item(state_of(one, two, running, speech, session=session), "i2")
    assert changes.label == "go to item 2"
    assert [(c.kind, sorted(c.fields)) for c in changes.changes] == [
        ("clock_event", ["action", "agenda_item", "at", "session_id"]),  # i1 stops
        ("clock_event", ["agenda_item", "at", "session_id"]),  # i2 starts (the default action)
        ("agenda_item", ["started_at"]),
        ("speech", ["ended_at", "seconds"]),
        ("session", ["floor"]),
        ("session", ["current_item"]),
    ]
    closed = Session(id="s1", status="closed", current_item="i1")
    moved = commands.go_to_item(state_of(one, two, running, session=closed), "i2")
    assert moved.changes == (Change("session", "s1", {"current_item": "i2"}),)
    with pytest.raises(CommandError, match="no agenda item i9 in session s1"):
        commands.go_to_item(state_of(one), "i9")


def speaker(sid: str, country: str, order: int, **kw) -> Speaker:
    return Speaker(id=sid, session_id="s1", agenda_item="i1", country=country, order=order, **kw)


ITEM = AgendaItem(id="i1", session_id="s1", position=0)
RUNNING = Session(id="s1", event_id="ev1", status="running", current_item="i1", default_tlp="green")


def test_giving_the_floor_ends_the_turn_in_progress_in_the_same_change() -> None:
    gh = speaker("a", "GH", 1024, status="speaking")
    ng = speaker("b", "NG", 2048)
    speech = Speech(id="sp1", session_id="s1", country="GH", agenda_item="i1", speaker="a",
                    mode="queue", started_at=commands.iso_at(T0 - 65_000))  # fmt: skip
    session = Session(id="s1", status="running", current_item="i1", floor="sp1")
    changes = commands.give_floor(state_of(ITEM, gh, ng, speech, session=session), "b")
    assert changes.label == "floor to NG"
    end, done, cleared, created, speaking, floor = changes.changes
    assert end == Change("speech", "sp1", {"ended_at": commands.iso_at(T0), "seconds": 65})
    assert done == Change("speaker", "a", {"status": "done"})
    assert cleared == Change("session", "s1", {"floor": ""})
    assert created.kind == "speech" and created.record_id == changes.created
    assert {k: created.fields[k] for k in ("country", "mode", "speaker", "started_at")} == {
        "country": "NG", "mode": "queue", "speaker": "b", "started_at": commands.iso_at(T0),
    }  # fmt: skip
    assert speaking == Change("speaker", "b", {"status": "speaking"})
    assert floor == Change("session", "s1", {"floor": changes.created})
    with pytest.raises(CommandError, match="no waiting speaker a in session s1"):
        commands.give_floor(state_of(ITEM, speaker("a", "GH", 1, status="done")), "a")


def test_next_speaker_takes_the_point_of_order_first_and_ends_the_turn_on_an_empty_list() -> None:
    gh = speaker("a", "GH", 1024)
    ke = speaker("b", "KE", -1024, point_of_order=True)
    changes = commands.next_speaker(state_of(ITEM, gh, ke, session=RUNNING))
    assert changes.label == "floor to KE"
    ended = commands.next_speaker(state_of(ITEM, session=RUNNING))
    assert ended.label == "end turn" and not ended and ended.created == ""


def test_a_point_of_order_takes_precedence_and_a_reply_comes_right_after() -> None:
    gh = speaker("a", "GH", 1024)
    ng = speaker("b", "NG", 2048)
    state = state_of(ITEM, gh, ng, session=RUNNING)
    with pytest.raises(CommandError, match="^GH is already on the list of speakers$"):
        commands.add_speaker(state, "GH")
    order = commands.add_speaker(state, "GH", point_of_order=True, limit_seconds=90)
    assert order.label == "point of order GH"
    fields = order.changes[0].fields
    assert (fields.get("order", 0), fields["point_of_order"], fields["limit_seconds"]) == (
        0,
        True,
        90,
    )  # fmt: skip  (before everyone waiting; 0 is the default, so not written)
    waiting_order = speaker("c", "GH", 0, point_of_order=True)
    with pytest.raises(CommandError, match="^GH is already waiting with a point of order$"):
        commands.add_speaker(state_of(ITEM, gh, waiting_order, session=RUNNING), "GH",
                             point_of_order=True)  # fmt: skip
    reply = commands.add_speaker(state, "KE", reply=True)
    assert reply.label == "right of reply KE" and reply.changes[0].fields.get("order", 0) == 0
    added = commands.add_speaker(state, "KE")
    assert added.label == "add speaker KE" and added.changes[0].fields["order"] == 3072
    with pytest.raises(CommandError, match="a right of reply is not a point of order"):
        commands.add_speaker(state, "KE", reply=True, point_of_order=True)
    closed = state_of(ITEM, session=Session(id="s1", status="closed"))
    with pytest.raises(CommandError, match="is closed: reopen it"):
        commands.add_speaker(closed, "KE")


def test_removing_and_moving_a_waiting_speaker() -> None:
    gh = speaker("a", "GH", 1024)
    ng = speaker("b", "NG", 2048)
    ke = speaker("c", "KE", 3072, status="speaking")
    state = state_of(ITEM, gh, ng, ke, session=RUNNING)
    assert commands.remove_speaker(state, "b").changes == (
        Change("speaker", "b", {"status": "removed"}),
    )
    with pytest.raises(CommandError, match="only a waiting speaker can be removed"):
        commands.remove_speaker(state, "c")
    moved = commands.move_speaker(state, "b", -1)
    assert moved.label == "move speaker NG"
    assert moved.changes == (
        Change("speaker", "b", {"order": 1024}),
        Change("speaker", "a", {"order": 2048}),
    )
    assert not commands.move_speaker(state, "a", -1)  # already first
    timed = commands.set_speaking_time(state, 120)
    assert timed.value == 2 and [c.record_id for c in timed.changes] == ["s1", "a", "b"]
    with pytest.raises(CommandError, match="speaking time must be 0-1800 seconds, got 2000"):
        commands.set_speaking_time(state, 2000)


def tour(sid: str, country: str, order: int, **kw) -> Speaker:
    return speaker(sid, country, order, mode="tour", **kw)


def test_a_tour_starts_with_the_delegations_not_on_it_and_rotates_before_anyone_spoke() -> None:
    gh = tour("a", "GH", 1024)
    started = commands.tour_start(state_of(ITEM, gh, session=RUNNING), ["GH", "NG", "KE"], 120)
    assert started.label == "tour de table" and started.value == 2
    assert [(c.fields["country"], c.fields["order"], c.fields["limit_seconds"])
            for c in started.changes] == [("NG", 2048, 120), ("KE", 3072, 120)]  # fmt: skip
    ng = tour("b", "NG", 2048)
    rotated = commands.tour_rotate(state_of(ITEM, gh, ng, session=RUNNING))
    assert rotated.label == "rotate tour GH"
    assert rotated.changes == (Change("speaker", "a", {"order": 3072}),)
    heard = tour("a", "GH", 1024, status="done")
    assert not commands.tour_rotate(state_of(ITEM, heard, ng, session=RUNNING))


def test_a_delegation_that_spoke_cannot_pass_and_one_that_did_not_passes() -> None:
    gh = tour("a", "GH", 1024, status="speaking")
    ng = tour("b", "NG", 2048)
    at = commands.iso_at(T0 - 5_000)
    speech = Speech(id="sp1", session_id="s1", country="GH", agenda_item="i1", speaker="a",
                    started_at=at)  # fmt: skip
    session = Session(id="s1", status="running", current_item="i1", floor="sp1")
    state = state_of(ITEM, gh, ng, speech, session=session)
    passed = commands.tour_pass(state)
    assert passed.label == "GH passes" and passed.value == "GH"
    withdrawn, cleared, record, marked = passed.changes
    assert withdrawn == Change("speech", "sp1", {"deleted": True})  # the turn is withdrawn
    assert cleared == Change("session", "s1", {"floor": ""})
    assert {k: record.fields[k] for k in ("country", "passed", "speaker")} == {
        "country": "GH", "passed": True, "speaker": "a",
    }  # fmt: skip
    assert marked == Change("speaker", "a", {"status": "passed"})
    noted = Entry(id="e1", session_id="s1", entry_kind="issue", text="Ports",
                  delegations=["GH"], agenda_item="i1", created_at=commands.iso_at(T0))  # fmt: skip
    spoke = state_of(ITEM, gh, ng, speech, noted, session=session)
    assert commands.has_spoken(spoke, "GH", "i1")
    with pytest.raises(CommandError, match=r"^GH has already spoken on this item: it cannot pass"):
        commands.tour_pass(spoke)
    long_turn = state_of(ITEM, gh, ng, speech, session=session, now_ms=T0 + 6_000)
    with pytest.raises(CommandError, match="GH has already spoken"):
        commands.tour_pass(long_turn)  # 11 s on the floor: it has spoken


def test_a_delegation_skipped_once_goes_to_the_end_and_twice_is_out() -> None:
    gh = tour("a", "GH", 1024)
    ng = tour("b", "NG", 2048)
    once = commands.tour_skip(state_of(ITEM, gh, ng, session=RUNNING))
    assert once.label == "skip GH" and once.value == "GH"
    assert once.changes == (
        Change("speaker", "a", {"status": "waiting", "skips": 1, "order": 3072}),
    )
    again = commands.tour_skip(state_of(ITEM, tour("a", "GH", 3072, skips=1), session=RUNNING))
    assert again.changes == (Change("speaker", "a", {"status": "skipped", "skips": 2}),)
    assert not commands.tour_skip(state_of(ITEM, session=RUNNING))  # nobody left


def test_a_pass_and_the_move_on_are_two_undoable_changes(tmp_path: Path) -> None:
    home, sid = demo_home(tmp_path)
    with LocalStore(home).open_session(sid) as ss:
        ss.perform(commands.tour_start, ["GH", "NG"], 60)
        ss.perform(commands.tour_next)
        assert ss.floor().country == "GH"
        assert ss.tour_pass() == "GH"
        assert ss.floor().country == "NG"
        assert ss.undo() == "floor to NG"
        assert ss.undo() == "GH passes"
        assert ss.floor().country == "GH"


def carried(**kw) -> CarriedAction:
    fields = dict(
        id="act-0001-2222", region="africa", event_id="ev0", event_name="Conference 2025",
        session_id="s0", session_title="Round table", date="2025-11-20", agenda_item="Drugs",
        text="Share the watch list", owner="GH", due="2026-03-01", tlp="green",
    )  # fmt: skip
    return CarriedAction(**(fields | kw))  # type: ignore[arg-type]


def test_reviewing_an_earlier_action_records_one_review_per_session() -> None:
    state = state_of(ITEM, session=RUNNING)
    changes = commands.review_action(state, carried(), "in_progress", "  List   drafted ")
    rid = commands.review_id(state, "act-0001-2222")
    assert changes.label == "review action act-0001 in_progress" and changes.created == rid
    assert changes.changes == (
        Change(
            "action_review",
            rid,
            {
                "session_id": "s1", "action": "act-0001-2222", "action_event": "ev0",
                "action_session": "s0", "status": "in_progress", "note": "List drafted",
                "agenda_item": "i1", "reviewed_at": commands.iso_at(T0),
                "text": "Share the watch list", "owner": "GH", "due": "2026-03-01",
                "origin": "Conference 2025", "origin_date": "2025-11-20", "tlp": "green",
            },
        ),
    )  # fmt: skip
    earlier = ActionReview(id=rid, **changes.changes[0].fields)
    again = commands.review_action(state_of(ITEM, earlier, session=RUNNING), carried(), "done")
    assert again.changes == (Change("action_review", rid, {"status": "done", "note": ""}),)


@pytest.mark.parametrize(
    ("action", "status", "message"),
    [
        (carried(tlp="red"), "done", "action act-0001 is TLP:RED: it stays in its own room"),
        (carried(), "finished", "unknown review status 'finished'"),
        (carried(event_id="ev1"), "done", "action act-0001 belongs to this event"),
    ],
)
def test_a_review_refuses_in_one_line(action: CarriedAction, status: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        commands.review_action(state_of(ITEM, session=RUNNING), action, status)
