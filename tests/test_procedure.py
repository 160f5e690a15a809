"""The room's procedure (issue 26): the quorum, "mark the rest absent", the right of reply, one
warning threshold for every countdown, and the procedural record in the minutes' annex."""

from __future__ import annotations

from pathlib import Path

import pytest
from _app import FIXED_NOW, demo_home

from roundtable import protocol
from roundtable.minutes import render_markdown
from roundtable.model import Op
from roundtable.procedure import Quorum, quorum_needed
from roundtable.projection import build_view
from roundtable.store import LocalStore
from sessions import countries_in, load_roster

ROSTER = load_roster()
NAMES = {code: c.name for code, c in ROSTER.items()}
AFRICA = [c.code for c in countries_in("africa")]


@pytest.fixture
def demo(tmp_path: Path) -> tuple[LocalStore, str]:
    home, sid = demo_home(tmp_path)
    return LocalStore(home, wall=lambda: FIXED_NOW), sid


def _minutes(ss) -> str:
    return render_markdown(ss.snapshot(NAMES))


def test_the_quorum_line_and_its_default() -> None:
    assert quorum_needed(47) == 24 and quorum_needed(48) == 25 and quorum_needed(47, 30) == 30
    assert Quorum(17, 47, 24).line == "present 17 of 47 — quorum 24 not reached"
    assert Quorum(24, 47, 24).line == "present 24 of 47 — quorum 24 reached"


def test_mark_the_rest_absent_is_one_change_and_the_minutes_say_the_quorum(demo) -> None:
    store, sid = demo
    with store.open_session(sid) as ss:
        present = {a.country for a in ss.records("attendance") if a.status == "present"}
        recorded = {a.country for a in ss.records("attendance") if a.status != "unknown"}
        marked = ss.mark_rest_absent(AFRICA)
        assert marked and set(marked) == set(AFRICA) - recorded
        statuses = {a.country: a.status for a in ss.records("attendance")}
        assert all(statuses[code] == "absent" for code in marked)
        assert all(statuses[code] != "unknown" for code in AFRICA)
        assert ss.mark_rest_absent(AFRICA) == []  # nothing left: nothing written
        minutes = _minutes(ss)
        needed = len(AFRICA) // 2 + 1
        attendance = minutes.split("## 2.")[0]
        state = "was reached" if len(present) >= needed else "was not reached"
        assert (
            f"**Quorum:** Present {len(present)} of {len(AFRICA)}: the quorum of {needed} {state}."
        ) in attendance
        ss.undo()  # one ctrl+z brings every one back
        after = {a.country: a.status for a in ss.records("attendance")}
        assert all(after.get(code, "unknown") == "unknown" for code in marked)


def test_the_plans_quorum_reaches_the_minutes(tmp_path: Path) -> None:
    from sessions.plan import PlanError, parse_plan

    text = (
        'name = "t"\nregion = "africa"\ntitle = "T"\nquorum = 3\n'
        '[[items]]\ntitle = "Opening"\nminutes = 5\nkind = "opening"\n'
    )
    plan = parse_plan(text, "plan.toml")
    assert plan.quorum == 3
    with pytest.raises(PlanError, match=r"quorum.*expected whole delegations 0-200"):
        parse_plan(text.replace("quorum = 3", 'quorum = "most"'), "plan.toml")
    store = LocalStore(tmp_path / "home", wall=lambda: FIXED_NOW)
    event = store.create_event("Conference")
    session = store.create_session(
        event.id, "africa", plan.title, plan.to_agenda(), quorum=plan.quorum
    )
    with store.open_session(session.id) as ss:
        for code in ("GH", "NG", "KE"):
            ss.set_attendance(code, "present")
        assert "Present 3 of 47: the quorum of 3 was reached." in _minutes(ss)


