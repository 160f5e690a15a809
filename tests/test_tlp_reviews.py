"""Issue 14 for action reviews: a review of an earlier conference's action (issue 12) copies the
action's text, so it carries the action's label, and the secretariat's pull and history, the
outbox and the documents treat it like an entry, on a real secretariat (uvicorn on 127.0.0.1).

Conference 2025's Europe round table agreed a TLP:AMBER action and a TLP:GREEN one; Conference
2026's round table (whose own default is TLP:CLEAR) reviews both.  Every scenario looks for the
AMBER action's unique marker where a reader up to TLP:GREEN could read it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import httpx
import pytest
from fixtures_server import LiveServer

from roundtable import carry
from roundtable.cli import main
from roundtable.model import stable_id
from roundtable.secretariat import issue_token
from roundtable.store import LocalStore, StoreError
from roundtable.sync import SyncClient

AGENDA = [
    {"title": "Opening", "item_kind": "opening"},
    {"title": "Review of action items", "item_kind": "actions"},
]
AMBER = "MARKER-REVIEW-AMBER share the informant list"
GREEN = "MARKER-REVIEW-GREEN share the watch list"


def sync(store: LocalStore, server: LiveServer, token: str) -> None:
    client = SyncClient(store, server.url, token, backoff_base=0.01, backoff_cap=0.05)
    result = asyncio.run(client.sync_once())
    assert result.ok, result.summary()


class Conference:
    def __init__(self, server: LiveServer, tmp_path: Path) -> None:
        self.server = server
        self.tmp_path = tmp_path
        self.first = server.create_event("Conference 2025", starts="2025-10-01")
        first_token = server.token(self.first, ["europe"])
        self.old = LocalStore(tmp_path / "laptop-2025")
        sync(self.old, server, first_token)
        s = self.old.create_session(self.first, "europe", "Europe round table", AGENDA)
        with self.old.open_session(s.id) as ss:
            self.amber = ss.add_entry("action", AMBER, owner="DE").id  # the default: AMBER
            self.green = ss.add_entry("action", GREEN, owner="FR", tlp="green").id
        self.old_session = s.id
        self.first_token = first_token
        sync(self.old, server, first_token)
        self.second = server.create_event("Conference 2026", starts="2026-10-01")
        self.token = server.token(self.second, ["europe"])  # reads up to TLP:AMBER+STRICT
        self.green_token = issue_token(server.db_path, self.second, ["europe"], max_tlp="green")
        self.store = LocalStore(tmp_path / "laptop-2026")
        sync(self.store, server, self.token)
        self.session = self.store.create_session(
            self.second, "europe", "Europe round table", AGENDA, date="2026-10-02"
        ).id
        with self.store.open_session(self.session) as ss:
            ss.set_default_tlp("clear")  # the review's label is its action's, not the session's

    def review(self, status: str = "carried", note: str = "Owner changed") -> dict:
        found, problem = asyncio.run(
            carry.find(self.store, "europe", self.second, url=self.server.url, token=self.token)
        )
        assert problem is None, problem
        by_id = {a.id: a for a in found.actions}
        with self.store.open_session(self.session) as ss:
            return {
                "amber": ss.review_action(by_id[self.amber], status, note),
                "green": ss.review_action(by_id[self.green], status, note),
            }

    def get(self, path: str, token: str, **params) -> httpx.Response:
        return httpx.get(
            f"{self.server.url}{path}", params=params, headers={"Authorization": f"Bearer {token}"}
        )

    def pulled(self, token: str, since: int = 0) -> tuple[list[dict], int]:
        """Every op the token's pull returns after ``since``, page by page, and the cursor."""
        ops: list[dict] = []
        while True:
            page = self.get(f"/v1/events/{self.second}/ops", token, since=since, limit=50)
            assert page.status_code == 200, page.text
            body = page.json()
            ops += body["ops"]
            since = body["next"]
            if not body["more"]:
                return ops, since


@pytest.fixture
def conf(live_server: LiveServer, tmp_path: Path) -> Conference:
    return Conference(live_server, tmp_path)


def review_id(conf: Conference, action: str) -> str:
    return stable_id(conf.session, "action_review", action)


def test_a_review_carries_the_label_of_the_action_it_copies(conf) -> None:
    reviews = conf.review()
    assert reviews["amber"].tlp == "amber" and reviews["green"].tlp == "green"
    with conf.store.open_session(conf.session, read_only=True) as ss:
        assert ss.label_of(ss.get("action_review", reviews["amber"].id)) == "TLP:AMBER"


def test_a_green_tokens_pull_never_returns_an_amber_actions_review(conf) -> None:
    conf.review()
    sync(conf.store, conf.server, conf.token)
    assert AMBER in json.dumps(conf.server.query("SELECT value FROM ops"))  # stored, withheld
    green_ops, _ = conf.pulled(conf.green_token)
    assert AMBER not in json.dumps(green_ops)
    assert {o["record_id"] for o in green_ops if o["kind"] == "action_review"} == {
        review_id(conf, conf.green)
    }
    assert GREEN in json.dumps(green_ops)
    strict_ops, _ = conf.pulled(conf.token)
    assert AMBER in json.dumps(strict_ops)
    # a laptop reading with the GREEN token never holds it either
    reader = LocalStore(conf.tmp_path / "reader")
    sync(reader, conf.server, conf.green_token)
    with reader.open_session(conf.session, read_only=True) as theirs:
        texts = [r.text for r in theirs.records("action_review")]
    assert texts == [GREEN]
    # nor does the record's history
    amber_history = f"/v1/events/{conf.second}/records/{review_id(conf, conf.amber)}/history"
    assert conf.get(amber_history, conf.green_token).status_code == 404
    answer = conf.get(amber_history, conf.token)
    assert answer.status_code == 200 and AMBER in answer.text


