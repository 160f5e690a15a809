"""Issue 19, finding 4: sign-ins live in the database, so signing out, revoking a token and a
token's expiry end them at once, whatever worker a request reaches.  Two apps over one
database stand for two workers (in process, ASGI); SQLite and PostgreSQL.  The admin commands
(`roundtable tokens issue --expires | list | revoke`) run through ``cli.main``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from roundtable import cli
from roundtable.secretariat.deps import SESSION_COOKIE

ORIGIN = {"Origin": "http://testserver"}
T0 = 1_800_000_000.0  # 2027-01-15 08:00 UTC


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> float:
        return self.at


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return str(tmp_path_factory.mktemp("signins") / "secretariat.db")
    return request.getfixturevalue("pg_cluster").new_database()


@pytest.fixture(scope="module")
def workers(db: str):
    """Two apps over one database (two uvicorn workers, in process), one clock."""
    from roundtable.secretariat import create_app, create_event

    create_event(db, f"Conference {id(db)}")
    clock = Clock()
    apps = [create_app(db, now=clock) for _ in range(2)]
    yield apps, clock
    for app in apps:
        app.state.database.close()


def _event(db: str) -> str:
    from roundtable.secretariat import list_events

    return list_events(db)[0][0]


def _issue(db: str, *extra: str, capsys) -> str:
    capsys.readouterr()
    argv = ["tokens", "issue", "--db", db, "--event", _event(db), "--region", "africa", *extra]
    assert cli.main(argv) == 0
    return capsys.readouterr().out.strip()


def _sign_in(app, token: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    answer = client.post("/sign-in", data={"token": token, "next": "/"}, headers=ORIGIN)
    assert answer.status_code == 303, answer.text
    assert client.get("/").status_code == 200
    return client


def _copy(app, client: TestClient) -> TestClient:
    """Another browser holding a copy of the session cookie."""
    thief = TestClient(app, follow_redirects=False)
    thief.cookies.set(SESSION_COOKIE, client.cookies[SESSION_COOKIE])
    return thief


def _signed_out(client: TestClient) -> bool:
    answer = client.get("/report")
    return answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")


def test_signing_out_ends_the_sign_in_for_a_copied_cookie_on_every_worker(workers, db, capsys):
    (a, b), clock = workers
    token = _issue(db, "--label", "Room B", capsys=capsys)
    browser = _sign_in(a, token)
    copy_a, copy_b = _copy(a, browser), _copy(b, browser)
    assert copy_b.get("/").status_code == 200  # one sign-in, good on every worker
    out = TestClient(b, follow_redirects=False, cookies=browser.cookies)
    assert out.post("/sign-out", headers=ORIGIN).status_code == 303  # signed out on worker B
    assert _signed_out(copy_a) and _signed_out(copy_b) and _signed_out(browser)
    assert (
        TestClient(a)
        .get("/v1/whoami", headers={"Authorization": f"Bearer {token}"})
        .json()["label"]
        == "Room B"
    )  # signing out ends the browser's sign-in, not the token


def test_a_revoked_token_gets_401_and_its_browsers_the_sign_in_page(workers, db, capsys):
    (a, b), clock = workers
    token = _issue(db, "--label", "Revoke me", capsys=capsys)
    browser = _sign_in(a, token)
    bearer = {"Authorization": f"Bearer {token}"}
    assert TestClient(b).get("/v1/whoami", headers=bearer).status_code == 200
    capsys.readouterr()
    assert cli.main(["tokens", "list", "--db", db]) == 0
    listed = capsys.readouterr().out
    assert token not in listed
    row = next(line for line in listed.splitlines() if "Revoke me" in line).split("\t")
    assert row[3:5] == ["africa", "amber+strict"] and row[-1] == "active"
    assert cli.main(["tokens", "revoke", row[0], "--db", db]) == 0
    assert "revoked token" in capsys.readouterr().out
    for app in (a, b):
        assert TestClient(app).get("/v1/whoami", headers=bearer).status_code == 401
        console = TestClient(app, follow_redirects=False)
        assert console.get("/", headers=bearer).status_code == 401  # a script on the console
    assert _signed_out(browser) and _signed_out(_copy(b, browser))
    again = TestClient(a, follow_redirects=False)
    refused = again.post("/sign-in", data={"token": token}, headers=ORIGIN)
    assert refused.status_code == 401 and "set-cookie" not in refused.headers
    capsys.readouterr()
    assert cli.main(["tokens", "list", "--db", db]) == 0
    assert "\trevoked " in capsys.readouterr().out


def test_an_expired_token_ends_its_sign_ins_and_says_when_in_whoami(workers, db, capsys):
    (a, b), clock = workers
    clock.at = T0
    token = _issue(db, "--expires", "2027-01-31", "--label", "Till January", capsys=capsys)
    bearer = {"Authorization": f"Bearer {token}"}
    who = TestClient(a).get("/v1/whoami", headers=bearer).json()
    assert who["expires_at"] == "2027-02-01T00:00:00+00:00"  # it works through the 31st
    browser = _sign_in(b, token)
    clock.at = dt.datetime(2027, 2, 1, 0, 0, 1, tzinfo=dt.UTC).timestamp()
    try:
        assert TestClient(a).get("/v1/whoami", headers=bearer).status_code == 401
        assert _signed_out(browser)
    finally:
        clock.at = T0
    plain = _issue(db, capsys=capsys)
    answer = TestClient(a).get("/v1/whoami", headers={"Authorization": f"Bearer {plain}"})
    assert answer.json()["expires_at"] is None


def test_expiry_in_days_and_bad_expiries(workers, db, capsys) -> None:
    token = _issue(db, "--expires", "30d", "--label", "Thirty days", capsys=capsys)
    assert token
    capsys.readouterr()
    for bad in ("soon", "2020-01-31", "0d"):
        argv = ["tokens", "issue", "--db", db, "--event", _event(db), "--region", "africa"]
        assert cli.main([*argv, "--expires", bad]) != 0
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--expires" in err[0] and "Traceback" not in err[0]


def test_last_used_is_written_at_most_once_a_minute(workers, db, capsys) -> None:
    from roundtable.secretariat.db import open_ready

    (a, _b), clock = workers
    token = _issue(db, "--label", "Used", capsys=capsys)
    bearer = {"Authorization": f"Bearer {token}"}

    def last_used() -> float | None:
        with open_ready(db) as database, database.repository() as repo:
            return next(t["last_used"] for t in repo.list_tokens() if t["label"] == "Used")

    assert last_used() is None
    clock.at = T0 + 1000
    TestClient(a).get("/v1/whoami", headers=bearer)
    assert last_used() == T0 + 1000
    clock.at = T0 + 1030
    TestClient(a).get("/v1/whoami", headers=bearer)
    assert last_used() == T0 + 1000  # within the minute: not written again
    clock.at = T0 + 1061
    TestClient(a).get("/v1/whoami", headers=bearer)
    assert last_used() == T0 + 1061
    clock.at = T0
    capsys.readouterr()
    cli.main(["tokens", "list", "--db", db])
    line = next(x for x in capsys.readouterr().out.splitlines() if "\tUsed\t" in x)
    assert "2027-01-15 08:17 UTC" in line  # last used, in the list


def test_an_old_database_is_migrated_with_its_tokens_kept(tmp_path: Path) -> None:
    """The migration adds expiry, revocation and sign-ins to a database of the previous
    schema; its tokens keep working."""
    import sqlite3

    from roundtable.secretariat import create_event, issue_token
    from roundtable.secretariat.db import open_ready

    path = tmp_path / "old.db"
    event = create_event(path, "Old")
    token = issue_token(path, event, ["*"])
    conn = sqlite3.connect(path)
    with conn:
        # schema 4: what later migrations added goes too (6: ops.wire, 7: ops.region)
        conn.execute("DELETE FROM schema_version WHERE version >= 5")
        conn.execute("DROP INDEX ops_region")
        conn.execute("ALTER TABLE ops DROP COLUMN region")
        conn.execute("ALTER TABLE ops DROP COLUMN wire")
        conn.execute("DROP TABLE sign_ins")
        conn.execute("DROP TABLE device_scopes")
        for column in ("expires", "revoked", "last_used"):
            conn.execute(f"ALTER TABLE tokens DROP COLUMN {column}")
    conn.close()
    with open_ready(path) as database, database.repository() as repo:
        scope = repo.lookup_token(token)
        assert scope is not None and scope.expires is None


def test_ended_sign_ins_are_forgotten_with_the_saved_push_answers(workers, db, capsys) -> None:
    from roundtable.secretariat.app import IdempotencyTrim
    from roundtable.secretariat.db import open_ready

    (a, _b), _clock = workers
    browser = _sign_in(a, _issue(db, "--label", "Trimmed", capsys=capsys))
    assert browser.post("/sign-out", headers=ORIGIN).status_code == 303
    with open_ready(db) as database, database.repository() as repo:
        count = "SELECT COUNT(*) FROM sign_ins WHERE ended IS NOT NULL"
        assert repo.rows(count)[0][0] >= 1
        IdempotencyTrim(days=1).run(repo, T0 + 2 * 86400)
        assert repo.rows(count)[0][0] == 0
