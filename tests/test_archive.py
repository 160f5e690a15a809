"""Session archive (issue 22, finding 9): hidden from lists, briefs and reports, kept on disk,
restorable with `roundtable archive|unarchive`, and synced as a session status under the wire
rule (protocol 2; a server of protocol 1 gets none of it, the laptop keeps it and says so)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from roundtable import cli, protocol
from roundtable.store import LocalStore


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("ROUNDTABLE_HOME", str(home))
    monkeypatch.delenv("ROUNDTABLE_CONFIG", raising=False)
    return home


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


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


# -- the wire: protocol 2 carries "archived"; older bodies are accepted without it -------------


def _archived_op(store: LocalStore, session_id: str):
    with store.open_session(session_id) as ss:
        ss.archive()
        return next(o for o in ss.outbox() if o.field == "status" and o.value == "archived")


def test_the_server_takes_protocol_1_bodies_and_refuses_archived_in_one(home: Path, capsys) -> None:
    americas, _ = two_sessions(capsys)
    store = LocalStore(home)
    op = _archived_op(store, americas)
    v2 = protocol.push_body([op], "lap-a")
    assert v2["protocol"] == protocol.PROTOCOL_VERSION and protocol.parse_push_body(v2) == [op]
    v1 = dict(v2, protocol=1)
    with pytest.raises(protocol.ProtocolError, match=r"ops\[0\]: session.status 'archived' needs"):
        protocol.parse_push_body(v1)
    with store.open_session(americas) as ss:
        older = [o for o in ss.outbox() if o.op_id != op.op_id]
    assert protocol.parse_push_body(protocol.push_body(older, "lap-a") | {"protocol": 1})


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
    assert result.ok and not result.held, result
    with store.open_session(americas) as ss:
        assert ss.pending_count() == 0
    # another laptop pulls it: archived there too, and out of its lists
    other = LocalStore(home.parent / "other")
    assert _sync(other, live_server.url, token).ok
    assert americas not in {s.id for s in other.sessions()}
    assert americas in {s.id for s in other.sessions(include_archived=True)}


def test_a_protocol_1_server_gets_everything_but_the_archive_which_stays_here(
    live_server, home: Path, capsys, monkeypatch
) -> None:
    """The previous version's server, emulated in front of the real one: it says protocol 1
    and its validator refuses any other body version, as protocol 1's did."""
    event_id = live_server.create_event("Conference 2026")
    token = live_server.token(event_id, ["*"])
    store = LocalStore(home)
    americas, europe = server_sessions(store, live_server.url, token, event_id)
    op = _archived_op(store, americas)
    from roundtable import sync

    monkeypatch.setattr(sync, "_check_protocol", lambda data, where: 1)  # the server says 1
    monkeypatch.setattr(
        protocol,
        "parse_push_body",
        _v1_validator(protocol.parse_push_body),
    )
    result = _sync(store, live_server.url, token)
    assert result.ok and result.rejected == 0, result
    assert result.held == 1 and "kept on this laptop" in result.summary()
    with store.open_session(americas) as ss:
        assert [o.op_id for o in ss.outbox()] == [op.op_id]  # only the archive waits
    with store.open_session(europe) as ss:
        assert ss.pending_count() == 0
    rows = live_server.query("SELECT value FROM ops WHERE kind = 'session' AND field = 'status'")
    assert all(json.loads(value) != "archived" for (value,) in rows)


def _v1_validator(current):
    def parse_push_body(data, *, now_ms=None):
        if data.get("protocol") != 1:
            raise protocol.ProtocolError(
                f"{protocol.PROTOCOL_REFUSAL}{data.get('protocol')!r} is not supported (this "
                "side speaks 1)"
            )
        return current(dict(data, protocol=2), now_ms=now_ms)

    return parse_push_body


def test_archived_status_is_in_the_session_statuses() -> None:
    from roundtable.model import SESSION_STATUSES

    assert "archived" in SESSION_STATUSES
    assert protocol.SINCE[("session", "status", "archived")] == 2  # protocol 4 carries it too
