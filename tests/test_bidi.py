"""Issue 19, finding 6 (laptop part): bidirectional embedding, override and isolate controls
(U+202A-U+202E, U+2066-U+2069) are refused wherever the laptop takes text: the capture bar,
``roundtable add`` and ``roundtable edit``, the edit dialog and plan loading, with one line
giving the column; the marks LRM, RLM and ALM stay allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from roundtable import cli
from roundtable.capture import CaptureError, parse_line
from roundtable.store import LocalStore
from roundtable.text import bidi_control
from sessions import PlanError, load_plan, load_roster
from tests._app import FIXED_NOW, demo_home, make_app

CONTROLS = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
MARKS = ["\u200e", "\u200f", "\u061c"]  # LRM, RLM, ALM


@pytest.mark.parametrize("control", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_every_bidi_control_is_refused_at_its_column(control: str) -> None:
    line = f"/note Invoice {control}gpj.exe"
    with pytest.raises(CaptureError) as info:
        parse_line(line, load_roster())
    assert info.value.column == line.index(control)
    message = str(info.value)
    assert message.startswith(f"col {line.index(control) + 1}: bidirectional control U+")
    assert f"U+{ord(control):04X}" in message and "\n" not in message


@pytest.mark.parametrize("mark", MARKS, ids=["LRM", "RLM", "ALM"])
def test_direction_marks_stay_allowed(mark: str) -> None:
    captured = parse_line(f"/note العربية {mark}(2026) @FR", load_roster())
    assert mark in captured.text
    assert bidi_control(mark) is None


def test_add_and_edit_refuse_a_bidi_control_changing_nothing(home: Path, capsys) -> None:
    assert cli.main(["new", "--region", "europe", "--event", "Conf"]) == 0
    sid = capsys.readouterr().out.strip()
    assert cli.main(["add", sid[:8], "/note Invoice received @FR"]) == 0
    eid = capsys.readouterr().out.strip()

    code = cli.main(["add", sid[:8], "/note Invoice \u202egpj.exe\u202c"])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "col 15" in lines[0] and "U+202E" in lines[0], err

    code = cli.main(["edit", sid[:8], eid[:8], "/note Invoice \u2067gpj.exe"])
    err = capsys.readouterr().err
    assert code != 0 and len(err.strip().splitlines()) == 1 and "U+2067" in err, err

    with LocalStore(home).open_session(sid, read_only=True) as ss:
        entries = ss.records("entry")
        assert [e.text for e in entries] == ["Invoice received"]


async def test_capture_bar_and_edit_dialog_refuse_a_bidi_control(tmp_path: Path) -> None:
    from roundtable.screens.edit import EditEntryModal
    from widgets import CaptureBar

    home, session_id = demo_home(tmp_path)
    app = make_app(home, session_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        store = app.session_store
        before = {e.id: e.text for e in store.records("entry")}
        bar = app.screen.query_one(CaptureBar)
        bar.focus_input()
        await pilot.pause()
        bar.query_one("Input").value = "/note Invoice \u202egpj.exe"
        await pilot.press("enter")
        await pilot.pause()
        status = str(bar.query_one(".capture-status").render())
        assert "col 15" in status and "U+202E" in status, status
        assert {e.id: e.text for e in store.records("entry")} == before

        entry = next(iter(store.records("entry")))
        app.push_screen(EditEntryModal(entry.id))
        await pilot.pause()
        app.screen.query_one("#edit-line").value = "/note Invoice \u2066gpj.exe"
        await pilot.click("#save")
        await pilot.pause()
        assert isinstance(app.screen, EditEntryModal)  # refused: the dialog stays open
        assert "U+2066" in str(app.screen.query_one("#edit-error").render())
        assert store.get("entry", entry.id).text == before[entry.id]
    assert FIXED_NOW  # the app ran on the fixed clock of tests/_app.py


PLAN = (
    'name = "p"\nregion = "europe"\ntitle = "{title}"\n'
    '[[items]]\ntitle = "A"\nminutes = 10\nkind = "discussion"\n'
)


def test_plan_loading_refuses_a_bidi_control_with_its_column(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(PLAN.format(title="Invoice \u202egpj.exe"), "utf-8")
    with pytest.raises(PlanError) as info:
        load_plan(path)
    message = str(info.value)
    assert message.startswith(f"{path}:3: title: column 9: bidirectional control U+202E"), message
    assert "\n" not in message


def test_plan_loading_keeps_direction_marks(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    title = "Réunion \u061c\u200e\u200f العربية"
    path.write_text(PLAN.format(title=title), "utf-8")
    assert load_plan(path).title == title


def test_names_on_the_command_line_refuse_a_bidi_control(home: Path, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["new", "--region", "europe", "--room", "Room \u202eB"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --room: character 6: bidirectional control U+202E" in err
    assert not (home / "sessions").exists()
