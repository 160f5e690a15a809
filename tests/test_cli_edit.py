"""Issue 12: `roundtable edit` and `roundtable delete` (durable on return, refused on a closed
session like `add`), `roundtable events list --db`, and every command an error message names
exists."""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import pytest
from _cli import run

from roundtable import cli
from roundtable.store import LocalStore

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def session(home: Path, capsys) -> tuple[str, str]:
    code, out, _ = run(capsys, "new", "--region", "europe", "--event", "Conference 2026")
    assert code == 0
    sid = out.strip()
    code, out, err = run(capsys, "add", sid[:8], "/need Training on cyber forensics @FR #cyber")
    assert code == 0, err
    return sid, out.strip()


def test_edit_rewrites_an_entry_from_a_capture_line_durably(home, session, capsys):
    sid, eid = session
    code, out, err = run(capsys, "edit", sid[:8], eid[:8], "/action Share the list owner:@DE")
    assert code == 0, err
    assert out.strip() == eid
    # durable: a fresh store reads it from the files
    with LocalStore(home).open_session(sid, read_only=True) as ss:
        entry = ss.get("entry", eid)
        assert (entry.entry_kind, entry.text, entry.owner, entry.status) == (
            "action", "Share the list", "DE", "open"
        )  # fmt: skip
        assert entry.delegations == [] and entry.crime_areas == []


def test_edit_refuses_bad_lines_and_unknown_entries_changing_nothing(home, session, capsys):
    sid, eid = session
    code, _out, err = run(capsys, "edit", sid[:8], eid[:8], "/need Training @ZZ")
    assert code == 1 and "ZZ" in err and len(err.strip().splitlines()) == 1
    code, _out, err = run(capsys, "edit", sid[:8], "ffffffff", "/need x")
    assert code == 1 and "no entry 'ffffffff'" in err
    with LocalStore(home).open_session(sid, read_only=True) as ss:
        assert ss.get("entry", eid).text == "Training on cyber forensics"


def test_delete_is_durable_and_a_deleted_entry_cannot_be_edited(home, session, capsys):
    sid, eid = session
    code, out, err = run(capsys, "delete", sid[:8], eid)
    assert code == 0, err
    assert out.strip() == eid
    with LocalStore(home).open_session(sid, read_only=True) as ss:
        assert ss.records("entry") == [] and ss.get("entry", eid).deleted
    code, _out, err = run(capsys, "edit", sid[:8], eid[:8], "/need again")
    assert code == 1 and "no entry" in err
    code, out, err = run(capsys, "restore", sid[:8], eid[:8])
    assert code == 0, err
    with LocalStore(home).open_session(sid, read_only=True) as ss:
        assert [e.id for e in ss.records("entry")] == [eid]


def test_edit_and_delete_are_refused_on_a_closed_session(home, session, capsys):
    sid, eid = session
    with LocalStore(home).open_session(sid) as ss:
        ss.close_session()
    for argv in (("edit", sid[:8], eid[:8], "/need x"), ("delete", sid[:8], eid[:8])):
        code, _out, err = run(capsys, *argv)
        assert code == 1 and "is closed" in err, err
    with LocalStore(home).open_session(sid, read_only=True) as ss:
        entry = ss.get("entry", eid)
        assert entry.text == "Training on cyber forensics" and not entry.deleted


def test_events_list_prints_the_servers_events(tmp_path, capsys):
    pytest.importorskip("fastapi")
    db = tmp_path / "server.db"
    code, out, err = run(capsys, "events", "create", "Conference 2026", "--db", str(db))
    assert code == 0, err
    event_id = out.strip()
    code, out, err = run(capsys, "events", "list", "--db", str(db))
    assert code == 0, err
    assert out.splitlines() == [f"{event_id}\tConference 2026"]
    # the message that named a command which did not exist
    argv = ("tokens", "issue", "--event", "nope", "--region", "europe", "--db", str(db))
    code, _out, err = run(capsys, *argv)
    assert code == 1 and "`roundtable events list`" in err


def _literals(path: Path):
    """Every string literal of a module, f-strings with ``{}`` for their fields."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value
        elif isinstance(node, ast.JoinedStr):
            yield "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)


def named_commands() -> set[tuple[str, ...]]:
    """Every command a backquoted `roundtable ...` in the source names: its leading words
    (``events|tokens`` stands for both)."""
    found: set[tuple[str, ...]] = set()
    files = [*ROOT.joinpath("roundtable").rglob("*.py"), *ROOT.joinpath("sessions").rglob("*.py")]
    for path in files:
        for text in _literals(path):
            for m in re.finditer(r"`roundtable ([^`]*)`", text):
                words = []
                for token in m.group(1).split():
                    if not re.fullmatch(r"[a-z]+(\|[a-z]+)*", token):
                        break
                    words.append(token.split("|"))
                found.update(itertools.product(*words))
    return found


def test_every_command_a_message_names_exists() -> None:
    commands = named_commands()
    assert ("events", "list") in commands  # the known defect is among them
    parser = cli.build_parser()
    for words in sorted(commands):
        with pytest.raises(SystemExit) as exc:
            parser.parse_args([*words, "--help"])
        assert exc.value.code == 0, f"`roundtable {' '.join(words)}` does not exist"
