"""The meeting's running state as records (issue 16): item clocks, the floor, the lists of
speakers and the tour de table, computed by ``roundtable.meeting`` from what the store wrote."""

from __future__ import annotations

from pathlib import Path

import pytest
from budget import count
from hypothesis import given, settings
from hypothesis import strategies as st

from roundtable import meeting
from roundtable.model import ClockEvent, new_id
from roundtable.store import LocalStore, StoreError

ITEMS = ("a", "b", "c")


def _replay(steps: list[tuple[str, str, int]]) -> tuple[list[ClockEvent], int]:
    """Write ``(item, action, gap_ms)`` steps through ``clock_changes`` as the store does."""
    events: list[ClockEvent] = []
    now = 1_000_000
    for item, action, gap in steps:
        now += gap
        for it, act in meeting.clock_changes(events, item, action):
            events.append(ClockEvent(id=new_id(), agenda_item=it, action=act, at=now))
    return events, now


def _reference(events: list[ClockEvent], item: str, now: int) -> float:
    """Sum of running intervals, counted the slow way: millisecond by millisecond state."""
    total = 0
    running_since = None
    for e in sorted(events, key=lambda e: (e.at, e.id)):
        if e.agenda_item != item:
            continue
        if e.action in ("start", "resume") and running_since is None:
            running_since = e.at
        elif e.action in ("pause", "stop") and running_since is not None:
            total += e.at - running_since
            running_since = None
    if running_since is not None:
        total += now - running_since
    return total / 1000


steps_strategy = st.lists(
    st.tuples(
        st.sampled_from(ITEMS),
        st.sampled_from(("start", "pause", "resume", "stop")),
        st.integers(min_value=0, max_value=600_000),
    ),
    max_size=40,
)


@settings(max_examples=count(200), deadline=None)
@given(steps=steps_strategy, later=st.integers(min_value=0, max_value=600_000))
def test_elapsed_is_the_sum_of_running_intervals_and_one_clock_runs(steps, later) -> None:
    events, now = _replay(steps)
    assert len(meeting.running_items(events)) <= 1
    for item in ITEMS:
        assert meeting.elapsed(events, item, now) == _reference(events, item, now)
        before = meeting.elapsed(events, item, now)
        after = meeting.elapsed(events, item, now + later)
        if meeting.clock_state(events, item) == "running":
            assert round(after * 1000) == round(before * 1000) + later
        else:  # paused, stopped, never started, or another item runs: it does not grow
            assert after == before


@settings(max_examples=count(200), deadline=None)
@given(steps=steps_strategy, gap=st.integers(min_value=1, max_value=600_000))
def test_moving_to_another_item_or_closing_freezes_every_other_clock(steps, gap) -> None:
    events, now = _replay(steps)
    frozen = {i: meeting.elapsed(events, i, now) for i in ITEMS}
    events2, now2 = _replay([*steps, ("b", "start", 0)])
    assert meeting.running_items(events2) == ["b"]
    for i in ("a", "c"):
        assert meeting.elapsed(events2, i, now2 + gap) == frozen[i]
    closing = meeting.clock_changes(events2, "", "stop")
    events3 = events2 + [
        ClockEvent(id=new_id(), agenda_item=it, action=act, at=now2) for it, act in closing
    ]
    assert meeting.running_items(events3) == []
    for i in ITEMS:
        assert meeting.elapsed(events3, i, now2 + gap) == meeting.elapsed(events3, i, now2)


def test_clock_changes_rules() -> None:
    events, _ = _replay([("a", "start", 0)])
    assert meeting.clock_changes(events, "a", "start") == []
    assert meeting.clock_changes(events, "b", "start") == [("a", "stop"), ("b", "start")]
    assert meeting.clock_changes(events, "b", "pause") == []
    events, _ = _replay([("a", "start", 0), ("a", "pause", 10)])
    assert meeting.clock_changes(events, "a", "resume") == [("a", "resume")]
    with pytest.raises(ValueError):
        meeting.clock_changes(events, "a", "rewind")


# -- the store writes the records ------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_795_600_800.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world(tmp_path: Path):
    clock = Clock()
    local = LocalStore(tmp_path / "home", wall=clock)
    event = local.create_event("Conference 2026")
    session = local.create_session(
        event.id,
        "africa",
        "Africa round table",
        agenda=[
            {"title": "Opening", "minutes": 5},
            {"title": "Drugs", "minutes": 20},
            {"title": "Cyber", "minutes": 15},
        ],
    )
    return local, session.id, clock


def test_item_clocks_are_records_that_survive_a_reopen(world) -> None:
    local, sid, clock = world
    with local.open_session(sid) as ss:
        first, second, _third = (i.id for i in ss.records("agenda_item"))
        ss.go_to_item(first)
        clock.now += 30
        ss.go_to_item(second)  # stops the first
        clock.now += 600
        assert ss.item_elapsed(first) == 30
        assert ss.item_elapsed(second) == 600
        ss.clock("pause")
        clock.now += 100
        assert ss.item_elapsed(second) == 600
        ss.clock("resume")
        clock.now += 60
        ss.close_session()
        clock.now += 1000
        assert ss.item_elapsed(second) == 660
        with pytest.raises(StoreError, match="roundtable reopen"):
            ss.clock("start")
    with local.open_session(sid) as ss:
        assert ss.item_elapsed(first) == 30
        assert ss.item_elapsed(second) == 660
        assert ss.session.current_item == second
        times = meeting.planned_vs_actual(ss.records("agenda_item"), ss.clock_events(), 0)
        assert [(t.planned_seconds, t.actual_seconds) for t in times] == [
            (300, 30),
            (1200, 660),
            (900, 0),
        ]
        snap = ss.snapshot({})
        times = meeting.planned_vs_actual(snap.agenda, snap.clock_events, 0)
        assert [t.actual_seconds for t in times] == [30, 660, 0]  # what the minutes can show
        ss.reopen()
        assert ss.session.status == "running" and ss.session.reopened_at


