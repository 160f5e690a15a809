"""Backups, restores and upgrades of the secretariat's database, through the commands
(`roundtable backup`, `restore --db`, `migrate [--dry-run]`): an SQLite round trip with the
online backup API, a PostgreSQL round trip with pg_dump/pg_restore on a real cluster, a copy
kept before an SQLite migration, and one line for each kind of bad input."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path

import httpx
import pytest

from roundtable import cli
from roundtable.model import Entry, HlcClock, Op, Session, new_id
from roundtable.protocol import push_body
from roundtable.secretariat import create_app, create_event, issue_token
from roundtable.secretariat.repository import MIGRATIONS, SCHEMA_VERSION, statements

TABLES = ("ops", "events", "sessions", "tokens", "schema_version")


def _ops(event_id: str, n: int) -> list[Op]:
    clock = HlcClock("lap-backup")
    s = Session(id=new_id(), event_id=event_id, region="africa", title="Room B")
    ops = []
    records = [s] + [
        Entry(id=new_id(), session_id=s.id, entry_kind="need", text=f"need {i}") for i in range(n)
    ]
    for rec in records:
        for name, value in rec.to_fields().items():
            h = clock.now()
            ops.append(Op(new_id(), event_id, s.id, rec.id, rec.KIND, name, value, h.encode(),
                          h.device))  # fmt: skip
    return ops


def seeded(target: Path | str, n: int = 20) -> tuple[str, str]:
    """An event, a token and ``n`` entries pushed through the API as a laptop pushes them."""
    event_id = create_event(target, "Conference")
    token = issue_token(target, event_id, ["*"], label="Room B laptop")

    async def push() -> None:
        app = create_app(target)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as web:
            answer = await web.post(
                f"/v1/events/{event_id}/ops",
                json=push_body(_ops(event_id, n), "lap-backup"),
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
            )
            assert answer.status_code == 200, answer.text
        app.state.database.close()

    asyncio.run(push())
    return event_id, token


def sqlite_rows(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as conn:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}


def pg_rows(url: str) -> dict[str, list[tuple]]:
    import psycopg

    with psycopg.connect(url) as conn:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}


def one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_sqlite_backup_and_restore_round_trip(tmp_path: Path, capsys) -> None:
    db = tmp_path / "secretariat.db"
    seeded(db)
    before = sqlite_rows(db)
    assert len(before["ops"]) > 20
    backup = tmp_path / "backup.db"
    assert cli.main(["backup", "--db", str(db), "-o", str(backup)]) == 0
    assert "SQLite copy" in one_line(capsys)
    create_event(db, "Written after the backup")  # the live file moves on

    restored = tmp_path / "restored.db"
    assert cli.main(["restore", "--db", str(restored), str(backup)]) == 0
    assert "restored from" in one_line(capsys)
    assert sqlite_rows(restored) == before
    # the restored file serves: the token still works, the ops come back
    with sqlite3.connect(restored) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    # over an existing file: refused without --force; with it, the old one is kept aside
    assert cli.main(["restore", "--db", str(db), str(backup)]) == 1
    assert "give --force" in one_line(capsys)
    assert len(sqlite_rows(db)["events"]) == 2  # untouched
    assert cli.main(["restore", "--db", str(db), str(backup), "--force"]) == 0
    assert "kept as" in one_line(capsys)
    assert sqlite_rows(db) == before
    aside = list(tmp_path.glob("secretariat.db.before-restore-*"))
    assert len(aside) == 1 and len(sqlite_rows(aside[0])["events"]) == 2


def test_backup_and_restore_refuse_bad_input_in_one_line(tmp_path: Path, capsys) -> None:
    db = tmp_path / "secretariat.db"
    seeded(db, 2)
    out = tmp_path / "b.db"
    out.write_bytes(b"keep me")
    assert cli.main(["backup", "--db", str(db), "-o", str(out)]) == 1
    assert "exists" in one_line(capsys) and out.read_bytes() == b"keep me"
    assert cli.main(["backup", "--db", str(db), "-o", str(tmp_path / "no" / "b.db")]) == 1
    assert "does not exist" in one_line(capsys)
    assert cli.main(["backup", "--db", str(tmp_path / "missing.db"), "-o", "x.db"]) == 1
    assert "no such file" in one_line(capsys)
    target = tmp_path / "target.db"
    assert cli.main(["restore", "--db", str(target), str(out)]) == 1
    assert "not an SQLite database" in one_line(capsys) and not target.exists()
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    assert cli.main(["restore", "--db", str(target), str(other)]) == 1
    assert "not a roundtable secretariat database" in one_line(capsys)
    assert not target.exists()


def _at_schema(path: Path, version: int) -> None:
    """An SQLite file as a server of schema ``version`` left it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for v, _what, sql, _pg in MIGRATIONS:
        if v <= version:
            for stmt in statements(sql):
                conn.execute(stmt)
            conn.execute("INSERT INTO schema_version VALUES (?)", (v,))
    conn.execute("INSERT INTO ops (op_id, event_id, session_id, record_id, kind, field, value, "
                 "hlc, device, base, received_at) VALUES ('o1','e1','','e1','event','name',"
                 "'\"Conference\"','000000000000001-000000-d','d','',1.0)")  # fmt: skip
    conn.close()