def test_a_review_relabelled_above_the_ceiling_is_withdrawn_from_a_green_reader(conf) -> None:
    """The action of 2025 is relabelled AMBER after its review reached a GREEN reader: marked
    again, the review takes the new label, and the reader's next pull withdraws it."""
    conf.review()
    sync(conf.store, conf.server, conf.token)
    reader = LocalStore(conf.tmp_path / "reader")
    sync(reader, conf.server, conf.green_token)
    green_review = review_id(conf, conf.green)
    with reader.open_session(conf.session, read_only=True) as theirs:
        assert not theirs.get("action_review", green_review).deleted
    with conf.old.open_session(conf.old_session) as ss:
        ss.update("entry", conf.green, tlp="amber")
    sync(conf.old, conf.server, conf.first_token)
    conf.review("in_progress", "MARKER-REVIEW-NOTE drafted")
    sync(conf.store, conf.server, conf.token)
    sync(reader, conf.server, conf.green_token)
    with reader.open_session(conf.session, read_only=True) as theirs:
        assert theirs.get("action_review", green_review).deleted  # withdrawn from the reader
    assert "MARKER-REVIEW-NOTE" not in json.dumps(conf.pulled(conf.green_token)[0])
    with conf.store.open_session(conf.session, read_only=True) as ss:  # the room keeps it
        assert ss.get("action_review", green_review).tlp == "amber"


def test_a_red_review_never_leaves_the_laptop(conf) -> None:
    """A RED action is never reviewed; a review relabelled RED after its push is withdrawn
    from the secretariat (a tombstone), and what was written while RED never leaves."""
    reviews = conf.review()
    sync(conf.store, conf.server, conf.token)
    found, _ = asyncio.run(
        carry.find(conf.store, "europe", conf.second, url=conf.server.url, token=conf.token)
    )
    amber = next(a for a in found.actions if a.id == conf.amber)
    rid = reviews["amber"].id
    with conf.store.open_session(conf.session) as ss:
        with pytest.raises(StoreError, match="TLP:RED"):
            ss.review_action(dataclasses.replace(amber, tlp="red"), "done")
        assert ss.get("action_review", rid).status == "carried"  # nothing changed
        ss.update("action_review", rid, tlp="red", note="MARKER-REVIEW-RED")
    sync(conf.store, conf.server, conf.token)
    assert "MARKER-REVIEW-RED" not in json.dumps(conf.server.query("SELECT value FROM ops"))
    red = "SELECT COUNT(*) FROM ops WHERE field = 'tlp' AND value = '\"red\"'"
    assert conf.server.query(red)[0][0] == 0
    deleted = conf.server.query(
        "SELECT value FROM ops WHERE record_id = ? AND field = 'deleted'", (rid,)
    )
    assert json.loads(deleted[-1][0]) is True  # withdrawn from the secretariat
    with conf.store.open_session(conf.session, read_only=True) as ss:  # the room keeps it
        assert not ss.get("action_review", rid).deleted


def test_the_public_and_community_minutes_withhold_and_count_the_review(
    conf, monkeypatch, capsys
) -> None:
    conf.review()
    monkeypatch.setenv("ROUNDTABLE_HOME", str(conf.store.home))
    exported = {}
    for audience in ("public", "community", "participants"):
        assert main(["export", conf.session, "--audience", audience]) == 0
        exported[audience] = capsys.readouterr().out
    for audience in ("public", "community"):
        assert AMBER not in exported[audience]
        assert "Action reviews withheld (TLP:AMBER): 1" in exported[audience]
    assert GREEN not in exported["public"]
    assert "Action reviews withheld (TLP:GREEN): 1" in exported["public"]
    section = exported["community"].split("### Actions from earlier conferences", 1)[1]
    assert GREEN in section
    row = next(ln for ln in section.splitlines() if GREEN in ln)
    full = exported["participants"].split("### Actions from earlier conferences", 1)[1]
    assert row == next(ln for ln in full.splitlines() if GREEN in ln)  # same number for all
    assert AMBER in exported["participants"]
    assert "Action reviews withheld" not in exported["participants"]
    assert "TLP:AMBER" in exported["participants"].split("Sensitivity", 1)[1].splitlines()[0]
    # the secretariat's minutes and report (section 7), cut to each token's ceiling
    sync(conf.store, conf.server, conf.token)
    for token, shown in ((conf.green_token, False), (conf.token, True)):
        minutes = conf.get(f"/v1/sessions/{conf.session}/minutes", token)
        report = conf.get(f"/v1/events/{conf.second}/report", token)
        assert minutes.status_code == 200 and report.status_code == 200, report.text
        assert (AMBER in minutes.text) == shown and (AMBER in report.text) == shown
        section7 = report.text.split("## 7. Actions from earlier conferences", 1)[1]
        assert GREEN in section7
        assert ("Action reviews withheld (TLP:AMBER): 1" in section7) == (not shown)
        assert ("Action reviews withheld (TLP:AMBER): 1" in minutes.text) == (not shown)
