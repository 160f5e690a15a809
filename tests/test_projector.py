"""The room's projector (issue 26): a read-only app following the session while another store
handle (the facilitator's app, the single writer) writes it; and ``/project`` in the app."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _app import FIXED_NOW, demo_home, make_app

from roundtable import protocol
from roundtable.model import Op
from roundtable.projection import check_projectable, time_state, warning_seconds
from roundtable.screens.projector import ProjectorApp
from roundtable.store import LocalStore

POLL = 0.05
WAIT = 0.4  # several polls: the projector shows a write within a second


@pytest.fixture
def demo(tmp_path: Path) -> tuple[Path, str]:
    return demo_home(tmp_path)


def _projector(home: Path, session_id: str | None, now: float = FIXED_NOW) -> ProjectorApp:
    return ProjectorApp(home=home, session_id=session_id, clock=lambda: now, poll_seconds=POLL)


def _screen_text(app: ProjectorApp) -> str:
    """Every line on the projector's screen: the text of its widgets, and the SVG export's
    characters (no captured entry may be in either)."""
    import html

    from textual.widgets import Digits, Static

    parts = [str(w.render()) for w in app.screen.query(Static)]
    parts += [w.value for w in app.screen.query(Digits)]
    svg = html.unescape(app.export_screenshot()).replace("\xa0", " ")
    return "\n".join([*parts, svg])


def _files(home: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for root, _dirs, names in os.walk(home):
        for name in names:
            st = (Path(root) / name).stat()
            out[str(Path(root, name).relative_to(home))] = (st.st_size, st.st_mtime_ns)
    return out


def _items(ss) -> list:
    return sorted(ss.records("agenda_item"), key=lambda a: a.position)


async def test_follows_the_writer_item_floor_and_list(demo) -> None:
    home, sid = demo
    writer = LocalStore(home, wall=lambda: FIXED_NOW).open_session(sid)  # takes the lock
    app = _projector(home, sid, now=FIXED_NOW + 90)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(WAIT)
            view = app.view
            assert view is not None and view.item_number == 4  # the demo's current item
            assert view.between_items  # its clock has not started: the agenda is shown
            assert "▶ 4. Cybercrime and financial fraud" in _screen_text(app)

            items = _items(writer)
            writer.go_to_item(items[2].id)  # what ctrl+n does
            writer.clock("start", items[2].id)
            await pilot.pause(WAIT)
            view = app.view
            assert view.item_number == 3 and not view.between_items
            assert view.item_left == 25 * 60 - 90 and view.item_countdown == "23:30"
            assert "Item 3 of 8 · Drug trafficking routes" in _screen_text(app)

            first = writer.add_speaker("GH")
            writer.add_speaker("NG")
            writer.add_speaker("SN", point_of_order=True)
            writer.set_speaker_limit(first.id, 60)
            await pilot.pause(WAIT)
            names = [(s.name, s.mark) for s in app.view.next_speakers]
            assert names == [("Senegal", "point of order"), ("Ghana", ""), ("Nigeria", "")]
            writer.give_floor(first.id)
            await pilot.pause(WAIT)
            view = app.view
            assert view.floor_name == "Ghana" and view.floor_left == 60 - 90
            assert view.floor_state == "over"
            text = _screen_text(app)
            assert "The floor: Ghana" in text and "[point of order]" in text
            assert app.query_one("#floor-time").has_class("-over")
    finally:
        writer.close()


async def test_never_shows_an_entry_and_shows_a_clear_decision(demo) -> None:
    home, sid = demo
    writer = LocalStore(home, wall=lambda: FIXED_NOW).open_session(sid)
    app = _projector(home, sid)
    try:
        async with app.run_test(size=(200, 50)) as pilot:
            item = _items(writer)[2]
            writer.go_to_item(item.id)
            writer.clock("start", item.id)
            writer.add_entry("issue", "MARKER-RED candid note", tlp="red")
            writer.add_entry("note", "MARKER-AMBER candid note", tlp="amber")
            writer.add_entry("decision", "MARKER-CLEAR decision unprojected", tlp="clear")
            await pilot.pause(WAIT)
            text = _screen_text(app)
            assert "MARKER" not in text
            writer.project("Decision: a regional working group on migrant smuggling")
            await pilot.pause(WAIT)
            text = _screen_text(app)
            assert "Decision: a regional working group on migrant smuggling" in text
            assert "MARKER" not in text
            assert writer.clear_projection()
            await pilot.pause(WAIT)
            assert "regional working group" not in _screen_text(app)
    finally:
        writer.close()


async def test_survives_the_writer_closing_reopening_and_the_session_closing(demo) -> None:
    home, sid = demo
    writer = LocalStore(home, wall=lambda: FIXED_NOW).open_session(sid)
    app = _projector(home, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        items = _items(writer)
        writer.go_to_item(items[1].id)
        await pilot.pause(WAIT)
        assert app.view.item_number == 2
        writer.close()  # the app quits (or is killed: its journal is all there is)
        await pilot.pause(WAIT)
        assert app.view.item_number == 2 and not app.problem
        writer = LocalStore(home, wall=lambda: FIXED_NOW).open_session(sid)  # restarted
        writer.go_to_item(items[3].id)
        await pilot.pause(WAIT)
        assert app.view.item_number == 4
        writer.close_session()
        writer.close()
        await pilot.pause(WAIT)
        assert app.view.closed
        assert "Session closed" in _screen_text(app)


async def test_never_takes_the_lock_or_writes_a_file(demo) -> None:
    home, sid = demo
    before = _files(home)
    app = _projector(home, None)  # no session given: the running one
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(WAIT)
        assert app.session_id == sid and app.view is not None
        # the writer can still take its lock while the projector runs
        writer = LocalStore(home, wall=lambda: FIXED_NOW).open_session(sid)
        writer.close()
        after_writer = _files(home)
        await pilot.pause(WAIT)
    assert _files(home) == after_writer
    assert set(before) == set(after_writer)


async def test_an_encrypted_session_asks_its_passphrase(tmp_path: Path) -> None:
    from textual.widgets import Input

    home = tmp_path / "home"
    local = LocalStore(home, wall=lambda: FIXED_NOW)
    event = local.create_event("Conference")
    agenda = [{"title": "Opening", "minutes": 5}]
    session = local.create_session(
        event.id, "africa", "Round table", agenda, passphrase="correct horse battery"
    )
    app = _projector(home, session.id)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.view is None
        field = app.screen.query_one("#passphrase", Input)
        field.value = "wrong wrong wrong"
        await pilot.press("enter")
        await pilot.pause()
        assert "wrong passphrase" in str(app.screen.query_one("#passphrase-error").render())
        app.screen.query_one("#passphrase", Input).value = "correct horse battery"
        await pilot.press("enter")
        await pilot.pause(WAIT)
        assert app.view is not None and app.view.region == "Africa"


async def test_project_in_the_capture_bar_and_on_an_entry(demo) -> None:
    home, sid = demo
    app = make_app(home, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        bar = screen.query_one("CaptureBar")
        bar.input.value = "/project Secret detail ~amber"
        await pilot.press("enter")
        await pilot.pause()
        status = str(bar.query_one(".capture-status").render())
        assert "only TLP:CLEAR may be projected; this is TLP:AMBER" in status
        assert app.session_store.session.projected == ""
        # a bidirectional control is refused as in any capture line (issue 19)
        bar.input.value = "/project Invoice \u202egpj.exe"
        await pilot.press("enter")
        await pilot.pause()
        status = str(bar.query_one(".capture-status").render())
        assert "bidirectional control U+202E" in status, status
        assert app.session_store.session.projected == ""
        bar.input.value = "/project Coffee break until 11:00"
        await pilot.press("enter")
        await pilot.pause()
        assert app.session_store.session.projected == "Coffee break until 11:00"
        bar.input.value = "/project"
        await pilot.press("enter")
        await pilot.pause()
        assert app.session_store.session.projected == ""
        # the selected entry (the demo's are TLP:AMBER): refused in one line
        table = screen.query_one("EntryTable")
        table.focus()
        await pilot.pause()
        await pilot.press("P")
        await pilot.pause()
        assert app.session_store.session.projected == ""
        entry = app.session_store.get("entry", table.selected_entry_id())
        app.session_store.update("entry", entry.id, tlp="clear")
        await pilot.pause()
        await pilot.press("P")
        await pilot.pause()
        assert app.session_store.session.projected == " ".join(entry.text.split())[:200]


def test_projectable_and_thresholds() -> None:
    assert check_projectable("  Coffee   break ") == "Coffee break"
    # the capture grammar's character rules (issue 19): named, refused, before anything else
    with pytest.raises(ValueError, match="character 9: bidirectional control U[+]202E"):
        check_projectable("Invoice \u202egpj.exe")
    with pytest.raises(ValueError, match="character 4: control character U[+]0007"):
        check_projectable("Tea\x07")
    assert check_projectable("\u0645\u0631\u062d\u0628\u0627\u200f!")  # an RLM stays allowed
    for label in ("green", "amber", "amber+strict", "red"):
        with pytest.raises(ValueError, match="only TLP:CLEAR"):
            check_projectable("x", label)
    with pytest.raises(ValueError, match="nothing to project"):
        check_projectable("  ")
    assert warning_seconds(60) == 12 and warning_seconds(600) == 30
    assert [time_state(n, 60) for n in (13, 12, 0, -1)] == ["ok", "warning", "warning", "over"]
    assert time_state(None, 0) == "ok"


def test_the_projected_field_is_protocol_5() -> None:
    op = Op("o", "e", "s", "s", "session", "projected", "Coffee", "h", "d")
    assert protocol.op_version(op) == 5 == protocol.field_version("session", "projected")
    assert protocol.PROTOCOL_VERSION >= 5 and protocol.fits(op, 5)
    assert not protocol.fits(op, 4) and protocol.novelty(op, 4) == "session.projected"
    protocol.check_value("session", "projected", "Coffee", version=5)
    for older in (1, 2, 3, 4):  # the field is unknown to every older version
        with pytest.raises(protocol.ProtocolError, match="unknown field 'projected'"):
            protocol.check_value("session", "projected", "Coffee", version=older)


WRITER = """
import sys, time
from roundtable.store import LocalStore
home, sid = sys.argv[1], sys.argv[2]
ss = LocalStore(home).open_session(sid)
item = sorted(ss.records("agenda_item"), key=lambda a: a.position)[5]
ss.go_to_item(item.id)
ss.clock("start", item.id)
print("ready", flush=True)
time.sleep(60)
"""


async def test_survives_the_writer_process_being_killed_and_restarted(demo) -> None:
    """The app's process killed (SIGKILL, its lock left behind) and started again."""
    import subprocess
    import sys

    home, sid = demo
    app = _projector(home, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(WAIT)
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(home), sid],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
            await pilot.pause(WAIT)
            assert app.view.item_number == 6 and app.view.item_clock == "running"
        finally:
            child.kill()
            child.wait()
        await pilot.pause(WAIT)
        assert app.view.item_number == 6 and not app.problem  # still showing
        with LocalStore(home).open_session(sid) as again:  # the app restarted
            again.go_to_item(_items(again)[6].id)
        await pilot.pause(WAIT)
        assert app.view.item_number == 7