def test_a_right_of_reply_comes_right_after_the_current_speaker_marked(demo) -> None:
    store, sid = demo
    with store.open_session(sid) as ss:
        item = ss.records("agenda_item")[2]
        ss.go_to_item(item.id)
        first = ss.add_speaker("GH")
        ss.add_speaker("NG")
        ss.add_speaker("CI")
        ss.give_floor(first.id)
        ss.add_speaker("KE", reply=True)
        ss.add_speaker("SN", point_of_order=True)
        ss.add_speaker("ZA", reply=True)
        order = [(s.country, s.reply, s.point_of_order) for s in ss.waiting_speakers()]
        assert order == [
            ("SN", False, True),
            ("KE", True, False),
            ("ZA", True, False),
            ("NG", False, False),
            ("CI", False, False),
        ]
        with pytest.raises(Exception, match="not a point of order"):
            ss.add_speaker("EG", reply=True, point_of_order=True)
        view = build_view(
            event=ss.event,
            session=ss.session,
            agenda=ss.records("agenda_item"),
            clock_events=ss.clock_events(),
            speeches=ss.speeches(),
            speakers=ss.records("speaker"),
            names=NAMES,
            now_ms=int(FIXED_NOW * 1000),
        )
        assert [(s.name, s.mark) for s in view.next_speakers][:3] == [
            ("Senegal", "point of order"),
            ("Kenya", "reply"),
            ("South Africa", "reply"),
        ]
        annex = _minutes(ss).split("Annex C: procedure")[1]
        assert "| Kenya | right of reply |" in annex
        assert "| Senegal | point of order |" in annex


def test_the_tours_record_in_the_minutes_annex(demo) -> None:
    store, sid = demo
    with store.open_session(sid) as ss:
        item = ss.records("agenda_item")[4]  # no speech in the demo yet
        ss.go_to_item(item.id)
        ss.tour_start(["GH", "TG", "ML"], 120)
        ss.tour_next()  # GH speaks
        ss.tour_next()  # GH done, TG has the floor
        ss.tour_pass()  # TG passes
        ss.tour_skip()  # ML out of the room once: to the end
        ss.tour_skip()  # and again: out
        minutes = _minutes(ss)
        assert "## Annex C: procedure" in minutes or "Annex C: procedure" in minutes
        annex = minutes.split("Annex C: procedure")[1]
        assert "| Ghana | spoke (tour) |" in annex
        assert "| Togo | passed (tour) |" in annex
        assert "| Mali | out of the room (tour) |" in annex


def test_procedure_fields_are_protocol_5() -> None:
    fields = {
        ("session", "projected"), ("session", "quorum"), ("session", "speaking_seconds"),
        ("session", "warning_percent"), ("session", "warning_seconds"), ("speaker", "reply"),
    }  # fmt: skip
    assert {k for k, v in protocol.FIELDS_SINCE.items() if v == 5} == fields
    for kind, field, value in (("speaker", "reply", True), ("session", "quorum", 24)):
        op = Op("o", "e", "s", "r", kind, field, value, "h", "d")
        assert protocol.op_version(op) == 5
        assert protocol.fits(op, 5) and not protocol.fits(op, 4)


def test_a_list_wide_speaking_time_from_the_plan_changeable(tmp_path: Path) -> None:
    from sessions.plan import parse_plan

    text = (
        'name = "t"\nregion = "africa"\ntitle = "T"\nspeaking_seconds = 90\n'
        "warning_percent = 10\nwarning_seconds = 20\n"
        '[[items]]\ntitle = "Debate"\nminutes = 20\nkind = "discussion"\n'
    )
    plan = parse_plan(text, "plan.toml")
    store = LocalStore(tmp_path / "home", wall=lambda: FIXED_NOW)
    event = store.create_event("Conference")
    session = store.create_session(
        event.id, "africa", plan.title, plan.to_agenda(), **plan.procedure()
    )
    with store.open_session(session.id) as ss:
        s = ss.session
        assert (s.speaking_seconds, s.warning_percent, s.warning_seconds) == (90, 10, 20)
        ss.go_to_item(ss.records("agenda_item")[0].id)
        a = ss.add_speaker("GH", limit_seconds=ss.session.speaking_seconds)
        b = ss.add_speaker("NG", limit_seconds=ss.session.speaking_seconds)
        assert ss.set_speaking_time(60) == 2  # both waiting speakers
        assert ss.session.speaking_seconds == 60
        assert {ss.get("speaker", x.id).limit_seconds for x in (a, b)} == {60}
        ss.undo()  # one change
        assert ss.session.speaking_seconds == 90
        assert {ss.get("speaker", x.id).limit_seconds for x in (a, b)} == {90}
        ss.give_floor(a.id)
        view = lambda now: build_view(  # noqa: E731
            event=ss.event,
            session=ss.session,
            agenda=ss.records("agenda_item"),
            clock_events=ss.clock_events(),
            speeches=ss.speeches(),
            speakers=ss.records("speaker"),
            names=NAMES,
            now_ms=int(now * 1000),
        )
        # the plan's threshold: 10 % of 90 s = 9 s (shorter than its 20 s)
        assert view(FIXED_NOW + 80).floor_state == "ok"
        assert view(FIXED_NOW + 81).floor_state == "warning"
        assert view(FIXED_NOW + 91).floor_state == "over"
    with pytest.raises(Exception, match="warning_percent.*expected whole percent 0-100"):
        parse_plan(text.replace("warning_percent = 10", "warning_percent = 150"), "plan.toml")


