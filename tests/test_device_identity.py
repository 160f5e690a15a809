"""Issue 19, finding 5: within an event a device id belongs to the region scope of the first
token that pushed under it.  Another region's token pushing under it (ops or a label) is
refused 403 and nothing of its batch is stored; a token reissued for the same room keeps it;
a laptop learns the labels of the devices in its own scope only.  In process (ASGI)."""

from __future__ import annotations

import time
import uuid

import pytest
from fastapi.testclient import TestClient

from roundtable.model import AgendaItem, HlcClock, Op, Session, new_id
from roundtable.protocol import push_body


@pytest.fixture
def world(tmp_path):
    from roundtable.secretariat import create_app, create_event, issue_token

    db = tmp_path / "secretariat.db"
    event = create_event(db, "Conference")
    tokens = {
        "africa": issue_token(db, event, ["africa"], "Africa room"),
        "africa-again": issue_token(db, event, ["africa"], "Africa room, reissued"),
        "europe": issue_token(db, event, ["europe"], "Room B"),
        "all": issue_token(db, event, ["*"], "Secretariat"),
    }
    app = create_app(db)
    client = TestClient(app)
    yield client, event, tokens, db
    app.state.database.close()


def _session_ops(event: str, region: str, device: str) -> list[Op]:
    clock = HlcClock(device)
    s = Session(id=new_id(), event_id=event, region=region, title=f"{region} table")
    item = AgendaItem(id=new_id(), session_id=s.id, position=0, title="Item")
    ops = []
    for rec in (s, item):
        for name, value in rec.to_fields().items():
            h = clock.now()
            ops.append(Op(new_id(), event, s.id, rec.id, rec.KIND, name, value, h.encode(), device))
    return ops


def _push(client, event, token, ops, device, label=None):
    return client.post(
        f"/v1/events/{event}/ops",
        json=push_body(ops, device, label),
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
    )


def _count(db) -> int:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT COUNT(*) FROM ops").fetchone()[0]
    finally:
        conn.close()


def _labels(client, event, token) -> dict:
    answer = client.get(
        f"/v1/events/{event}/ops",
        params={"exclude": "lap-reader"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200
    return answer.json()["labels"]


def test_another_regions_token_cannot_push_under_a_devices_id(world) -> None:
    client, event, tokens, db = world
    ok = _push(client, event, tokens["africa"], _session_ops(event, "africa", "lap-af"), "lap-af",
               "Africa facilitator")  # fmt: skip
    assert ok.status_code == 200, ok.text
    before = _count(db)
    # Room B's token, its own region's session, but under the Africa laptop's device id
    hijack = _push(client, event, tokens["europe"], _session_ops(event, "europe", "lap-af"),
                   "lap-af", "Hijacked by Room B")  # fmt: skip
    assert hijack.status_code == 403, hijack.text
    assert "lap-af" in hijack.json()["detail"]
    assert _count(db) == before
    # the label alone, sent with ops of Room B's own device, is refused too
    relabel = _push(client, event, tokens["europe"], _session_ops(event, "europe", "lap-eu"),
                    "lap-af", "Hijacked by Room B")  # fmt: skip
    assert relabel.status_code == 403 and _count(db) == before
    assert _labels(client, event, tokens["all"])["lap-af"] == "Africa facilitator"
    # the secretariat's token is another scope as well
    assert _push(client, event, tokens["all"], _session_ops(event, "africa", "lap-af"),
                 "lap-af").status_code == 403  # fmt: skip
    # a token reissued for the same room keeps the laptop's id
    again = _push(client, event, tokens["africa-again"], _session_ops(event, "africa", "lap-af"),
                  "lap-af", "Africa facilitator")  # fmt: skip
    assert again.status_code == 200, again.text


def test_a_laptop_learns_the_labels_of_its_own_regions_laptops_only(world) -> None:
    client, event, tokens, _db = world
    for region, device, label in (("africa", "lap-af", "Africa room"),
                                  ("europe", "lap-eu", "Room B")):  # fmt: skip
        answer = _push(client, event, tokens[region], _session_ops(event, region, device),
                       device, label)  # fmt: skip
        assert answer.status_code == 200, answer.text
    assert _labels(client, event, tokens["africa"]) == {"lap-af": "Africa room"}
    assert _labels(client, event, tokens["europe"]) == {"lap-eu": "Room B"}
    assert _labels(client, event, tokens["all"]) == {"lap-af": "Africa room", "lap-eu": "Room B"}


def test_two_scopes_racing_for_one_device_id_on_postgresql(pg_cluster) -> None:
    """Pushes to one event run in parallel on PostgreSQL (issue 25).  A push of another region
    that reaches the device check while the first binding of the id is still uncommitted waits
    for it and is then refused, rather than reading the id as unbound and being accepted."""
    import threading

    from fixtures_pg import _pg_query

    from roundtable.secretariat import create_event, issue_token
    from roundtable.secretariat.repository import open_database
    from roundtable.secretariat.service import Refusal, check_devices

    url = pg_cluster.new_database()
    event = create_event(url, "Conference")
    africa = issue_token(url, event, ["africa"], "Africa room")
    europe = issue_token(url, event, ["europe"], "Room B")
    database = open_database(url, pool_size=3)
    outcome: list[object] = []
    try:
        with database.repository() as first, database.repository() as second:
            first_scope, second_scope = first.lookup_token(africa), second.lookup_token(europe)
            assert first_scope is not None and second_scope is not None

            def other_room() -> None:
                try:
                    with second.write_transaction():
                        check_devices(second, second_scope, event, {"lap-x"})
                    outcome.append("accepted")
                except Refusal as exc:
                    outcome.append(exc.status)

            with first.write_transaction():
                check_devices(first, first_scope, event, {"lap-x"})
                racer = threading.Thread(target=other_room)
                racer.start()
                deadline = time.monotonic() + 20
                while not _pg_query(url, "SELECT 1 FROM pg_locks WHERE NOT granted"):
                    assert racer.is_alive() and time.monotonic() < deadline, outcome
                    time.sleep(0.01)  # until the other push waits on this one's binding
            racer.join(20)
        bound = _pg_query(url, "SELECT regions FROM device_scopes WHERE device = 'lap-x'")
    finally:
        database.close()
    assert outcome == [403]
    assert bound == [('["africa"]',)]
