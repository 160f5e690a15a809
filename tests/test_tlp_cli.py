"""Issue 14 on the command line (real processes, a real home) and in the server's database:
labels from `new --tlp` and `~label`, `--audience` on exports and the report, the token
ceiling of `tokens issue --max-tlp`, and a secretariat file from before ceilings brought
forward."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from _cli import one_line_error, rt

from roundtable.store import LocalStore


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_labels_and_audiences_from_the_command_line(home: Path) -> None:
    made = rt("new", "--region", "africa", "--tlp", "green", home=home)
    assert made.returncode == 0, made.stderr
    sid = made.stdout.strip()
    lines = "\n".join([
        "/decide Adopt the agenda MARKCLEAR ~clear",
        "/decide Share the watch list MARKGREEN",
        "/decide Joint operation MARKAMBER ~amber",
        "/decide Informant MARKRED ~red",
    ])  # fmt: skip
    added = rt("add", sid, "-", home=home, input_=lines + "\n")
    assert added.returncode == 0, added.stderr
    with LocalStore(home).open_session(sid, read_only=True) as ss:
        assert ss.session.default_tlp == "green"
        assert [e.tlp for e in ss.records("entry")] == ["clear", "green", "amber", "red"]
    expect = {
        "public": {"MARKCLEAR"},
        "community": {"MARKCLEAR", "MARKGREEN"},
        "participants": {"MARKCLEAR", "MARKGREEN", "MARKAMBER"},
        "room": {"MARKCLEAR", "MARKGREEN", "MARKAMBER", "MARKRED"},
    }
    all_marks = expect["room"]
    for audience, shown in expect.items():
        out = rt("export", sid, "--audience", audience, home=home)
        assert out.returncode == 0, out.stderr
        assert {m for m in all_marks if m in out.stdout} == shown, audience
        # D4 stays D4 whoever reads it
        if "MARKRED" in shown:
            assert "**D4.** Informant MARKRED." in out.stdout
        if "MARKAMBER" in shown:
            assert "**D3.** Joint operation MARKAMBER." in out.stdout
    saved = rt("export", sid, "--audience", "public", "--save", home=home)
    assert saved.returncode == 0, saved.stderr
    assert "-minutes-en-public-draft1.md" in saved.stdout
    plain = rt("export", sid, "--save", home=home)
    assert "-minutes-en-draft1.md" in plain.stdout  # the default audience keeps its name
    report = rt("report", "--audience", "community", home=home)
    assert report.returncode == 0 and "MARKAMBER" not in report.stdout
    assert "MARKRED" not in rt("report", home=home).stdout
    one_line_error(rt("report", "--audience", "room", home=home), "never for the room")
    bad = rt("export", sid, "--audience", "everyone", home=home)
    assert bad.returncode == 2 and "invalid choice: 'everyone'" in bad.stderr
    one_line_error(rt("add", sid, "/note x ~crimson", home=home), "unknown label ~crimson")


def test_tokens_issue_takes_a_ceiling(tmp_path: Path) -> None:
    db = tmp_path / "secretariat.db"
    home = tmp_path / "home"
    assert rt("events", "create", "--db", str(db), "Conf", home=home).returncode == 0
    issued = rt("tokens", "issue", "--db", str(db), "--event", "Conf", "--region", "*",
                "--max-tlp", "green", home=home)  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    plain = rt("tokens", "issue", "--db", str(db), "--event", "Conf", "--region", "europe",
               home=home)  # fmt: skip
    assert plain.returncode == 0, plain.stderr
    rows = sqlite3.connect(db).execute("SELECT regions, max_tlp FROM tokens ORDER BY created")
    assert rows.fetchall() == [('["*"]', "green"), ('["europe"]', "amber+strict")]
    refused = rt("tokens", "issue", "--db", str(db), "--event", "Conf", "--region", "*",
                 "--max-tlp", "red", home=home)  # fmt: skip
    assert refused.returncode == 2 and "invalid choice: 'red'" in refused.stderr
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM tokens").fetchone() == (2,)


def test_a_secretariat_file_from_before_ceilings_is_brought_forward(tmp_path: Path) -> None:
    """Migrations 1 and 2 only (as an older server left the file), a token issued then: the
    current server adds the ceiling column, and that token reads up to TLP:AMBER+STRICT."""
    from roundtable.secretariat.db import open_ready
    from roundtable.secretariat.repository import MIGRATIONS, hash_token, statements

    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for version, _what, sqlite_sql, _pg in MIGRATIONS[:2]:
        for stmt in statements(sqlite_sql):
            conn.execute(stmt)
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
    conn.execute("INSERT INTO events (event_id, name, created) VALUES ('ev', 'Conf', 0)")
    conn.execute(
        "INSERT INTO tokens (hash, event_id, regions, label, created) VALUES (?,?,?,?,?)",
        (hash_token("old-token"), "ev", '["*"]', "Room A", 0),
    )
    conn.commit()
    conn.close()
    with open_ready(db) as database, database.repository() as repo:
        scope = repo.lookup_token("old-token")
    assert scope is not None and scope.max_tlp == "amber+strict"
    versions = sqlite3.connect(db).execute("SELECT MAX(version) FROM schema_version").fetchone()
    assert versions == (MIGRATIONS[-1][0],)
