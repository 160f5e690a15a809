"""The `roundtable` command as scripts use it, with a real home directory: its behaviour through
``cli.main(argv)`` in this process (tests/_cli.py), and what only a real process shows (the
entry point, its exit status, standard input, no traceback on the terminal) in
``test_the_real_process_*``."""

from __future__ import annotations

from pathlib import Path

import pytest
from _cli import one_line_error, rt

from roundtable.store import LocalStore


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_version_and_help(home: Path) -> None:
    result = rt("--version", home=home)
    assert result.returncode == 0
    assert result.stdout.startswith("roundtable ")
    for command in ("demo", "new", "sessions", "add", "export", "report", "locate", "sync"):
        result = rt(command, "--help", home=home)
        assert result.returncode == 0, command
        assert "usage: roundtable" in result.stdout


def test_new_add_export_round_trip(home: Path, tmp_path: Path) -> None:
    result = rt("new", "--region", "europe", "--event", "Conf 2026", "--room", "B2", home=home)
    assert result.returncode == 0, result.stderr
    session_id = result.stdout.strip()
    assert len(session_id) == 36

    result = rt(
        "add", session_id[:8], "/need Cyber forensics training @PL !high #cybercrime", home=home
    )
    assert result.returncode == 0, result.stderr
    entry_id = result.stdout.strip()

    store = LocalStore(home)
    with store.open_session(session_id) as ss:
        entry = ss.get("entry", entry_id)
    assert entry is not None
    assert (entry.entry_kind, entry.text, entry.delegations, entry.priority, entry.crime_areas) == (
        "need", "Cyber forensics training", ["PL"], "high", ["cybercrime"],
    )  # fmt: skip

    listing = rt("sessions", home=home)
    assert session_id in listing.stdout
    row = next(line for line in listing.stdout.splitlines() if line.startswith(session_id))
    fields = row.split("\t")
    assert (fields[1], fields[2], fields[5]) == ("Conf 2026", "europe", "1")

    out = tmp_path / "minutes.md"
    result = rt("export", session_id, "-o", str(out), home=home)
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert "Cyber forensics training" in text
    assert "Poland" in text

    html = tmp_path / "minutes.html"
    result = rt("export", session_id, "--format", "html", "-o", str(html), home=home)
    assert result.returncode == 0, result.stderr
    page = html.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "Cyber forensics training" in page


def test_bad_capture_line_is_one_line_error_and_stores_nothing(home: Path) -> None:
    session_id = rt("new", "--region", "africa", home=home).stdout.strip()
    result = rt("add", session_id, "/issue Routes via ports @XQ", home=home)
    one_line_error(result, "XQ")
    result = rt("add", session_id, "/frobnicate something", home=home)
    one_line_error(result, "/frobnicate")
    with LocalStore(home).open_session(session_id) as ss:
        assert ss.records("entry") == []


def test_unknown_session_and_bad_plan(home: Path, tmp_path: Path) -> None:
    one_line_error(rt("add", "0000dead", "hello", home=home), "0000dead")
    one_line_error(rt("export", "nope-nope", home=home), "nope-nope")
    plan = tmp_path / "bad.toml"
    plan.write_text('name = "x"\nregion = "atlantis"\ntitle = "t"\n', encoding="utf-8")
    one_line_error(rt("new", "--plan", str(plan), home=home), "bad.toml")
    assert not (home / "sessions").exists() or not any((home / "sessions").iterdir())


def test_new_rejects_unknown_region(home: Path) -> None:
    result = rt("new", "--region", "atlantis", home=home)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_demo_creates_a_realistic_session(home: Path) -> None:
    result = rt("demo", home=home)
    assert result.returncode == 0, result.stderr
    session_id = result.stdout.strip()
    with LocalStore(home).open_session(session_id) as ss:
        entries = ss.records("entry")
        present = [a for a in ss.records("attendance") if a.status == "present"]
        kinds = {e.entry_kind for e in entries}
        speeches = ss.records("speech")
    assert len(entries) >= 55
    assert kinds == {"issue", "need", "action", "decision", "note"}
    assert 18 <= len(present) <= 22
    assert len(speeches) >= 20
    assert any(e.parked for e in entries)


def test_locate_prints_every_place(home: Path) -> None:
    result = rt("locate", home=home)
    assert result.returncode == 0
    names = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert names == ["home", "sessions", "events", "settings", "token", "plans", "logs", "exports"]
    assert str(home) in result.stdout


def test_export_to_unwritable_place_is_a_clear_error(home: Path, tmp_path: Path) -> None:
    session_id = rt("new", "--region", "mena", home=home).stdout.strip()
    result = rt("export", session_id, "-o", str(tmp_path), home=home)
    one_line_error(result, "is a directory")


def test_report_across_regions(home: Path) -> None:
    a = rt("new", "--region", "africa", "--event", "Conf", home=home).stdout.strip()
    b = rt("new", "--region", "europe", "--event", "Conf", home=home).stdout.strip()
    assert rt("add", a, "/need Forensics training @GH !high #cybercrime", home=home).returncode == 0
    assert (
        rt("add", b, "/need Forensics training @FR !medium #cybercrime", home=home).returncode == 0
    )
    action = rt("add", b, "/action Share the watch list owner:@FR due:2020-01-01", home=home)
    assert action.returncode == 0, action.stderr
    result = rt("report", "--event", "Conf", "--as-of", "2026-11-28", home=home)
    assert result.returncode == 0, result.stderr
    assert "Forensics training" in result.stdout
    assert "Share the watch list" in result.stdout


# -- what only a real process shows (python -m roundtable) --------------------------------------


def test_the_real_process_answers_version_and_help(home: Path) -> None:
    result = rt("--version", home=home, process=True)
    assert result.returncode == 0 and result.stdout.startswith("roundtable "), result.stderr
    result = rt("add", "--help", home=home, process=True)
    assert result.returncode == 0 and "usage: roundtable" in result.stdout


def test_the_real_process_exits_with_the_status_and_one_line(home: Path) -> None:
    session_id = rt("new", "--region", "africa", home=home).stdout.strip()
    refused = rt("add", session_id, "/issue Routes via ports @XQ", home=home, process=True)
    assert refused.returncode == 1
    one_line_error(refused, "XQ")  # no traceback reaches the terminal
    usage = rt("new", "--region", "atlantis", home=home, process=True)
    assert usage.returncode == 2 and "Traceback" not in usage.stderr
    with LocalStore(home).open_session(session_id) as ss:
        assert ss.records("entry") == []


def test_the_real_process_reads_captures_from_standard_input(home: Path) -> None:
    session_id = rt("new", "--region", "europe", home=home).stdout.strip()
    lines = "/need Cyber forensics training @PL\n/note Second line from a pipe\n"
    result = rt("add", session_id, "-", home=home, input_=lines, process=True)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == 2
    with LocalStore(home).open_session(session_id, read_only=True) as ss:
        texts = sorted(e.text for e in ss.records("entry"))
    assert texts == ["Cyber forensics training", "Second line from a pipe"]