def test_migrate_dry_run_changes_nothing_and_migrate_keeps_a_copy_first(
    tmp_path: Path, capsys
) -> None:
    db = tmp_path / "secretariat.db"
    _at_schema(db, SCHEMA_VERSION - 1)
    before = db.read_bytes()
    assert cli.main(["migrate", "--db", str(db), "--dry-run"]) == 0
    line = one_line(capsys)
    assert f"schema {SCHEMA_VERSION - 1}: would migrate to {SCHEMA_VERSION}" in line
    assert MIGRATIONS[-1][1] in line and "nothing changed" in line
    assert db.read_bytes() == before and list(tmp_path.iterdir()) == [db]

    assert cli.main(["migrate", "--db", str(db)]) == 0
    line = one_line(capsys)
    assert f"migrated to {SCHEMA_VERSION}" in line and "kept as" in line
    (kept,) = tmp_path.glob(f"secretariat.db.before-schema{SCHEMA_VERSION}-*")
    with sqlite3.connect(kept) as conn:
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == (
            SCHEMA_VERSION - 1
        )
        assert conn.execute("SELECT op_id FROM ops").fetchall() == [("o1",)]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == (
            SCHEMA_VERSION
        )
    assert cli.main(["migrate", "--db", str(db)]) == 0
    assert "up to date" in one_line(capsys)


def test_a_password_in_the_database_url_is_warned_about_and_never_echoed(capsys) -> None:
    url = "postgresql://rt:Hunter2-secret@127.0.0.1:1/roundtable"
    assert cli.main(["migrate", "--db", url, "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert "~/.pgpass or PGPASSWORD" in err and "cannot open the database" in err
    assert "Hunter2" not in err and "Traceback" not in err


def test_postgresql_backup_and_restore_round_trip(pg_cluster, capsys, tmp_path: Path) -> None:
    url = pg_cluster.new_database()
    seeded(url)
    before = pg_rows(url)
    backup = tmp_path / "secretariat.dump"
    assert cli.main(["backup", "--db", url, "-o", str(backup)]) == 0
    assert "pg_dump" in one_line(capsys)
    fresh = pg_cluster.new_database()
    assert cli.main(["restore", "--db", fresh, str(backup)]) == 0
    capsys.readouterr()
    assert pg_rows(fresh) == before
    # into a database that has tables: refused without --force, replaced with it
    create_event(url, "Written after the backup")
    assert cli.main(["restore", "--db", url, str(backup)]) == 1
    assert "already has tables" in one_line(capsys)
    assert cli.main(["restore", "--db", url, str(backup), "--force"]) == 0
    capsys.readouterr()
    assert pg_rows(url) == before


@pytest.fixture(autouse=True)
def _no_db_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROUNDTABLE_DB_URL", raising=False)
