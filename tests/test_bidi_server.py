"""Issue 19, finding 6 (the server's part): bidirectional controls (U+202A-U+202E,
U+2066-U+2069) in pushed text are removed, not a reason to refuse the batch; LRM, RLM and ALM
stay.  HTML documents and console pages isolate every captured string in ``<bdi>``; Markdown
is unchanged.  In process (ASGI)."""

from __future__ import annotations

import json
import sqlite3
import uuid

from fastapi.testclient import TestClient

from roundtable.model import AgendaItem, Entry, HlcClock, Op, Session, new_id
from roundtable.protocol import push_body

RLO, PDF, LRI, PDI, LRM, RLM, ALM = (
    "\u202e",
    "\u202c",
    "\u2066",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
)


def _ops(rec, event, sid, clock) -> list[Op]:
    out = []
    for name, value in rec.to_fields().items():
        h = clock.now()
        out.append(Op(new_id(), event, sid, rec.id, rec.KIND, name, value, h.encode(), h.device))
    return out


def test_bidi_controls_are_removed_from_pushed_text_and_documents_isolate_it(tmp_path) -> None:
    from roundtable.secretariat import create_app, create_event, issue_token

    db = tmp_path / "secretariat.db"
    event = create_event(db, "Conference")
    token = issue_token(db, event, ["africa"], "Africa room")
    app = create_app(db)
    client = TestClient(app, follow_redirects=False)
    clock = HlcClock("lap-af")
    s = Session(id=new_id(), event_id=event, region="africa", title=f"Room {RLO}A{PDF}",
                room=f"{LRI}B2{PDI}", date="2026-11-29", status="running")  # fmt: skip
    item = AgendaItem(id=new_id(), session_id=s.id, position=0, title="Item")
    e = Entry(
        id=new_id(),
        session_id=s.id,
        entry_kind="issue",
        text=f"Invoice {RLO}gpj.exe{PDF} {LRM}marks{RLM} stay{ALM}",
        crime_areas=[f"cyber{RLO}crime"],
        agenda_item=item.id,
        created_at="2026-11-29T09:00:00+00:00",
    )
    ops = _ops(s, event, s.id, clock) + _ops(item, event, s.id, clock)
    ops += _ops(e, event, s.id, clock)
    answer = client.post(
        f"/v1/events/{event}/ops",
        json=push_body(ops, "lap-af", f"Africa {RLO}room"),
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert answer.status_code == 200, answer.text  # stored, not refused
    assert len(answer.json()["accepted"]) == len(ops)
    conn = sqlite3.connect(db)
    try:
        stored = {
            (rid, field): json.loads(value)
            for rid, field, value in conn.execute("SELECT record_id, field, value FROM ops")
        }
        label = conn.execute("SELECT label FROM devices").fetchone()[0]
    finally:
        conn.close()
    assert stored[(e.id, "text")] == f"Invoice gpj.exe {LRM}marks{RLM} stay{ALM}"
    assert stored[(e.id, "crime_areas")] == ["cybercrime"]
    assert stored[(s.id, "title")] == "Room A" and stored[(s.id, "room")] == "B2"
    assert label == "Africa room"
    bearer = {"Authorization": f"Bearer {token}"}
    html = client.get(f"/v1/sessions/{s.id}/minutes", params={"format": "html"}, headers=bearer)
    assert "<bdi>Invoice gpj.exe" in html.text
    assert "<h1><bdi>Minutes — Room A" in html.text
    markdown = client.get(f"/v1/sessions/{s.id}/minutes", headers=bearer).text
    assert "<bdi>" not in markdown and "Invoice gpj.exe" in markdown
    signed = client.post("/sign-in", data={"token": token}, headers={"Origin": "http://testserver"})
    assert signed.status_code == 303
    page = client.get(f"/sessions/{s.id}").text
    assert "<h1><bdi>Room A</bdi>" in page and "Room <bdi>B2</bdi>" in page
    assert RLO not in page and RLO not in html.text
    app.state.database.close()
