"""Issue 14: every document is cut to its audience, in every language and format.

A property test plants a unique marker in the text of every entry, with random labels, kinds,
parking and session defaults, and checks that no marker above the audience's ceiling appears
in the minutes, a delegation's brief or the report (Markdown and HTML, en/fr/es/ar), that the
withheld are counted, that references are the same in every version, and that the secretariat's
answers (pull, minutes, report) to a token with a ceiling hold the same line.
"""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from budget import count
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roundtable.documents import (
    AudienceError,
    brief_text,
    cut,
    minutes_text,
    report_text,
)
from roundtable.model import (
    AUDIENCES,
    TLP_LABELS,
    AgendaItem,
    Attendance,
    Entry,
    Event,
    HlcClock,
    Session,
    SessionSnapshot,
    Speech,
    effective_tlp,
    within,
)
from sessions import load_roster

EXAMPLES = count(25, "ROUNDTABLE_HYPOTHESIS_EXAMPLES")
AS_OF = dt.datetime(2026, 11, 28, 17, 30, tzinfo=dt.UTC)
LANGS = ("en", "fr", "es", "ar")
NAMES = {"GH": "Ghana", "NG": "Nigeria", "KE": "Kenya"}
ROSTER = load_roster()


def marker(n: int) -> str:
    return f"zq{n:03d}mark"


def build(specs, default: str) -> SessionSnapshot:
    entries = []
    for n, (kind, label, parked, item) in enumerate(specs):
        entries.append(
            Entry(
                id=f"e{n:03d}",
                session_id="s1",
                entry_kind=kind,
                text=f"Point {marker(n)} raised",
                delegations=["GH"],
                owner="GH" if kind == "action" else "",
                status="open" if kind == "action" else "",
                agenda_item=item,
                parked=parked,
                created_at=f"2026-11-25T09:{n:02d}:00+00:00",
                tlp=label,
            )
        )
    return SessionSnapshot(
        event=Event(id="ev", name="Conference 2026"),
        session=Session(
            id="s1",
            event_id="ev",
            region="africa",
            title="Africa round table",
            date="2026-11-25",
            status="running",
            default_tlp=default,
        ),  # fmt: skip
        agenda=[
            AgendaItem(id="a1", position=0, title="Opening"),
            AgendaItem(id="a2", position=1, title="Cases"),
        ],  # fmt: skip
        attendance=[Attendance(id="at1", session_id="s1", country="GH", status="present")],
        entries=entries,
        speeches=[
            Speech(id=f"sp{n}", session_id="s1", country="GH", seconds=30, tlp=label)
            for n, label in enumerate(TLP_LABELS)
        ],  # fmt: skip
        countries=NAMES,
    )


entry_specs = st.lists(
    st.tuples(
        st.sampled_from(("issue", "need", "action", "decision", "note")),
        st.sampled_from(("", *TLP_LABELS)),  # "" = the session's default
        st.booleans(),
        st.sampled_from(("a1", "a2", "elsewhere")),
    ),
    min_size=1,
    max_size=12,
)


def refs(text: str) -> dict[str, str]:
    """marker -> the reference printed before it (I1, D3, P2...) in a Markdown document."""
    found = {}
    for m in re.finditer(r"\*\*([INDAP]\d+)\.\*\* Point (zq\d{3}mark)", text):
        found[m.group(2)] = m.group(1)
    return found


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=entry_specs, default=st.sampled_from(("", *TLP_LABELS)))
def test_no_document_shows_an_entry_above_its_audience(specs, default) -> None:
    snap = build(specs, default)
    labels = [effective_tlp(label, default) for _k, label, _p, _i in specs]
    room_refs = refs(minutes_text(snap, audience="room"))
    for audience, ceiling in AUDIENCES.items():
        shown = {marker(n) for n, label in enumerate(labels) if within(label, ceiling)}
        hidden = {marker(n) for n in range(len(specs))} - shown
        withheld = len(hidden)
        for lang in LANGS:
            for fmt in ("md", "html"):
                docs = {
                    "minutes": minutes_text(snap, fmt=fmt, lang=lang, audience=audience),
                    "brief": brief_text(
                        "GH",
                        [snap],
                        fmt=fmt,
                        lang=lang,
                        as_of=AS_OF,
                        countries=NAMES,
                        audience=audience,
                    ),  # fmt: skip
                }
                if audience != "room":
                    docs["report"] = report_text(snap.event, [snap], ROSTER, fmt=fmt, lang=lang,
                                                 as_of=AS_OF, audience=audience)  # fmt: skip
                for name, text in docs.items():
                    for m in hidden:
                        assert m not in text, (audience, lang, fmt, name, m)
                    if name == "minutes":
                        for m in shown:
                            assert m in text, (audience, lang, fmt, name, m)
                    # the highest label contained (a speech of every label is kept up to
                    # the ceiling) is stated under the title and again last
                    mark_ = f"TLP:{ceiling.upper()}"
                    head = text[max(text.find("<h1"), 0) :][:600]
                    assert mark_ in head and mark_ in text[-600:], (audience, name)
                    for above in TLP_LABELS[TLP_LABELS.index(ceiling) + 1 :]:
                        assert f"**TLP:{above.upper()}**" not in text
            if lang == "en":
                text = minutes_text(snap, audience=audience)
                found = re.findall(r"Entries withheld \(TLP:[A-Z+]+\): (\d+)", text)
                assert sum(int(n) for n in found) == withheld
                # D3 is D3 in every version
                for m, ref in refs(text).items():
                    assert room_refs[m] == ref


