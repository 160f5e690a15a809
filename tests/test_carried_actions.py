"""Actions carried forward (issue 12): the open actions of a region's earlier events reach the
"Review of action items" of its next round table, through a real secretariat on 127.0.0.1 or
the laptop's own store and cache; a review is an op that syncs back; the minutes, the report and
``roundtable actions`` show it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from fixtures_server import LiveServer

from roundtable import carry
from roundtable.cli import main
from roundtable.store import LocalStore, StoreError
from roundtable.sync import SyncClient

AGENDA = [
    {"title": "Opening", "item_kind": "opening"},
    {"title": "Review of action items", "item_kind": "actions"},
]


def sync(store: LocalStore, url: str, token: str):
    result = asyncio.run(SyncClient(store, url, token, read_timeout=5.0).sync_once())
    assert result.ok, result.summary()
    return result


class Conference:
    """Two editions of the conference on one secretariat: Europe's round table of 2025 agreed
    three actions (one already done there); the 2026 laptop starts from nothing."""

    def __init__(self, server: LiveServer, tmp_path: Path) -> None:
        self.server = server
        self.first = server.create_event("Conference 2025", starts="2025-10-01")
        self.first_token = server.token(self.first, ["europe"])
        old = LocalStore(tmp_path / "laptop-2025")
        sync(old, server.url, self.first_token)
        s = old.create_session(self.first, "europe", "Europe round table", AGENDA)
        self.old_session = s.id
        with old.open_session(s.id) as ss:
            self.watch = ss.add_entry(
                "action", "Share the border-crossing watch list", owner="DE", due="2026-03-01"
            ).id
            self.training = ss.add_entry("action", "Organise cyber forensics training").id
            self.done = ss.add_entry("action", "Circulate the contact list", status="done").id
            ss.add_entry("need", "Training on cyber forensics", delegations=["FR"])
        sync(old, server.url, self.first_token)
        self.old_store = old
        # a session of another region in 2025, which a Europe token must never see
        africa_token = server.token(self.first, ["africa"])
        other = LocalStore(tmp_path / "laptop-africa")
        sync(other, server.url, africa_token)
        a = other.create_session(self.first, "africa", "Africa round table", AGENDA)
        with other.open_session(a.id) as ss:
            self.africa_action = ss.add_entry("action", "Africa's own action").id
        sync(other, server.url, africa_token)
        self.second = server.create_event("Conference 2026", starts="2026-10-01")
        self.token = server.token(self.second, ["europe"])
        self.store = LocalStore(tmp_path / "laptop-2026")
        sync(self.store, server.url, self.token)
        self.session = self.store.create_session(
            self.second, "europe", "Europe round table", AGENDA, date="2026-10-02"
        ).id

    def get(self, path: str, token: str | None = None, **params) -> httpx.Response:
        return httpx.get(
            f"{self.server.url}{path}",
            params=params,
            headers={"Authorization": f"Bearer {token or self.token}"},
        )

    def carried(self, url: str | None = None):
        found, problem = asyncio.run(
            carry.find(self.store, "europe", self.second, url=url or "", token=self.token)
        )
        return found, problem


@pytest.fixture
def conf(live_server: LiveServer, tmp_path: Path) -> Conference:
    return Conference(live_server, tmp_path)


@pytest.fixture
def conf_engines(engine_server: LiveServer, tmp_path: Path) -> Conference:
    """The same, on SQLite and on PostgreSQL (tests/fixtures_pg.py)."""
    return Conference(engine_server, tmp_path)


# --- the route ---


def test_the_route_serves_the_regions_earlier_actions_with_their_history(conf_engines):
    conf = conf_engines
    answer = conf.get("/v1/regions/europe/actions")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["before"] == conf.second
    by_id = {a["id"]: a for a in body["actions"]}
    assert set(by_id) == {conf.watch, conf.training, conf.done}  # not Africa's
    watch = by_id[conf.watch]
    assert watch["event_id"] == conf.first and watch["event_name"] == "Conference 2025"
    assert watch["session_id"] == conf.old_session and watch["owner"] == "DE"
    assert watch["due"] == "2026-03-01" and watch["status"] == "open"
    assert watch["history"][0]["status"] == "open" and watch["history"][0]["review_id"] == ""
    assert by_id[conf.done]["status"] == "done"
    open_only = conf.get("/v1/regions/europe/actions", open="true").json()["actions"]
    assert {a["id"] for a in open_only} == {conf.watch, conf.training}
    assert "/v1/regions/{region}/actions" in httpx.get(f"{conf.server.url}/openapi.json").text


def test_the_route_keeps_to_the_tokens_regions_and_events(conf_engines):
    conf = conf_engines
    assert conf.get("/v1/regions/africa/actions").status_code == 403
    assert conf.get("/v1/regions/atlantis/actions").status_code == 422
    assert conf.get("/v1/regions/europe/actions", before="nope").status_code == 422
    # the 2025 token may not look from 2026 (an event after its own)
    later = conf.get("/v1/regions/europe/actions", conf.first_token, before=conf.second)
    assert later.status_code == 403 and "after this token's event" in later.json()["detail"]
    # looking back from 2025 itself: nothing earlier
    own = conf.get("/v1/regions/europe/actions", conf.first_token).json()
    assert own["actions"] == []
    unknown = conf.get("/v1/regions/europe/actions", before="0" * 8 + "-0000-7000-8000-" + "0" * 12)
    assert unknown.status_code == 404
    assert httpx.get(f"{conf.server.url}/v1/regions/europe/actions").status_code == 401


# --- the laptop: secretariat, cache, own store ---


def test_the_laptop_caches_what_it_fetched_and_works_offline(conf):
    found, problem = conf.carried(conf.server.url)
    assert problem is None and found.source == "secretariat"
    assert {a.id for a in found.actions if a.is_open} == {conf.watch, conf.training}
    assert (conf.store.home / carry.CACHE_NAME).is_file()
    conf.server.stop()
    offline, problem = conf.carried(conf.server.url)
    assert problem and "cannot reach the secretariat" in problem
    assert offline.source.startswith("cache of ")
    assert {a.id for a in offline.actions} == {a.id for a in found.actions}


def test_the_laptop_finds_earlier_actions_in_its_own_store_without_the_secretariat(conf):
    # the 2025 laptop is used again in 2026 with no network: it holds the 2025 session
    store = conf.old_store
    sync(store, conf.server.url, conf.token)  # joins 2026 (the event record), then no network
    conf.server.stop()
    s = store.create_session(conf.second, "europe", "Europe round table 2026", AGENDA)
    found, problem = asyncio.run(carry.find(store, "europe", conf.second))
    assert problem is None and found.source == "this laptop"
    assert {a.id for a in found.actions if a.is_open} == {conf.watch, conf.training}
    assert all(a.region == "europe" for a in found.actions)
    with store.open_session(s.id) as ss:
        item = [i for i in ss.records("agenda_item") if i.item_kind == "actions"][0]
        ss.go_to_item(item.id)
        action = next(a for a in found.actions if a.id == conf.watch)
        ss.review_action(action, "done", "Shared in March")
    again, _ = asyncio.run(carry.find(store, "europe", conf.second))
    watch = next(a for a in again.actions if a.id == conf.watch)
    assert watch.status == "done" and watch.note == "Shared in March" and not watch.is_open


# --- the review: an op that reaches the server ---


def test_a_review_is_stored_in_this_session_and_reaches_the_server(conf_engines):
    conf = conf_engines
    found, _ = conf.carried(conf.server.url)
    watch = next(a for a in found.actions if a.id == conf.watch)
    with conf.store.open_session(conf.session) as ss:
        with pytest.raises(StoreError, match="unknown review status"):
            ss.review_action(watch, "finished")
        review = ss.review_action(watch, "in_progress", "List drafted, not yet shared")
        assert review.action == conf.watch and review.action_event == conf.first
        assert ss.review_action(watch, "carried", "Owner changed").id == review.id  # one record
    sync(conf.store, conf.server.url, conf.token)
    rows = conf.server.query(
        "SELECT event_id, session_id, value FROM ops WHERE kind = 'action_review' "
        "AND field = 'status' ORDER BY seq"
    )
    assert [r[2] for r in rows] == ['"in_progress"', '"carried"']
    assert {(r[0], r[1]) for r in rows} == {(conf.second, conf.session)}
    body = conf.get("/v1/regions/europe/actions", open="true").json()
    watch_out = next(a for a in body["actions"] if a["id"] == conf.watch)
    assert watch_out["status"] == "carried"
    assert [s["status"] for s in watch_out["history"]] == ["open", "carried"]
    assert watch_out["history"][-1]["note"] == "Owner changed"
    assert watch_out["history"][-1]["event_name"] == "Conference 2026"


# --- the command ---


def test_the_actions_command_lists_them_from_the_secretariat_then_offline(
    conf, monkeypatch, capsys
):
    monkeypatch.setenv("ROUNDTABLE_HOME", str(conf.store.home))
    monkeypatch.setenv("ROUNDTABLE_API_URL", conf.server.url)
    monkeypatch.setenv("ROUNDTABLE_TOKEN", conf.token)
    assert main(["actions", "--open"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 2, out
    watch = next(ln for ln in lines if ln.startswith(conf.watch[:8])).split("\t")
    assert watch == [
        conf.watch[:8], "europe", "Conference 2025", "DE", "2026-03-01", "open",
        "Share the border-crossing watch list",
    ]  # fmt: skip
    assert "from the secretariat" in err
    assert main(["actions", "--region", "europe"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3  # the done one too
    conf.server.stop()
    assert main(["actions", "--open"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 2 and "offline" in err and "from the cache" in err


def test_the_actions_command_refuses_a_bad_region_in_one_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["actions", "--region", "atlantis"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--region" in err and "Traceback" not in err


# --- the run screen: marking a carried action on the review item ---


async def test_the_review_item_lists_carried_actions_and_a_mark_reaches_the_server(
    conf, monkeypatch
):
    from roundtable.app import RoundtableApp
    from roundtable.config import Settings
    from roundtable.screens.common import PromptModal
    from roundtable.screens.run import RunScreen
    from widgets.carried_actions import CarriedActions

    monkeypatch.setenv("ROUNDTABLE_TOKEN", conf.token)
    with conf.store.open_session(conf.session) as ss:  # past the roll call
        ss.update("session", conf.session, status="running", attendance_confirmed=True)
    app = RoundtableApp(
        home=conf.store.home,
        session_id=conf.session,
        settings=Settings(api_url=conf.server.url, sync_interval=3600),
        sync_enabled=True,
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        widget = app.screen.query_one(CarriedActions)
        assert not widget.display  # the opening item: no list
        await pilot.press("ctrl+n")  # to "Review of action items"
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert widget.display
        assert [a.id for a in widget.actions] == [conf.watch, conf.training]  # open ones only
        assert "secretariat" in str(widget.query_one("#carried-caption").render())
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.focused is widget.query_one("#carried-table")
        await pilot.press("d")  # the first row: the watch list
        await pilot.pause()
        assert isinstance(app.screen, PromptModal)
        app.screen.query_one("Input").value = "Shared with all bureaux in March"
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        reviews = app.session_store.action_reviews()
        assert [(r.action, r.status, r.note) for r in reviews] == [
            (conf.watch, "done", "Shared with all bureaux in March")
        ]
        # the row stays, marked, until the next conference
        assert [a.id for a in widget.actions] == [conf.watch, conf.training]
        assert widget.actions[0].status == "done"
    result = await SyncClient(conf.store, conf.server.url, conf.token).sync_once()
    assert result.ok, result.summary()
    body = conf.get("/v1/regions/europe/actions").json()
    watch = next(a for a in body["actions"] if a["id"] == conf.watch)
    assert watch["status"] == "done"
    assert watch["history"][-1]["note"] == "Shared with all bureaux in March"
    open_now = conf.get("/v1/regions/europe/actions", open="true").json()["actions"]
    assert [a["id"] for a in open_now] == [conf.training]


# --- documents ---


def _review_two(conf) -> None:
    found, _ = conf.carried(conf.server.url)
    by_id = {a.id: a for a in found.actions}
    with conf.store.open_session(conf.session) as ss:
        ss.review_action(by_id[conf.watch], "done", "Shared with all bureaux in March")
        ss.review_action(by_id[conf.training], "carried", "Trainer not yet found")


def test_the_minutes_list_actions_from_earlier_conferences(conf, monkeypatch, capsys):
    _review_two(conf)
    monkeypatch.setenv("ROUNDTABLE_HOME", str(conf.store.home))
    assert main(["export", conf.session]) == 0
    md = capsys.readouterr().out
    section = md.split("### Actions from earlier conferences", 1)[1].split("## 6.", 1)[0]
    watch = next(ln for ln in section.splitlines() if "watch list" in ln)
    assert "Conference 2025" in watch and "done" in watch and "Shared with all bureaux" in watch
    assert "1 March 2026" in watch and "Germany" in watch
    training = next(ln for ln in section.splitlines() if "forensics training" in ln)
    assert "carried" in training and "Trainer not yet found" in training
    assert main(["export", conf.session, "--lang", "fr"]) == 0
    fr = capsys.readouterr().out
    assert "Actions issues des conférences précédentes" in fr and "reportée" in fr
    # the secretariat rebuilds the same section from the pushed ops
    sync(conf.store, conf.server.url, conf.token)
    served = conf.get(f"/v1/sessions/{conf.session}/minutes").text
    assert section in served


def test_the_minutes_of_a_session_without_reviews_have_no_such_section(conf, monkeypatch, capsys):
    monkeypatch.setenv("ROUNDTABLE_HOME", str(conf.store.home))
    assert main(["export", conf.session]) == 0
    assert "earlier conferences" not in capsys.readouterr().out


def test_the_report_shows_an_actions_history_across_events(conf, monkeypatch, capsys):
    _review_two(conf)
    sync(conf.store, conf.server.url, conf.token)
    report = conf.get(f"/v1/events/{conf.second}/report").text
    section = report.split("## 7. Actions from earlier conferences", 1)[1]
    watch = next(ln for ln in section.splitlines() if "watch list" in ln)
    assert "Conference 2025: open; Conference 2026, 2 October 2026: done" in watch
    assert "Shared with all bureaux in March" in watch
    training = next(ln for ln in section.splitlines() if "forensics training" in ln)
    assert "Conference 2026, 2 October 2026: carried" in training
    assert "contact list" not in section  # done at its own event, never reviewed
    # the laptop's own report, offline, from its store and the cache
    monkeypatch.setenv("ROUNDTABLE_HOME", str(conf.store.home))
    assert main(["report", "--event", "Conference 2026"]) == 0
    laptop = capsys.readouterr().out.split("## 7. Actions from earlier conferences", 1)[1]
    assert next(ln for ln in laptop.splitlines() if "watch list" in ln) == watch


def test_a_review_is_refused_on_a_closed_session_and_for_this_events_own_action(conf):
    found, _ = conf.carried(conf.server.url)
    watch = next(a for a in found.actions if a.id == conf.watch)
    with conf.store.open_session(conf.session) as ss:
        own = ss.add_entry("action", "An action of 2026")
        from roundtable.actions import CarriedAction

        mine = CarriedAction(
            own.id, "europe", conf.second, "Conference 2026", conf.session, "", "", "", own.text
        )
        with pytest.raises(StoreError, match="belongs to this event"):
            ss.review_action(mine, "done")
        ss.close_session()
        with pytest.raises(StoreError, match="is closed"):
            ss.review_action(watch, "done")
        assert ss.action_reviews() == []


def test_the_actions_command_reads_the_laptops_own_store_when_never_connected(
    conf, monkeypatch, capsys
):
    store = conf.old_store  # the 2025 laptop, at the 2026 conference, no token saved
    sync(store, conf.server.url, conf.token)
    store.create_session(conf.second, "europe", "Europe round table 2026", AGENDA)
    conf.server.stop()
    monkeypatch.setenv("ROUNDTABLE_HOME", str(store.home))
    assert main(["actions", "--open"]) == 0
    out, err = capsys.readouterr()
    assert sorted(ln.split("\t")[0] for ln in out.splitlines()) == sorted(
        [conf.watch[:8], conf.training[:8]]
    )
    assert "Traceback" not in err
