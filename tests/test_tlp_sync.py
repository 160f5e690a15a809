"""Issue 14: TLP:RED never leaves the laptop, on a real secretariat (uvicorn on 127.0.0.1).

Every scenario plants a unique marker in RED text and reads the server's database for it: the
marker is never there, an entry relabelled RED after a push is withdrawn (a tombstone the
server holds), and relabelling it lower again brings it back."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from fixtures_server import LiveServer

from roundtable import protocol
from roundtable.model import Op, new_id
from roundtable.store import LocalStore
from roundtable.sync import SyncClient

AGENDA = [
    {"title": "Opening", "item_kind": "opening"},
    {"title": "Cases", "item_kind": "discussion"},
]


def sync(store: LocalStore, server: LiveServer, token: str):
    client = SyncClient(store, server.url, token, backoff_base=0.01, backoff_cap=0.05)
    return asyncio.run(client.sync_once())


def server_text(server: LiveServer) -> str:
    """Everything the server stored, as one string to search for markers."""
    return json.dumps(server.query("SELECT * FROM ops"))


def red_labels_on_server(server: LiveServer) -> int:
    return server.query("SELECT COUNT(*) FROM ops WHERE field = 'tlp' AND value LIKE '%red%'")[0][0]


def server_field(server: LiveServer, record_id: str, field: str) -> list:
    rows = server.query(
        "SELECT value, hlc FROM ops WHERE record_id = ? AND field = ? ORDER BY hlc",
        (record_id, field),
    )
    return [json.loads(v) for v, _h in rows]


@pytest.fixture
def laptop(live_server: LiveServer, tmp_path: Path):
    event_id = live_server.create_event("Conference 2026")
    token = live_server.token(event_id, ["*"])
    store = LocalStore(tmp_path / "home")
    assert sync(store, live_server, token).ok
    session = store.create_session(event_id, "europe", "Europe round table", AGENDA)
    return store, session.id, token


def test_a_red_capture_never_reaches_the_server(live_server, laptop) -> None:
    store, sid, token = laptop
    with store.open_session(sid) as ss:
        red = ss.add_entry("issue", "MARKER-RED-1 ongoing operation", tlp="red")
        amber = ss.add_entry("issue", "Shared routes MARKER-AMBER-1")
        ss.update("entry", red.id, text="MARKER-RED-2 edited while red")
    result = sync(store, live_server, token)
    assert result.ok and not result.rejected
    stored = server_text(live_server)
    assert "MARKER-AMBER-1" in stored
    assert "MARKER-RED" not in stored and red.id not in stored
    assert amber.id in stored
    with store.open_session(sid) as ss:  # reopened: still held, nothing left to push
        assert ss.pending_count() == 0
        assert ss.outbox() == []
        assert ss.get("entry", red.id).text.startswith("MARKER-RED-2")
    assert sync(store, live_server, token).pushed == 0
    assert "MARKER-RED" not in server_text(live_server)


def test_relabelling_to_red_after_a_push_withdraws_it(live_server, laptop) -> None:
    store, sid, token = laptop
    with store.open_session(sid) as ss:
        entry = ss.add_entry("issue", "Case file MARKER-PUSHED")
    assert sync(store, live_server, token).ok
    assert "MARKER-PUSHED" in server_text(live_server)
    with store.open_session(sid) as ss:
        ss.update("entry", entry.id, tlp="red")
        ss.update("entry", entry.id, text="MARKER-AFTER-RED names the informant")
        assert any("withdraw" in n for n in store.notices)
        assert ss.pending_count() == 1  # the withdrawal only
        (withdrawal,) = ss.outbox()
        assert (withdrawal.field, withdrawal.value) == ("deleted", True)
    result = sync(store, live_server, token)
    assert result.ok and not result.rejected
    assert server_field(live_server, entry.id, "deleted")[-1] is True
    stored = server_text(live_server)
    assert "MARKER-AFTER-RED" not in stored and red_labels_on_server(live_server) == 0
    with store.open_session(sid) as ss:  # the laptop keeps it; reopening pushes nothing
        assert not ss.get("entry", entry.id).deleted
        assert ss.pending_count() == 0
    assert sync(store, live_server, token).pushed == 0
    # the pull brings our own withdrawal back: it must not delete the laptop's entry
    with store.open_session(sid) as ss:
        assert not ss.get("entry", entry.id).deleted
    # the server's documents do not show it
    assert "MARKER-PUSHED" not in _minutes(live_server, token, sid)


def _minutes(server: LiveServer, token: str, sid: str) -> str:
    import httpx

    r = httpx.get(
        f"{server.url}/v1/sessions/{sid}/minutes", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200, r.text
    return r.text


def test_undo_of_a_red_relabel_restores_it_and_undo_again_withdraws(live_server, laptop) -> None:
    store, sid, token = laptop
    with store.open_session(sid) as ss:
        entry = ss.add_entry("need", "Training MARKER-TRAINING")
    assert sync(store, live_server, token).ok
    with store.open_session(sid) as ss:
        ss.update("entry", entry.id, tlp="red")
    assert sync(store, live_server, token).ok
    assert server_field(live_server, entry.id, "deleted")[-1] is True
    with store.open_session(sid) as ss:
        ss.update("entry", entry.id, text="MARKER-WHILE-RED")
        assert ss.undo() is not None  # the text edit
        assert ss.undo() is not None  # the relabel: back to amber
        assert ss.get("entry", entry.id).tlp == "amber"
    result = sync(store, live_server, token)
    assert result.ok and not result.rejected
    assert server_field(live_server, entry.id, "deleted")[-1] is False  # restored
    # the text written while red went out only as what it is now (undone to the old text)
    texts = server_field(live_server, entry.id, "text")
    assert texts[-1] == "Training MARKER-TRAINING"
    assert "MARKER-WHILE-RED" not in server_text(live_server)
    assert red_labels_on_server(live_server) == 0
    with store.open_session(sid) as ss:  # red again: withdrawn again
        ss.update("entry", entry.id, tlp="red")
    assert sync(store, live_server, token).ok
    assert server_field(live_server, entry.id, "deleted")[-1] is True
    assert red_labels_on_server(live_server) == 0


def test_the_session_default_red_keeps_every_capture_and_speech_home(live_server, laptop) -> None:
    store, sid, token = laptop
    with store.open_session(sid) as ss:
        ss.set_default_tlp("red")
        ss.add_entry("note", "MARKER-DEFAULT-RED")
        ss.add_speech("FR", "tour", 30, "2026-11-29T10:00:00Z")
        green = ss.add_entry("note", "MARKER-GREEN", tlp="green")
    assert sync(store, live_server, token).ok
    stored = server_text(live_server)
    assert "MARKER-DEFAULT-RED" not in stored and "MARKER-GREEN" in stored
    assert live_server.query("SELECT COUNT(*) FROM ops WHERE kind = 'speech'")[0][0] == 0
    assert green.tlp == "green"


def test_the_server_refuses_an_op_labelled_red(live_server, laptop) -> None:
    import httpx

    store, sid, token = laptop
    assert sync(store, live_server, token).ok
    event_id = store.open_session(sid, read_only=True).event_id
    hlc = store.clock.now().encode()
    op = Op(new_id(), event_id, sid, new_id(), "entry", "tlp", "red", hlc, store.device)
    body = {"protocol": protocol.PROTOCOL_VERSION, "ops": [op.to_dict()]}
    r = httpx.post(
        f"{live_server.url}/v1/events/{event_id}/ops",
        json=body,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": new_id()},
    )
    assert r.status_code == 422, r.text
    assert "TLP:RED" in r.text
    assert red_labels_on_server(live_server) == 0


def test_a_red_capture_relabelled_lower_sends_only_its_current_values(live_server, laptop):
    store, sid, token = laptop
    with store.open_session(sid) as ss:
        entry = ss.add_entry("issue", "MARKER-SECRET-DRAFT names a source", tlp="red")
        ss.update("entry", entry.id, text="Cross-border route via the northern corridor")
        ss.update("entry", entry.id, tlp="green")
    result = sync(store, live_server, token)
    assert result.ok and not result.rejected
    assert "MARKER-SECRET-DRAFT" not in server_text(live_server)
    assert server_field(live_server, entry.id, "text") == [
        "Cross-border route via the northern corridor"
    ]
    assert server_field(live_server, entry.id, "tlp") == ["green"]
    assert server_field(live_server, entry.id, "entry_kind") == ["issue"]
    with store.open_session(sid) as ss:
        assert ss.pending_count() == 0
    # a second laptop pulls it whole
    other = LocalStore(store.home.parent / "other")
    assert sync(other, live_server, token).ok
    with other.open_session(sid, read_only=True) as theirs:
        got = theirs.get("entry", entry.id)
        assert got.text.startswith("Cross-border") and got.tlp == "green" and not got.deleted


def test_add_from_the_command_line_with_red_stays_home(live_server, laptop, monkeypatch):
    from roundtable.cli import main

    store, sid, token = laptop
    monkeypatch.setenv("ROUNDTABLE_HOME", str(store.home))
    assert main(["add", sid, "/issue MARKER-CLI-RED joint operation ~red"]) == 0
    assert main(["add", sid, "/issue MARKER-CLI-AMBER shared"]) == 0
    assert sync(LocalStore(store.home), live_server, token).ok
    stored = server_text(live_server)
    assert "MARKER-CLI-AMBER" in stored and "MARKER-CLI-RED" not in stored


def _journal_text(home: Path) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in sorted(home.rglob("journal.jsonl"))
    )


def test_a_reader_below_a_new_label_loses_the_entry_and_gets_it_back(live_server, laptop):
    """A laptop whose token reads up to TLP:GREEN pulled an entry; relabelled TLP:AMBER, the
    next pull withdraws it there; labelled GREEN again, it comes back with its current text,
    never the text written while it was AMBER."""
    from roundtable.secretariat import issue_token

    store, sid, token = laptop
    event_id = store.open_session(sid, read_only=True).event_id
    green = issue_token(live_server.db_path, event_id, ["*"], max_tlp="green")
    reader_home = store.home.parent / "reader"
    reader = LocalStore(reader_home)
    with store.open_session(sid) as ss:
        entry = ss.add_entry("need", "Shared watch list", tlp="green")
    assert sync(store, live_server, token).ok
    assert sync(reader, live_server, green).ok
    with reader.open_session(sid, read_only=True) as theirs:
        assert theirs.get("entry", entry.id).text == "Shared watch list"
    with store.open_session(sid) as ss:
        ss.update("entry", entry.id, tlp="amber")
        ss.update("entry", entry.id, text="MARKER-AMBER-TIME names a case")
    assert sync(store, live_server, token).ok
    assert sync(reader, live_server, green).ok
    with reader.open_session(sid, read_only=True) as theirs:
        assert theirs.get("entry", entry.id).deleted  # withdrawn from the reader
    with store.open_session(sid) as ss:
        ss.update("entry", entry.id, text="Shared watch list, updated")
        ss.update("entry", entry.id, tlp="green")
    assert sync(store, live_server, token).ok
    assert sync(reader, live_server, green).ok
    with reader.open_session(sid, read_only=True) as theirs:
        back = theirs.get("entry", entry.id)
        assert not back.deleted and back.text == "Shared watch list, updated"
        assert back.tlp == "green"
    assert "MARKER-AMBER-TIME" not in _journal_text(reader_home)
    # the writer's own laptop never lost it
    with store.open_session(sid, read_only=True) as ss:
        assert not ss.get("entry", entry.id).deleted


def test_an_undo_that_makes_a_pushed_entry_red_says_it_is_withdrawn(live_server, laptop):
    store, sid, token = laptop
    with store.open_session(sid) as ss:
        entry = ss.add_entry("issue", "Routes MARKER-UNDO", tlp="red")
        ss.update("entry", entry.id, tlp="amber")
    assert sync(store, live_server, token).ok
    assert server_field(live_server, entry.id, "tlp") == ["amber"]
    store.notices.clear()
    with store.open_session(sid) as ss:
        assert ss.undo() is not None  # back to red
        assert ss.get("entry", entry.id).tlp == "red"
        assert any("withdraw" in n and entry.id[:8] in n for n in store.notices)
    assert sync(store, live_server, token).ok
    assert server_field(live_server, entry.id, "deleted")[-1] is True
    assert red_labels_on_server(live_server) == 0


def test_an_edit_without_a_label_keeps_the_label(laptop) -> None:
    """A capture line rewritten without ~label (the edit dialog's line, `roundtable edit`)
    never relabels: a RED entry stays RED."""
    store, sid, _token = laptop
    with store.open_session(sid) as ss:
        entry = ss.add_entry("issue", "Informant MARKER", tlp="red")
        ss.update("entry", entry.id, text="Informant, renamed", tlp="")
        assert ss.get("entry", entry.id).tlp == "red"
        ss.update("entry", entry.id, tlp="amber+strict")
        assert ss.get("entry", entry.id).tlp == "amber+strict"
        with pytest.raises(Exception, match="unknown label 'crimson'"):
            ss.update("entry", entry.id, tlp="crimson")
        assert ss.get("entry", entry.id).tlp == "amber+strict"


def test_carried_actions_keep_to_labels(live_server, tmp_path):
    """Actions carried to a later conference (issue 12): a RED one is never carried (not in
    the laptop's own list either: a review would copy its text into a record that syncs), an
    AMBER one is not listed to a token that reads up to TLP:GREEN, nor in its report."""
    from roundtable import carry
    from roundtable.secretariat import issue_token

    agenda = [{"title": "Review of action items", "item_kind": "actions"}]
    first = live_server.create_event("Conference 2025")
    old = LocalStore(tmp_path / "laptop-2025")
    assert sync(old, live_server, live_server.token(first)).ok
    s = old.create_session(first, "europe", "Europe round table", agenda)
    with old.open_session(s.id) as ss:
        green = ss.add_entry("action", "MARKER-CARRY-GREEN list", owner="DE", tlp="green").id
        amber = ss.add_entry("action", "MARKER-CARRY-AMBER list", owner="DE").id
        ss.add_entry("action", "MARKER-CARRY-RED operation", owner="DE", tlp="red")
    assert sync(old, live_server, live_server.token(first)).ok
    second = live_server.create_event("Conference 2026")
    readers = {
        c: issue_token(live_server.db_path, second, ["europe"], max_tlp=c)
        for c in ("green", "amber+strict")
    }
    for ceiling, token in readers.items():
        auth = {"Authorization": f"Bearer {token}"}
        listed = httpx.get(f"{live_server.url}/v1/regions/europe/actions", headers=auth)
        assert listed.status_code == 200, listed.text
        ids = {a["id"] for a in listed.json()["actions"]}
        assert green in ids and (amber in ids) == (ceiling == "amber+strict")
        report = httpx.get(f"{live_server.url}/v1/events/{second}/report", headers=auth).text
        assert "MARKER-CARRY-RED" not in report + listed.text
        assert ("MARKER-CARRY-AMBER" in report) == (ceiling == "amber+strict")
    # the laptop's own store, never connected for 2026: RED is not carried there either
    found = carry.offline(old, ["europe"], second)
    texts = {a.text for a in found}
    assert "MARKER-CARRY-GREEN list" in texts and "MARKER-CARRY-RED operation" not in texts
