"""Issue 12: sync never hides an edit.  Laptop A deletes an entry while laptop B, offline,
edits it; after both sync, the entry is a conflict on both, named by people's labels (never
the reader's own laptop), listed by `roundtable conflicts` and the completeness check, until
someone restores it or confirms the delete.  Through a real uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fixtures_server import LiveServer

from roundtable import cli
from roundtable.checks import completeness
from roundtable.documents import conflicts_from_docs, minutes_text
from roundtable.store import LocalStore
from roundtable.sync import SyncClient

AGENDA = [{"title": "Needs", "item_kind": "needs"}]


def sync(store: LocalStore, server: LiveServer, token: str, label: str | None = None):
    client = SyncClient(store, server.url, token, backoff_base=0.01, backoff_cap=0.05,
                        read_timeout=5.0, label=label)  # fmt: skip
    result = asyncio.run(client.sync_once())
    assert result.ok and result.exit_code == 0, result.summary()
    return result


@pytest.fixture
def laptops(live_server: LiveServer, tmp_path: Path):
    """A (labelled "Room B facilitator") created an entry; B (the token's label) pulled it."""
    event_id = live_server.create_event("Conference 2026")
    token = live_server.token(event_id, ["*"])  # label "test"
    a, b = LocalStore(tmp_path / "a"), LocalStore(tmp_path / "b")
    sync(a, live_server, token, "Room B facilitator")
    sid = a.create_session(event_id, "europe", "Europe round table", AGENDA).id
    with a.open_session(sid) as ss:
        entry = ss.add_entry("need", "Training on cyber forensics", delegations=["FR"])
    sync(a, live_server, token, "Room B facilitator")
    sync(b, live_server, token)
    return live_server, token, a, b, sid, entry.id


def delete_on_a_edit_on_b(laptops):
    server, token, a, b, sid, eid = laptops
    with a.open_session(sid) as ss:
        ss.delete("entry", eid)
    with b.open_session(sid) as ss:  # offline: B has not seen the delete
        ss.update("entry", eid, text="Training on cyber forensics for NCB staff")
    sync(a, server, token, "Room B facilitator")
    sync(b, server, token)
    sync(a, server, token, "Room B facilitator")


def test_a_delete_concurrent_with_an_edit_is_a_conflict_on_both_named_by_labels(laptops):
    server, token, a, b, sid, eid = laptops
    delete_on_a_edit_on_b(laptops)
    for store in (a, b):
        with store.open_session(sid, read_only=True) as ss:
            shown = [e.id for e in ss.records("entry")]
            assert shown == [eid], "the edit is hidden"
            gone = ss.delete_conflict("entry", eid)
            assert gone is not None
            assert gone.deleted_by == (a.device,) and gone.edited_by == (b.device,)
            doc = ss.doc("entry", eid)
            assert ss.records("entry")[0].text.endswith("NCB staff")
            # the completeness check lists it, and blocks closing
            conflicts = conflicts_from_docs([doc], store.name)
            findings = completeness(ss.snapshot({"FR": "France"}), None, conflicts)
            assert [f.rule for f in findings if f.rule == "conflict"] == ["conflict"]
            assert "Deleted on one laptop while edited on another" in findings[-1].message
            # the minutes mark it
            md = minutes_text(ss.snapshot({"FR": "France"}), conflicts=conflicts)
            assert "Unresolved conflicts" in md
    # named by labels, never the reader's own laptop
    with a.open_session(sid, read_only=True) as ss:
        assert a.conflict_names(ss.doc("entry", eid)) == "test (deleted on this laptop)"
    with b.open_session(sid, read_only=True) as ss:
        assert b.conflict_names(ss.doc("entry", eid)) == "Room B facilitator, who deleted it"
        assert conflicts_from_docs([ss.doc("entry", eid)], b.name)[eid] == {
            "deleted": [(False, "this laptop")]
        }


def test_roundtable_conflicts_lists_them_one_a_line(laptops, monkeypatch, capsys):
    server, token, a, b, sid, eid = laptops
    delete_on_a_edit_on_b(laptops)
    monkeypatch.setenv("ROUNDTABLE_HOME", str(b.home))
    assert cli.main(["conflicts"]) == 0
    lines = capsys.readouterr().out.splitlines()
    tail = eid.replace("-", "")[-6:]  # issue 21: the random tail, not the UUIDv7's timestamp
    assert lines == [
        f"{sid[:8]}\t{tail}\tdeleted by Room B facilitator, edited by test\t"
        "Training on cyber forensics for NCB staff"
    ]  # every face names laptops by their labels, this one too (issue 21)
    assert cli.main(["conflicts", sid[:8]]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_restoring_resolves_it_everywhere(laptops, monkeypatch, capsys):
    server, token, a, b, sid, eid = laptops
    delete_on_a_edit_on_b(laptops)
    monkeypatch.setenv("ROUNDTABLE_HOME", str(b.home))
    assert cli.main(["restore", sid[:8], eid[:8]]) == 0
    sync(b, server, token)
    sync(a, server, token, "Room B facilitator")
    for store in (a, b):
        with store.open_session(sid, read_only=True) as ss:
            assert ss.delete_conflict("entry", eid) is None
            assert [e.text for e in ss.records("entry")] == [
                "Training on cyber forensics for NCB staff"
            ]
            assert ss.conflicted_entries() == {}


def test_confirming_the_delete_resolves_it_everywhere(laptops, monkeypatch):
    server, token, a, b, sid, eid = laptops
    delete_on_a_edit_on_b(laptops)
    monkeypatch.setenv("ROUNDTABLE_HOME", str(a.home))
    assert cli.main(["delete", sid[:8], eid[:8]]) == 0
    sync(a, server, token, "Room B facilitator")
    sync(b, server, token)
    for store in (a, b):
        with store.open_session(sid, read_only=True) as ss:
            assert ss.delete_conflict("entry", eid) is None
            assert ss.records("entry") == []
            assert ss.conflicted_entries() == {}


def test_two_edits_name_the_other_laptop_not_oneself(laptops):
    """The laptop whose edit lost used to be told it was "also edited by" itself."""
    server, token, a, b, sid, eid = laptops
    with a.open_session(sid) as ss:
        ss.update("entry", eid, text="A's wording")
    with b.open_session(sid) as ss:
        ss.update("entry", eid, text="B's wording")
    sync(a, server, token, "Room B facilitator")
    sync(b, server, token)
    sync(a, server, token, "Room B facilitator")
    with a.open_session(sid, read_only=True) as ss:
        assert a.conflict_names(ss.doc("entry", eid)) == "test"
    with b.open_session(sid, read_only=True) as ss:
        assert b.conflict_names(ss.doc("entry", eid)) == "Room B facilitator"


async def test_the_app_shows_the_delete_conflict_and_restores_it(tmp_path: Path) -> None:
    """The entry list names who deleted it (by label); the edit dialog restores it."""
    from textual.widgets import Button

    import sessions as plans
    from roundtable import protocol
    from roundtable.app import RoundtableApp
    from roundtable.config import Settings
    from roundtable.model import Op, new_id
    from roundtable.screens.edit import EditEntryModal
    from roundtable.screens.run import RunScreen
    from widgets import EntryTable

    home = tmp_path / "home"
    store = LocalStore(home)
    event = store.create_event("Conference 2026")
    plan = plans.plan_for_region("africa")
    sid = store.create_session(event.id, "africa", plan.title, plan.to_agenda()).id
    with store.open_session(sid) as ss:
        ss.update("session", sid, attendance_confirmed=True)
        entry = ss.add_entry("need", "Training on cyber forensics", delegations=["GH"])
        seen = dict(ss.doc("entry", entry.id))  # what laptop A had when it deleted
        seen = {**seen, "heads": {k: list(v) for k, v in seen["heads"].items()}}
        ss.update("entry", entry.id, text="Training for NCB staff")  # our edit, offline
        hlc = f"{1_900_000_000_000:015d}-000000-lap-a"  # after our own edit
        ss.apply_remote([Op(new_id(), event.id, sid, entry.id, "entry", "deleted", True, hlc,
                            "lap-a", protocol.delete_base(seen))])  # fmt: skip
    store.save_device_labels({"lap-a": "Room A rapporteur"})
    app = RoundtableApp(home=home, session_id=sid, settings=Settings(), sync_enabled=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        if not isinstance(app.screen, RunScreen):
            await pilot.press("ctrl+s")
            await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        app.screen.whole_session = True
        app.screen._refresh_entries()
        await pilot.pause()
        cell = str(app.screen.query_one(EntryTable).get_cell(entry.id, "text"))
        assert "Room A rapporteur, who deleted it" in cell and "lap-" not in cell
        app.push_screen(EditEntryModal(entry.id))
        await pilot.pause()
        labels = " ".join(str(lbl.render()) for lbl in app.screen.query(".conflict-text"))
        assert "Deleted by Room A rapporteur, edited by this laptop" in labels
        app.screen.query_one("#keep-deleted-0", Button).press()
        await pilot.pause()
        restored = app.session_store.get("entry", entry.id)
        assert not restored.deleted and restored.text == "Training for NCB staff"
        assert app.session_store.delete_conflict("entry", entry.id) is None


def test_connect_label_is_kept_and_reaches_the_other_laptops(
    live_server: LiveServer, tmp_path: Path, monkeypatch
) -> None:
    from roundtable import config

    event_id = live_server.create_event("Conference 2026")
    token = live_server.token(event_id, ["*"])
    home = tmp_path / "b"
    monkeypatch.setenv("ROUNDTABLE_HOME", str(home))
    monkeypatch.delenv("ROUNDTABLE_CONFIG", raising=False)
    monkeypatch.delenv("ROUNDTABLE_TOKEN", raising=False)
    monkeypatch.delenv("ROUNDTABLE_API_URL", raising=False)
    argv = ["connect", live_server.url, "--token", token, "--label", "Room B rapporteur"]
    assert cli.main(argv) == 0
    assert config.load_settings().label == "Room B rapporteur"
    b = LocalStore(home)
    b.create_session(event_id, "europe", "Europe round table", AGENDA)
    assert cli.main(["sync", "--quiet"]) == 0  # the label is remembered and sent
    assert live_server.query("SELECT device, label FROM devices") == [
        (b.device, "Room B rapporteur")
    ]
    other = LocalStore(tmp_path / "a")
    sync(other, live_server, token)
    assert other.name(b.device) == "Room B rapporteur"
    assert b.name(b.device) == "this laptop"


# -- issue 21: one wording of conflicts on every face -------------------------------------------


def _v1_minutes(server: LiveServer, token: str, sid: str) -> str:
    import httpx

    answer = httpx.get(f"{server.url}/v1/sessions/{sid}/minutes", params={"lang": "en"},
                       headers={"Authorization": f"Bearer {token}"}, timeout=10)  # fmt: skip
    assert answer.status_code == 200, answer.text
    return answer.text


def _conflict_section(md: str) -> str:
    return md.split("## Unresolved conflicts", 1)[1].split("\n## ", 1)[0]


def test_every_face_names_people_and_values_in_words(laptops, monkeypatch, capsys):
    """The server's minutes named devices and printed "True"/"False"; the laptop named
    people.  Now the CLI export, the app's use case and /v1 give one conflicts section."""
    from roundtable.screens.minutes import session_conflicts

    server, token, a, b, sid, eid = laptops
    delete_on_a_edit_on_b(laptops)
    sync(b, server, token)  # B learns every label, its own included
    monkeypatch.setenv("ROUNDTABLE_HOME", str(b.home))
    capsys.readouterr()
    assert cli.main(["export", sid, "--lang", "en"]) == 0
    laptop = _conflict_section(capsys.readouterr().out)
    assert "| deleted | yes | “no” (test) |" in laptop, laptop
    assert "True" not in laptop and "False" not in laptop
    assert a.device not in laptop and b.device not in laptop
    assert _conflict_section(_v1_minutes(server, token, sid)) == laptop
    with b.open_session(sid, read_only=True) as ss:
        assert session_conflicts(ss) == {eid: {"deleted": [(False, "test")]}}


def test_roundtable_conflicts_gives_each_entry_its_own_id(laptops, monkeypatch, capsys):
    """Ids were cut to their first 8 characters, the UUIDv7's timestamp: every entry of the
    same minute showed the same id.  Now the shortest unique tail (6 characters at least),
    which `restore` and `delete` take."""
    server, token, a, b, sid, eid = laptops
    with a.open_session(sid) as ss:
        other = ss.add_entry("need", "Training on ports", delegations=["FR"]).id
    sync(a, server, token, "Room B facilitator")
    sync(b, server, token)
    for store, word in ((a, "A"), (b, "B")):
        with store.open_session(sid) as ss:
            ss.update("entry", eid, text=f"{word}'s wording")
            ss.update("entry", other, priority="high" if word == "A" else "low")
    sync(a, server, token, "Room B facilitator")
    sync(b, server, token)
    sync(a, server, token, "Room B facilitator")
    monkeypatch.setenv("ROUNDTABLE_HOME", str(a.home))
    capsys.readouterr()
    assert cli.main(["conflicts", sid[:8]]) == 0
    lines = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 2
    ids = [cols[1] for cols in lines]
    assert len(set(ids)) == 2 and all(len(i) >= 6 for i in ids), ids
    assert {i for i in ids} == {eid.replace("-", "")[-6:], other.replace("-", "")[-6:]}
    assert lines[0][2] == "text also edited: “A's wording” by Room B facilitator" or lines[1][
        2
    ] == ("text also edited: “A's wording” by Room B facilitator"), lines
    assert all(a.device not in cols[2] and b.device not in cols[2] for cols in lines)