async def test_the_review_item_lists_this_sessions_actions_for_the_read_back(demo) -> None:
    from _app import make_app

    store, sid = demo
    with store.open_session(sid) as ss:
        review = next(a for a in ss.records("agenda_item") if a.item_kind == "actions")
        ss.go_to_item(review.id)
        own = [e for e in ss.records("entry") if e.entry_kind == "action" and not e.parked]
    assert own  # the demo session agreed actions earlier in the meeting
    app = make_app(store.home, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        text = str(app.screen.query_one("#own-actions").render())
        assert f"This session's actions for the read-back ({len(own)}):" in text
        assert own[0].text[:20] in text and f"owner {own[0].owner}" in text
        # beside the earlier conferences' list (none on this laptop's demo)
        caption = str(app.screen.query_one("#carried-caption").render())
        assert "earlier conferences" in caption.lower()


def test_the_procedure_ops_pass_the_servers_validation_under_protocol_5(demo) -> None:
    store, sid = demo
    with store.open_session(sid) as ss:
        ss.go_to_item(ss.records("agenda_item")[2].id)
        ss.add_speaker("KE", reply=True)
        ss.set_speaking_time(75)
        ss.project("Coffee break until 11:00")
        ops = [o for o in ss.outbox() if protocol.FIELDS_SINCE.get((o.kind, o.field)) == 5]
    fields = {(o.kind, o.field) for o in ops}
    assert {("session", "projected"), ("session", "speaking_seconds")} <= fields
    body = protocol.push_body(ops, "lap-a")
    assert body["protocol"] == 5 and protocol.parse_push_body(body) == ops
    for older in (1, 2, 3, 4):
        with pytest.raises(protocol.ProtocolError, match=r"ops\[0\]: unknown field"):
            protocol.parse_push_body(dict(body, protocol=older))


def test_a_secretariat_of_protocol_4_gets_all_but_the_procedure_which_stays_here(
    live_server, tmp_path: Path, monkeypatch
) -> None:
    """A server of issue 23's version (4), emulated in front of the real one as test_archive
    does: the projected message, the right of reply and the speaking time (protocol 5) stay
    on the laptop, said once; everything else goes."""
    import asyncio

    from roundtable import sync
    from roundtable.sync import SyncClient

    event_id = live_server.create_event("Conference 2026")
    token = live_server.token(event_id, ["*"])
    store = LocalStore(tmp_path / "laptop")

    def round_():
        client = SyncClient(store, live_server.url, token, backoff_base=0.01, read_timeout=5.0)
        return asyncio.run(client.sync_once())

    assert round_().ok  # the event, from the secretariat
    session = store.create_session(event_id, "africa", "Africa round table", [])
    with store.open_session(session.id) as ss:
        ss.add_entry("need", "Training on cyber forensics")
        ss.add_speaker("GH")
        ss.add_speaker("KE", reply=True)
        ss.set_speaking_time(75)
        ss.project("Coffee break until 11:00")
        newer = {o.op_id for o in ss.outbox() if not protocol.fits(o, 4)}
    # KE's reply, the session's speaking_seconds and its projected message
    assert len(newer) == 3
    current = protocol.parse_push_body
    monkeypatch.setattr(sync, "_check_protocol", lambda data, where: 4)
    monkeypatch.setattr(
        protocol,
        "parse_push_body",
        lambda data, *, now_ms=None: current(data, now_ms=now_ms, speaks=4),
    )
    result = round_()
    assert result.ok and result.rejected == 0, result
    assert result.kept_local == len(newer) and result.notice is not None
    assert result.notice.startswith(f"{len(newer)} changes kept on this laptop: the secretariat ")
    assert "session.projected" in result.notice and "speaker.reply" in result.notice
    again = round_()  # said once
    assert again.ok and again.kept_local == len(newer) and again.notice is None, again
    with store.open_session(session.id) as ss:
        assert {o.op_id for o in ss.outbox()} == newer
    fields = {f for (f,) in live_server.query("SELECT field FROM ops")}
    assert "text" in fields and "country" in fields
    assert not fields & {"projected", "reply", "speaking_seconds"}
