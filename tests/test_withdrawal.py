"""Issue 19, findings 2 and 3: relabelling an entry TLP:RED withdraws it whatever its history
on other laptops (deletes, concurrent edits, restores), and the secretariat never serves a
withdrawn entry's earlier values again (pull, history, documents), not even to a laptop that
connects afterwards.  Real laptops' stores and a real secretariat on 127.0.0.1, on SQLite and
PostgreSQL (``tests/fixtures_pg.py``)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from fixtures_server import LiveServer

from roundtable import cli
from roundtable.store import LocalStore, StoreError
from roundtable.sync import SyncClient

AGENDA = [{"title": "Needs", "item_kind": "needs"}]


@pytest.fixture
def live_server(engine_server):
    return engine_server


def sync(store: LocalStore, server: LiveServer, token: str):
    client = SyncClient(store, server.url, token, backoff_base=0.01, backoff_cap=0.05,
                        read_timeout=5.0)  # fmt: skip
    result = asyncio.run(client.sync_once())
    assert result.ok and not result.rejected, result.summary()
    return result


def get(server: LiveServer, token: str, path: str) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {token}"})


def pulled(server: LiveServer, token: str, event_id: str) -> str:
    """Every op a reader pulls from the start, as one string to search for markers."""
    out, since = [], 0
    while True:
        r = get(server, token, f"/v1/events/{event_id}/ops?since={since}&limit=3")
        assert r.status_code == 200, r.text
        page = r.json()
        out += page["ops"]
        since = page["next"]
        if not page["more"]:
            return json.dumps(out)


def journals(home: Path) -> str:
    return "".join(p.read_text("utf-8") for p in home.rglob("journal.jsonl"))


def shown(store: LocalStore, sid: str) -> list[str]:
    with store.open_session(sid, read_only=True) as ss:
        return [e.text for e in ss.records("entry")]


@pytest.fixture
def withdrawn(live_server: LiveServer, tmp_path: Path, monkeypatch, capsys):
    """The issue's steps: A deletes E, B edits E, both sync, B restores E, both sync, then A
    runs ``roundtable edit S E "... ~red"`` and both sync."""
    server = live_server
    event_id = server.create_event("Conference 2026")
    token = server.token(event_id, ["*"])
    a, b = LocalStore(tmp_path / "a"), LocalStore(tmp_path / "b")
    sync(a, server, token)
    sid = a.create_session(event_id, "europe", "Europe round table", AGENDA).id
    with a.open_session(sid) as ss:
        eid = ss.add_entry("need", "Training MARKER-FIRST", delegations=["FR"]).id
        ss.add_entry("need", "Forensic kits MARKER-KEPT", delegations=["DE"])
    sync(a, server, token)
    sync(b, server, token)
    with a.open_session(sid) as ss:
        ss.delete("entry", eid)
    with b.open_session(sid) as ss:  # B has not seen the delete
        ss.update("entry", eid, text="Training MARKER-EDITED-ON-B")
    sync(a, server, token)
    sync(b, server, token)
    sync(a, server, token)
    with b.open_session(sid) as ss:
        ss.restore("entry", eid)
    sync(b, server, token)
    sync(a, server, token)
    assert "Training MARKER-EDITED-ON-B" in shown(a, sid)
    monkeypatch.setenv("ROUNDTABLE_HOME", str(tmp_path / "a"))
    monkeypatch.delenv("ROUNDTABLE_CONFIG", raising=False)
    code = cli.main(["edit", sid, eid, "/need Training MARKER-RED names a source ~red"])
    out, err = capsys.readouterr()
    assert code == 0, err
    sync(a, server, token)
    sync(b, server, token)
    return server, token, event_id, sid, eid, a, b


def test_relabelling_red_withdraws_an_entry_another_laptop_edited_and_restored(withdrawn):
    server, token, event_id, sid, eid, a, b = withdrawn
    # the server's minutes no longer show it, in any of its versions
    r = get(server, token, f"/v1/sessions/{sid}/minutes")
    assert r.status_code == 200, r.text
    assert "MARKER-KEPT" in r.text
    assert "MARKER-FIRST" not in r.text and "MARKER-EDITED-ON-B" not in r.text
    assert "MARKER-RED" not in json.dumps(server.query("SELECT * FROM ops"))
    # nor does the web console
    with httpx.Client(base_url=server.url, timeout=10, headers={"Origin": server.url}) as web:
        assert web.post("/sign-in", data={"token": token, "next": "/"}).status_code == 303
        for page in (f"/sessions/{sid}", f"/sessions/{sid}/minutes.md"):
            r = web.get(page)
            assert r.status_code == 200 and "MARKER-KEPT" in r.text, (page, r.status_code)
            assert "MARKER-FIRST" not in r.text and "MARKER-EDITED-ON-B" not in r.text
    # laptop B drops it from its views, conflicts and documents
    assert shown(b, sid) == ["Forensic kits MARKER-KEPT"]
    with b.open_session(sid, read_only=True) as ss:
        assert ss.conflicted_entries() == {}
        snap = ss.snapshot({"FR": "France", "DE": "Germany"})
        assert [e.text for e in snap.entries] == ["Forensic kits MARKER-KEPT"]
    with b.open_session(sid) as ss:  # only the room that labelled it RED can release it
        with pytest.raises(StoreError, match="withdrawn"):
            ss.restore("entry", eid)
    # laptop A keeps its RED entry
    assert "Training MARKER-RED names a source" in shown(a, sid)
    # an edit written after the withdrawal (as a laptop that had not pulled it yet would)
    # does not bring it back: not on the server, not on the laptop
    with b.open_session(sid) as ss:
        ss.update("entry", eid, text="Training MARKER-LATE-ON-B")
    sync(b, server, token)
    sync(a, server, token)
    minutes = get(server, token, f"/v1/sessions/{sid}/minutes").text
    assert "MARKER-LATE-ON-B" not in minutes and "MARKER-EDITED-ON-B" not in minutes
    assert shown(b, sid) == ["Forensic kits MARKER-KEPT"]
    assert "MARKER-LATE-ON-B" not in pulled(server, token, event_id)


def test_a_withdrawn_entrys_earlier_values_are_never_served(withdrawn, tmp_path: Path):
    server, token, event_id, sid, eid, a, b = withdrawn
    # pull and history, for any token (the room's own included)
    ops = pulled(server, token, event_id)
    assert "MARKER-KEPT" in ops and eid in ops  # the tombstone is there
    assert "MARKER-FIRST" not in ops and "MARKER-EDITED-ON-B" not in ops
    r = get(server, token, f"/v1/events/{event_id}/records/{eid}/history")
    assert "MARKER-FIRST" not in r.text and "MARKER-EDITED-ON-B" not in r.text
    # a laptop connected afterwards never writes them into its journal
    c = LocalStore(tmp_path / "c")
    sync(c, server, token)
    text = journals(tmp_path / "c")
    assert "MARKER-KEPT" in text
    assert "MARKER-FIRST" not in text and "MARKER-EDITED-ON-B" not in text
    assert shown(c, sid) == ["Forensic kits MARKER-KEPT"]


def test_relabelling_lower_again_brings_back_current_values_only(withdrawn, tmp_path: Path):
    server, token, event_id, sid, eid, a, b = withdrawn
    c = LocalStore(tmp_path / "c")
    sync(c, server, token)  # connected while it was withdrawn
    with a.open_session(sid) as ss:
        ss.update("entry", eid, tlp="green", text="Training MARKER-RELEASED")
    sync(a, server, token)
    with a.open_session(sid, read_only=True) as ss:
        on_a = ss.get("entry", eid)
    for store in (b, c):
        sync(store, server, token)
        assert sorted(shown(store, sid)) == [
            "Forensic kits MARKER-KEPT",
            "Training MARKER-RELEASED",
        ]
        with store.open_session(sid, read_only=True) as ss:
            entry = ss.get("entry", eid)
            assert entry == on_a  # every field as the laptop that released it has it
            assert (entry.entry_kind, entry.tlp) == ("need", "green")
            assert ss.conflicted_entries() == {}
    r = get(server, token, f"/v1/sessions/{sid}/minutes")
    assert "MARKER-RELEASED" in r.text and "MARKER-EDITED-ON-B" not in r.text
    d = LocalStore(tmp_path / "d")  # connected after it came back
    sync(d, server, token)
    assert "Training MARKER-RELEASED" in shown(d, sid)
    text = journals(tmp_path / "d")
    assert "MARKER-FIRST" not in text and "MARKER-EDITED-ON-B" not in text
    ops = pulled(server, token, event_id)
    assert "MARKER-FIRST" not in ops and "MARKER-EDITED-ON-B" not in ops
    assert "MARKER-RED" not in json.dumps(server.query("SELECT * FROM ops"))


def test_a_withdrawal_merges_the_same_in_any_order() -> None:
    """The merge rule with withdrawals (``protocol.withdrawn``) is a function of the set of
    ops: every order of delivery gives the same document, withdrawn while no newer label op
    is there, back with the newer label's values once it is."""
    import itertools

    from roundtable import protocol
    from roundtable.model import Op

    ev, sid, rid = (f"01a2509b-0000-7000-8000-00000000000{n}" for n in range(3))

    def op(n: int, field: str, value, wall: int, device: str, base=(), op_id=None) -> Op:
        hlc = f"{wall:015d}-000000-{device}"
        return Op(op_id=op_id or f"01a2509b-0000-7000-8000-0000000001{n:02d}", event_id=ev,
                  session_id=sid, record_id=rid, kind="entry", field=field, value=value,
                  hlc=hlc, device=device, base=tuple(base))  # fmt: skip

    def h(wall: int, device: str) -> str:
        return f"{wall:015d}-000000-{device}"

    w_hlc = h(1_000_050, "lap-a")
    ops = [
        op(1, "text", "first", 1_000_000, "lap-a"),
        op(2, "tlp", "amber", 1_000_000, "lap-a"),
        op(3, "deleted", True, 1_000_010, "lap-a", [h(1_000_000, "lap-a")]),
        op(4, "text", "edited on b", 1_000_020, "lap-b", [h(1_000_000, "lap-a")]),
        op(5, "deleted", False, 1_000_030, "lap-b", [h(1_000_010, "lap-a")]),
        op(6, "deleted", True, 1_000_050, "lap-a", [h(1_000_030, "lap-b")],
           op_id=protocol.withdrawal_op_id("entry", rid, w_hlc)),
        op(7, "text", "edited later on c", 1_000_060, "lap-c", [h(1_000_020, "lap-b")]),
    ]  # fmt: skip
    assert protocol.is_withdrawal(ops[5]) and not protocol.is_withdrawal(ops[2])
    docs = set()
    for order in itertools.permutations(ops):
        doc = protocol.merge_ops(order)[("entry", rid)]
        assert protocol.withdrawn(doc) and doc["fields"]["deleted"] is True
        assert protocol.delete_conflict(doc) is None and protocol.conflicts(doc) == {}
        docs.add(json.dumps(doc, sort_keys=True))
    assert len(docs) == 1
    back = [
        *ops,
        op(8, "tlp", "green", 1_000_070, "lap-a", [h(1_000_000, "lap-a")]),
        op(9, "deleted", False, 1_000_070, "lap-a", [w_hlc]),
    ]
    docs.clear()
    for order in itertools.islice(itertools.permutations(back), 0, None, 211):
        doc = protocol.merge_ops(order)[("entry", rid)]
        assert not protocol.withdrawn(doc) and doc["fields"]["deleted"] is False
        docs.add(json.dumps(doc, sort_keys=True))
    assert len(docs) == 1
