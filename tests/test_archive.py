"""Session archive (issue 22, finding 9): hidden from lists, briefs and reports, kept on disk,
restorable with `roundtable archive|unarchive`, and synced as a session status under the wire
rule (protocol 3; a server of protocol 1 or 2 gets none of it, the laptop keeps it and says so
once)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from _cli import run

from roundtable import protocol
from roundtable.store import LocalStore


def two_sessions(capsys) -> tuple[str, str]:
    ids = []
    for region in ("americas", "europe"):
        code, out, err = run(capsys, "new", "--region", region, "--event", "Conference 2026")
        assert code == 0, err
        ids.append(out.strip())
        code, _, err = run(capsys, "add", ids[-1], "/need Training on cyber forensics #cyber")
        assert code == 0, err
    return ids[0], ids[1]


def test_archive_hides_a_session_from_lists_and_reports_and_unarchive_restores_it(
    home: Path, capsys
) -> None:
    americas, europe = two_sessions(capsys)
    code, out, err = run(capsys, "archive", americas)
    assert code == 0, err and "archived" in out
    _, listed, _ = run(capsys, "sessions", "--ids")
    assert listed.split() == [europe]
    _, listed, _ = run(capsys, "sessions", "--ids", "--archived")
    assert sorted(listed.split()) == sorted([americas, europe])
    _, report, _ = run(capsys, "report")
    assert "| Americas | **no session yet** |" in report and "| Europe | 1 |" in report
    assert (home / "sessions" / americas / "journal.jsonl").exists()  # kept on disk
    # an archived session takes no capture until restored
    code, _, err = run(capsys, "add", americas, "/note Late line")
    assert code != 0 and "is archived" in err and "unarchive" in err
    # archived twice: one line, non-zero, nothing changed
    code, _, err = run(capsys, "archive", americas)
    assert code != 0 and "already archived" in err and len(err.strip().splitlines()) == 1
    code, out, err = run(capsys, "unarchive", americas)
    assert code == 0, err and "planned again" in out
    _, listed, _ = run(capsys, "sessions", "--ids")
    assert sorted(listed.split()) == sorted([americas, europe])
    with LocalStore(home).open_session(americas) as ss:
        assert ss.session.status == "planned"
        assert [e.text for e in ss.records("entry")] == ["Training on cyber forensics"]
        with pytest.raises(Exception, match="unarchived: undo stops there"):
            ss.undo()


def test_unarchive_brings_back_a_closed_session_closed(home: Path, capsys) -> None:
    americas, _ = two_sessions(capsys)
    with LocalStore(home).open_session(americas) as ss:
        ss.update("session", americas, status="running", opened_at="2026-11-25T09:00:00+00:00")
        ss.close_session()
        ss.archive()
        assert ss.unarchive() == "closed"
        ss.reopen()
        ss.archive()
        assert ss.unarchive() == "running"


# -- the wire: protocol 3 carries "archived"; older bodies are accepted without it -------------


def _archived_op(store: LocalStore, session_id: str):
    with store.open_session(session_id) as ss:
        ss.archive()
        return next(o for o in ss.outbox() if o.field == "status" and o.value == "archived")


def test_the_server_takes_older_bodies_and_refuses_archived_in_them(home: Path, capsys) -> None:
    americas, _ = two_sessions(capsys)
    store = LocalStore(home)
    op = _archived_op(store, americas)
    current = protocol.push_body([op], "lap-a")
    assert current["protocol"] == 5 and protocol.parse_push_body(current) == [op]
    v3 = protocol.push_body([op], "lap-a", version=3)  # the version that added "archived"
    assert v3["protocol"] == 3 and protocol.parse_push_body(v3) == [op]
    for older_version in (1, 2):
        with pytest.raises(
            protocol.ProtocolError,
            match=rf"ops\[0\]: session.status 'archived' needs protocol 3 \(the body says "
            rf"{older_version}\)",
        ):
            protocol.parse_push_body(dict(v3, protocol=older_version))
    with store.open_session(americas) as ss:
        others = [o for o in ss.outbox() if o.op_id != op.op_id]
    # the session's number is of protocol 4 (issue 23): older bodies cannot carry it either
    (number,) = [o for o in others if (o.kind, o.field) == ("session", "number")]
    older = [o for o in others if o is not number]
    assert protocol.parse_push_body(protocol.push_body(older + [op], "lap-a", version=3))
    for older_version in (1, 2, 3):
        with pytest.raises(protocol.ProtocolError, match=r"unknown field 'number' for session"):
            protocol.parse_push_body(protocol.push_body([number], "lap-a", version=older_version))
        body = protocol.push_body(older, "lap-a", version=older_version)
        assert protocol.parse_push_body(body) == older


def _sync(store: LocalStore, url: str, token: str):
    from roundtable.sync import SyncClient

    client = SyncClient(store, url, token, backoff_base=0.01, backoff_cap=0.05, read_timeout=5.0)
    return asyncio.run(client.sync_once())


def server_sessions(store: LocalStore, url: str, token: str, event_id: str) -> tuple[str, str]:
    """An Americas and a Europe session of the server's event, each with a need."""
    assert _sync(store, url, token).ok  # the event, from the secretariat
    ids = []
    for region in ("americas", "europe"):
        session = store.create_session(event_id, region, f"{region} round table", [])
        with store.open_session(session.id) as ss:
            ss.add_entry("need", "Training on cyber forensics")
        ids.append(session.id)
    return ids[0], ids[1]