def test_the_command_refuses_bad_input_in_one_line(demo, tmp_path, monkeypatch, capsys) -> None:
    from roundtable import cli

    home, _sid = demo
    monkeypatch.setenv("ROUNDTABLE_HOME", str(home))
    before = _files(home)
    assert cli.main(["projector", "zzz"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("roundtable: no session 'zzz'") and "\n" not in err
    empty = tmp_path / "empty"
    monkeypatch.setenv("ROUNDTABLE_HOME", str(empty))
    assert cli.main(["projector"]) == 1
    err = capsys.readouterr().err.strip()
    assert "no sessions in" in err and "\n" not in err and not empty.exists()
    with pytest.raises(SystemExit) as exit_:
        cli.main(["projector", "--poll", "2"])
    assert exit_.value.code == 2
    assert "--poll: between 0.05 and 0.5 seconds, got 2" in capsys.readouterr().err
    assert _files(home) == before


async def test_a_poll_after_the_screens_are_gone_is_quiet(demo) -> None:
    """The poll's timer can tick once more while the app closes, after its screens are gone: it
    was a ScreenStackError (seen as a flaky test_an_encrypted_session_asks_its_passphrase)."""
    home, sid = demo
    app = _projector(home, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.view is not None
    assert not app.screen_stack
    app.poll(force=True)  # nothing to draw on: no exception
    assert app.view is not None