def test_list_of_speakers_floor_and_point_of_order(world) -> None:
    local, sid, clock = world
    with local.open_session(sid) as ss:
        ss.go_to_item(ss.records("agenda_item")[1].id)
        gh = ss.add_speaker("GH", limit_seconds=120)
        ng = ss.add_speaker("NG")
        ke = ss.add_speaker("KE")
        with pytest.raises(StoreError, match="already on the list"):
            ss.add_speaker("GH")
        assert [s.country for s in ss.waiting_speakers()] == ["GH", "NG", "KE"]
        ss.move_speaker(ke.id, -1)
        assert [s.country for s in ss.waiting_speakers()] == ["GH", "KE", "NG"]
        ss.add_speaker("SN", point_of_order=True)
        assert [s.country for s in ss.waiting_speakers()] == ["SN", "GH", "KE", "NG"]
        ss.remove_speaker(ng.id)
        first = ss.next_speaker()
        assert first is not None and first.country == "SN"
        clock.now += 40
        second = ss.next_speaker()  # giving the floor ends the previous turn
        assert second is not None and second.country == "GH"
        assert ss.get("speech", first.id).seconds == 40
        assert ss.get("speech", first.id).ended_at
        assert ss.floor().id == second.id
        assert ss.get("speaker", gh.id).status == "speaking"
        clock.now += 10
    # the floor and the list survive a restart
    with local.open_session(sid) as ss:
        assert ss.floor().country == "GH"
        assert [s.country for s in ss.waiting_speakers()] == ["KE"]
        times = meeting.delegation_times(ss.speeches(), int(clock.now * 1000), ss.session.floor)
        assert times["SN"] == meeting.DelegationTime(1, 40)
        assert times["GH"] == meeting.DelegationTime(1, 10)
        ss.end_floor()
        assert ss.floor() is None


def test_balanced_order_puts_delegations_not_yet_heard_first(world) -> None:
    local, sid, clock = world
    with local.open_session(sid) as ss:
        ss.add_speaker("GH")
        ss.next_speaker()
        clock.now += 5
        ss.end_floor()
        ss.add_speaker("GH")
        ss.add_speaker("NG")
        assert [s.country for s in ss.waiting_speakers()] == ["GH", "NG"]
        ss.set_balanced_order(True)
        assert [s.country for s in ss.waiting_speakers()] == ["NG", "GH"]


def test_tour_skip_moves_to_the_end_marked_and_pass_is_marked(world) -> None:
    local, sid, clock = world
    with local.open_session(sid) as ss:
        item = ss.current_item_id()
        assert ss.tour_start(["GH", "KE", "NG"], 90) == 3
        ss.tour_next()
        assert ss.floor().country == "GH"
        clock.now += 30
        ss.tour_skip()  # GH is not in the room: to the end, marked; KE gets the floor
        assert ss.floor().country == "KE"
        ss.tour_pass()  # KE passes; NG gets the floor
        assert ss.floor().country == "NG"
        lines = meeting.tour_lines(ss.records("speaker"), item)
        assert [(line.speaker.country, line.mark) for line in lines] == [
            ("KE", "passed"),
            ("NG", "speaking"),
            ("GH", "skipped once"),
        ]
        assert [s.country for s in meeting.not_yet_heard(ss.records("speaker"), item)] == ["GH"]
        # GH's withdrawn turn is not a speech
        assert [s.country for s in ss.speeches() if not s.passed] == ["NG"]


def test_capture_on_a_closed_session_is_refused_and_reopen_is_recorded(world) -> None:
    local, sid, _clock = world
    with local.open_session(sid) as ss:
        ss.close_session()
        with pytest.raises(StoreError, match=r"reopen .*session: reopen"):
            ss.check_open()
        ss.reopen()
        ss.check_open()


def test_minutes_show_item_clocks_observers_and_the_reopening(world) -> None:
    """The documents read the meeting's records: actual time per item from its clock events,
    observers from other regions, and "reopened" once the session was reopened."""
    from roundtable.minutes import render_markdown

    local, sid, clock = world
    with local.open_session(sid) as ss:
        first, second, _third = (i.id for i in ss.records("agenda_item"))
        ss.go_to_item(first)
        clock.now += 4 * 60
        ss.go_to_item(second)
        clock.now += 25 * 60
        ss.add_observer("FR")
        # an observer is listed once heard (issue 22: confirmed only to be named, it is not)
        ss.add_speech("FR", "queue", 60, "2026-11-25T09:30:00+00:00", agenda_item=second)
        ss.close_session()
        ss.reopen()
        markdown = render_markdown(ss.snapshot({"FR": "France"}))
    agenda = markdown.split("## 2.")[1].split("\n## ")[0]
    rows = [line for line in agenda.splitlines() if line.startswith("| 1 ") or "| 2 " in line]
    assert "4 min" in rows[0] and "25 min" in rows[1], agenda
    assert "Observers from other regions (1):** France." in markdown
    assert "reopened" in markdown