def test_the_report_is_never_for_the_room() -> None:
    snap = build([("need", "red", False, "a1")], "")
    with pytest.raises(AudienceError, match="never for the room"):
        report_text(snap.event, [snap], ROSTER, as_of=AS_OF, audience="room")


def test_cut_is_idempotent_and_keeps_the_lower_ceiling() -> None:
    snap = build([("need", label, False, "a1") for label in TLP_LABELS], "")
    green = cut(snap, "green")
    assert [e.tlp for e in green.entries] == ["clear", "green"]
    assert cut(green, "amber") is green
    assert [e.tlp for e in cut(green, "clear").entries] == ["clear"]
    assert len(cut(green, "clear").withheld) == 4


# -- the secretariat's answers, on a real server ----------------------------------------------


@settings(
    max_examples=count(8, "ROUNDTABLE_HYPOTHESIS_EXAMPLES"),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(specs=entry_specs, default=st.sampled_from(("", "clear", "green", "amber")))
def test_no_api_answer_shows_an_entry_above_the_token_ceiling(live_server, specs, default):
    from test_secretariat import push, record_ops

    from roundtable.model import new_id
    from roundtable.secretariat import issue_token

    if not hasattr(live_server, "event_for_tlp"):
        live_server.event_for_tlp = live_server.create_event("Conference")
        live_server.writer = live_server.token(live_server.event_for_tlp)
        live_server.readers = {
            c: issue_token(live_server.db_path, live_server.event_for_tlp, ["*"], max_tlp=c)
            for c in ("green", "amber", "amber+strict")
        }
    event_id = live_server.event_for_tlp
    snap = build([s for s in specs if s[1] != "red"], default)  # RED never reaches a server
    sid = new_id()
    snap.session.id = sid
    snap.session.event_id = event_id
    clock = HlcClock("lap-p")
    ops = record_ops(snap.session, event_id, sid, clock)
    for e in snap.entries:
        e.id, e.session_id = new_id(), sid
        e.agenda_item = ""
        e.text = e.text.replace("zq", f"zq{sid[-6:]}")
        ops += record_ops(e, event_id, sid, clock)
    assert push(live_server.url, event_id, live_server.writer, ops).status_code == 200
    for ceiling, token in live_server.readers.items():
        auth = {"Authorization": f"Bearer {token}"}
        answers = [httpx.get(f"{live_server.url}/v1/events/{event_id}/ops", headers=auth,
                             params={"limit": 1000}).text]  # fmt: skip
        for lang in LANGS:
            answers.append(httpx.get(f"{live_server.url}/v1/sessions/{sid}/minutes",
                                     headers=auth, params={"lang": lang}).text)  # fmt: skip
            answers.append(
                httpx.get(
                    f"{live_server.url}/v1/events/{event_id}/report",
                    headers=auth,
                    params={"lang": lang, "format": "html"},
                ).text
            )
        for e in snap.entries:
            r = httpx.get(f"{live_server.url}/v1/events/{event_id}/records/{e.id}/history",
                          headers=auth)  # fmt: skip
            answers.append(r.text)
            hidden = not within(effective_tlp(e.tlp, default), ceiling)
            assert r.status_code == (404 if hidden else 200)
        body = "\n".join(answers)
        for e in snap.entries:
            mark = re.search(r"zq\w+mark", e.text).group()
            if within(effective_tlp(e.tlp, default), ceiling):
                assert mark in answers[1], (ceiling, mark)  # the English minutes
            else:
                assert mark not in body, (ceiling, mark)