def test_an_archived_session_syncs_as_its_status(live_server, home: Path, capsys) -> None:
    event_id = live_server.create_event("Conference 2026")
    token = live_server.token(event_id, ["*"])
    store = LocalStore(home)
    americas, _ = server_sessions(store, live_server.url, token, event_id)
    _archived_op(store, americas)
    result = _sync(store, live_server.url, token)
    assert result.ok and not result.kept_local and result.notice is None, result
    with store.open_session(americas) as ss:
        assert ss.pending_count() == 0
    # another laptop pulls it: archived there too, and out of its lists
    other = LocalStore(home.parent / "other")
    assert _sync(other, live_server.url, token).ok
    assert americas not in {s.id for s in other.sessions()}
    assert americas in {s.id for s in other.sessions(include_archived=True)}
    # the server's report and a brief, through its gate, leave the archived session out
    import httpx

    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=live_server.url, headers=auth, timeout=10) as http:
        report = http.get(f"/v1/events/{event_id}/report", params={"format": "md"})
        assert report.status_code == 200, report.text
        assert "| Americas | **no session yet** |" in report.text, report.text
        assert "| Europe | 1 |" in report.text
    # a laptop of protocol 2 pulls no "archived" (the cursor moves past it all the same)
    with httpx.Client(base_url=live_server.url, headers=auth, timeout=10) as http:
        for version, seen in ((2, False), (3, True)):
            page = http.get(f"/v1/events/{event_id}/ops", params={"protocol": version}).json()
            assert page["protocol"] == version
            statuses = [o["value"] for o in page["ops"] if o["field"] == "status"]
            assert ("archived" in statuses) is seen, statuses


@pytest.mark.parametrize("older", [1, 2])
def test_an_older_server_gets_everything_but_the_archive_which_stays_here(
    live_server, home: Path, capsys, monkeypatch, older: int
) -> None:
    """A previous version's server (1, or 2 of issue 24), emulated in front of the real one: it
    says its protocol and its validator refuses any newer body version, as those did."""
    event_id = live_server.create_event("Conference 2026")
    token = live_server.token(event_id, ["*"])
    store = LocalStore(home)
    americas, europe = server_sessions(store, live_server.url, token, event_id)
    op = _archived_op(store, americas)
    from roundtable import sync

    monkeypatch.setattr(sync, "_check_protocol", lambda data, where: older)  # the server's
    monkeypatch.setattr(
        protocol,
        "parse_push_body",
        _older_validator(protocol.parse_push_body, older),
    )
    numbers = {}  # each session's number (protocol 4, issue 23) waits too
    for session_id in (americas, europe):
        with store.open_session(session_id) as ss:
            (numbers[session_id],) = [o.op_id for o in ss.outbox() if o.field == "number"]
    result = _sync(store, live_server.url, token)
    assert result.ok and result.rejected == 0, result
    assert result.kept_local == 3 and "kept on this laptop" in result.summary()
    assert result.notice == (
        f"3 changes kept on this laptop: the secretariat speaks sync protocol {older}, which does "
        "not know session.number, session.status 'archived'; they go once it is upgraded"
    )
    again = _sync(store, live_server.url, token)  # said once
    assert again.ok and again.kept_local == 3 and again.notice is None, again
    with store.open_session(americas) as ss:  # only the archive and the number wait
        assert {o.op_id for o in ss.outbox()} == {op.op_id, numbers[americas]}
    with store.open_session(europe) as ss:
        assert [o.op_id for o in ss.outbox()] == [numbers[europe]]
    rows = live_server.query("SELECT value FROM ops WHERE kind = 'session' AND field = 'status'")
    assert all(json.loads(value) != "archived" for (value,) in rows)


def _older_validator(current, older: int):
    def parse_push_body(data, *, now_ms=None):
        return current(data, now_ms=now_ms, speaks=older)

    return parse_push_body


def test_archived_status_is_in_the_session_statuses() -> None:
    from roundtable.model import SESSION_STATUSES

    assert "archived" in SESSION_STATUSES
    assert protocol.VALUES_SINCE[("session", "status", "archived")] == 3
    assert protocol.PROTOCOL_VERSION == 5 and protocol.FIELDS_SINCE[("event", "tz")] == 2
    assert protocol.FIELDS_SINCE[("session", "number")] == 4  # issue 23, after "archived"


def test_the_console_lists_no_archived_session_as_the_laptop_and_the_report(
    live_server, home: Path, capsys
) -> None:
    """One rule on every face: the laptop's list, the report and the console's overview and
    region pages leave an archived session out; its own page stays reachable by id."""
    import httpx

    event_id = live_server.create_event("Conference 2026")
    token = live_server.token(event_id, ["*"])
    store = LocalStore(home)
    americas, europe = server_sessions(store, live_server.url, token, event_id)
    _archived_op(store, americas)
    assert _sync(store, live_server.url, token).ok
    assert americas not in {s.id for s in store.sessions()}
    with httpx.Client(base_url=live_server.url, timeout=10) as web:
        signed = web.post(
            "/sign-in", data={"token": token, "next": "/"}, headers={"Origin": live_server.url}
        )
        assert signed.status_code == 303, signed.text
        overview = web.get("/")
        region = web.get("/regions/americas")
        page = web.get(f"/sessions/{americas}")
    assert overview.status_code == 200 and region.status_code == 200
    assert "americas round table" not in overview.text
    assert "europe round table" in overview.text
    assert f"/sessions/{americas}" not in region.text
    assert page.status_code == 200 and "americas round table" in page.text
