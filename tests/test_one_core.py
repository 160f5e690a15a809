"""Issue 21: one core, every face.  The laptop and the secretariat build a session's snapshot
with one function (``roundtable.snapshot``), so a rich session (item clocks, speeches, the floor,
reviews of an earlier event's actions) gives the same minutes bytes from the laptop's export,
``/v1`` and the console's download."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from fixtures_server import LiveServer

from roundtable import carry, cli
from roundtable.store import LocalStore
from roundtable.sync import SyncClient

AGENDA = [
    {"title": "Opening", "item_kind": "opening", "minutes": 10},
    {"title": "Regional challenges", "item_kind": "discussion", "minutes": 30},
]
ROOM_A, ROOM_B = "Room A rapporteur", "Room A assistant"
T0 = 1_795_000_000.0  # 2026-11-18, a fixed wall clock for the laptops
AS_OF = __import__("datetime").datetime(2026, 11, 20, 17, 0, tzinfo=__import__("datetime").UTC)


class Wall:
    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


def sync(store: LocalStore, server: LiveServer, token: str, label: str | None = None) -> None:
    client = SyncClient(store, server.url, token, backoff_base=0.01, backoff_cap=0.05, label=label)
    result = asyncio.run(client.sync_once())
    assert result.ok, result.summary()


class Rich:
    """A 2025 event with actions, and a 2026 session with clocks, speeches, the floor and
    reviews of the 2025 actions, all synced to a real secretariat."""

    def __init__(self, server: LiveServer, home: Path) -> None:
        self.server = server
        first = server.create_event("Conference 2025", starts="2025-10-01")
        old = LocalStore(home.parent / "laptop-2025", wall=Wall(T0 - 400 * 86400))
        first_token = server.token(first, ["europe"])
        sync(old, server, first_token)
        s = old.create_session(first, "europe", "Europe round table", AGENDA)
        with old.open_session(s.id) as ss:
            ss.add_entry("action", "Share the watch list", owner="FR", tlp="green")
            ss.add_entry("action", "Map the firearms routes", owner="DE")
        sync(old, server, first_token)
        self.event = server.create_event("Conference 2026", starts="2026-11-18")
        self.token = server.token(self.event, ["europe"])
        self.wall = wall = Wall(T0)
        self.home = home
        store = LocalStore(home, wall=wall)
        sync(store, server, self.token)
        self.session = sid = store.create_session(
            self.event, "europe", "Europe round table", AGENDA, date="2026-11-18"
        ).id
        found, problem = asyncio.run(
            carry.find(store, "europe", self.event, url=server.url, token=self.token)
        )
        assert problem is None and len(found.actions) == 2, problem
        with store.open_session(sid) as ss:
            opening, cases = (i.id for i in ss.records("agenda_item"))
            ss.set_attendance("FR", "present", ["Cdt. Martin"])
            ss.set_attendance("DE", "present")
            ss.clock("start", opening)
            wall.at += 75
            ss.clock("stop", opening)
            ss.clock("start", cases)
            speaker = ss.add_speaker("FR", item_id=cases)
            ss.give_floor(speaker.id)
            wall.at += 95
            ss.end_floor()
            ss.add_entry("issue", "Firearms on the Balkan route", delegations=["DE", "FR"],
                         agenda_item=cases)  # fmt: skip
            terms = ss.add_entry("action", "Draft the terms", owner="DE", due="2026-12-15",
                                 agenda_item=cases).id  # fmt: skip
            wall.at += 600
            ss.clock("stop", cases)
            for action in found.actions:
                ss.review_action(action, "carried", "Owner changed", agenda_item=cases)
        sync(store, server, self.token, ROOM_A)
        # a second laptop of the room edits the action's owner while this one edits it too
        other = LocalStore(home.parent / "laptop-b", wall=Wall(T0 + 900))
        sync(other, server, self.token, ROOM_B)
        with other.open_session(sid) as ss:
            ss.update("entry", terms, owner="FR")
        with store.open_session(sid) as ss:
            wall.at += 1
            ss.update("entry", terms, owner="IT")
        sync(other, server, self.token, ROOM_B)
        sync(store, server, self.token, ROOM_A)
        sync(other, server, self.token, ROOM_B)
        sync(store, server, self.token, ROOM_A)

    def laptop_minutes(self, capsys: pytest.CaptureFixture[str], monkeypatch) -> str:
        monkeypatch.setenv("ROUNDTABLE_HOME", str(self.home))
        capsys.readouterr()
        assert cli.main(["export", self.session, "--format", "md", "--lang", "en"]) == 0
        return capsys.readouterr().out

    def api_minutes(self) -> str:
        answer = httpx.get(
            f"{self.server.url}/v1/sessions/{self.session}/minutes",
            params={"format": "md", "lang": "en"},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return answer.text

    def console_minutes(self) -> str:
        url = self.server.url
        with httpx.Client(base_url=url, timeout=10, headers={"Origin": url}) as client:
            signed = client.post("/sign-in", data={"token": self.token, "next": "/"})
            assert signed.status_code == 303, signed.text
            answer = client.get(f"/sessions/{self.session}/minutes.md", params={"lang": "en"})
            assert answer.status_code == 200, answer.text
            return answer.text


@pytest.fixture
def rich(live_server: LiveServer, tmp_path: Path) -> Rich:
    return Rich(live_server, tmp_path / "home")


def test_a_synced_session_with_clocks_gives_the_same_minutes_on_every_face(
    rich: Rich, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    laptop = rich.laptop_minutes(capsys, monkeypatch)
    assert "| 10 min | 1 min |" in laptop  # the opening's clock ran 75 s
    assert "Share the watch list" in laptop and "Firearms on the Balkan route" in laptop
    assert "## Unresolved conflicts" in laptop, laptop
    assert f"“IT” ({ROOM_A})" in laptop or f"“FR” ({ROOM_B})" in laptop, laptop  # who loses
    assert "**Draft 1**" in laptop  # the laptop numbers its exports; the server does not
    laptop = laptop.replace("**Draft 1**", "**Draft**", 1).replace(":** Draft 1\n", ":** Draft\n")
    assert rich.api_minutes() == laptop
    assert rich.console_minutes() == laptop


# -- export: one orchestration, one numbering rule --------------------------------------------


def _close(home: Path, sid: str) -> None:
    with LocalStore(home).open_session(sid) as ss:
        ss.close_session(accept=["all"])


async def test_a_reissued_final_is_reissued_on_the_app_and_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """After close, reopen, close: the app wrote ``-final-reissued`` and ``export --save`` of
    the same records wrote "Final" (the same records as the history's first final)."""
    from roundtable.app import RoundtableApp
    from roundtable.config import Settings
    from roundtable.demo import create_demo
    from roundtable.screens.minutes import export_minutes
    from sessions.roster import load_roster

    home = tmp_path / "home"
    sid = create_demo(LocalStore(home), load_roster())
    _close(home, sid)
    with LocalStore(home).open_session(sid) as ss:
        ss.reopen()
    _close(home, sid)
    app = RoundtableApp(home=home, session_id=sid, settings=Settings(language="en"),
                        sync_enabled=False)  # fmt: skip
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        from_app = export_minutes(app, "md")
    assert from_app is not None and from_app.name.endswith("-en-final-reissued.md")
    monkeypatch.setenv("ROUNDTABLE_HOME", str(home))
    capsys.readouterr()
    assert cli.main(["export", sid, "--save", "--lang", "en"]) == 0
    from_cli = Path(capsys.readouterr().out.strip())
    assert from_cli == from_app  # the same name, the same bytes: one file
    text = from_cli.read_text(encoding="utf-8")
    assert "- **Document:** Final, reissued" in text
    assert not list(from_cli.parent.glob("*-en-final.md"))


async def test_one_rich_session_gives_the_same_bytes_on_every_face(
    rich: Rich, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fixed rich session (clocks, speeches, the floor, reviews, a conflict between two
    labelled laptops) through the app (Pilot), `cli.main`, `/v1` and the console."""
    from roundtable.app import RoundtableApp
    from roundtable.config import Settings
    from roundtable.screens.minutes import minutes_document

    from_cli = rich.laptop_minutes(capsys, monkeypatch)
    app = RoundtableApp(home=rich.home, session_id=rich.session,
                        settings=Settings(language="en"), sync_enabled=False)  # fmt: skip
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        from_app = minutes_document(app, "md")[0]
    assert from_app == from_cli
    assert "Room A" in from_cli and "lap-" not in from_cli and "True" not in from_cli
    numbered = from_cli.replace("**Draft 1**", "**Draft**", 1)
    numbered = numbered.replace(":** Draft 1\n", ":** Draft\n")
    assert rich.api_minutes() == numbered == rich.console_minutes()


def test_records_by_class_are_typed_reads(rich: Rich) -> None:
    from roundtable.model import ClockEvent, Entry

    with LocalStore(rich.home).open_session(rich.session, read_only=True) as ss:
        entries = ss.records(Entry)
        assert entries == ss.records("entry") and all(isinstance(e, Entry) for e in entries)
        assert len(ss.records(ClockEvent)) == len(ss.clock_events()) >= 4


# -- property: one document per (reader, language, format), whatever the sessions -----------------

from budget import count  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

CODES = ("FR", "DE", "IT")
STEP = st.one_of(
    st.tuples(st.just("entry"), st.sampled_from(("issue", "need", "action", "note", "decision")),
              st.sampled_from(CODES), st.sampled_from(("", "clear", "green", "amber"))),
    st.tuples(st.just("clock"), st.sampled_from(("start", "pause", "resume", "stop")),
              st.integers(0, 1), st.integers(1, 900)),
    st.tuples(st.just("floor"), st.sampled_from(CODES), st.integers(5, 300)),
    st.tuples(st.just("attend"), st.sampled_from(CODES), st.sampled_from(("present", "absent"))),
    st.tuples(st.just("label"), st.integers(0, 20), st.sampled_from(("clear", "green", "amber"))),
    st.tuples(st.just("review"), st.integers(0, 1),
              st.sampled_from(("done", "in_progress", "dropped", "carried"))),
)  # fmt: skip
SESSION = st.tuples(
    st.lists(STEP, max_size=10),
    st.booleans(),  # closed
    st.sampled_from(("", "owner", "text", "delete")),  # what two laptops edit at once
)
READER = st.tuples(
    st.sampled_from(("participants", "community", "public")),
    st.sampled_from(("en", "fr", "es", "ar")),
    st.sampled_from(("md", "html")),
)
NAMES = {"FR": "France", "DE": "Germany", "IT": "Italy"}
LABELS = {"room-a": "Room A rapporteur", "room-b": "Room A assistant"}


def _ops(store: LocalStore, event_id: str) -> list:
    """Every op of the event's units this laptop made (nothing was pushed: all pending)."""
    out = []
    for outbox in store.outboxes(event_id):
        with outbox:
            out += outbox.pending()
    return out


def _apply(store: LocalStore, ops: list) -> None:
    with store.puller() as puller:
        puller.apply(ops)


def _play(ss, steps, wall: Wall, carried: list) -> None:
    """One generated session's life on the laptop: captures, clocks, the floor, attendance,
    relabels, reviews of an earlier event's actions."""
    items = [i.id for i in ss.records("agenda_item")]
    for n, step in enumerate(steps):
        wall.at += 7
        if step[0] == "entry":
            _, kind, code, tlp = step
            owner = code if kind == "action" else ""
            ss.add_entry(kind, f"Entry {n}", delegations=[code], owner=owner, tlp=tlp)
        elif step[0] == "clock":
            _, action, item, seconds = step
            ss.clock(action, items[item])
            wall.at += seconds
        elif step[0] == "floor":
            _, code, seconds = step
            ss.give_floor(ss.add_speaker(code, item_id=items[1]).id)
            wall.at += seconds
            ss.end_floor()
        elif step[0] == "attend":
            ss.set_attendance(step[1], step[2])
        elif step[0] == "label":
            entries = ss.records("entry")
            if entries:
                ss.update("entry", entries[step[1] % len(entries)].id, tlp=step[2])
        else:
            _, which, status = step
            ss.review_action(carried[which], status, f"Reviewed {n}", agenda_item=items[1])


def _concurrent_edit(a: LocalStore, b: LocalStore, event_id: str, sid: str, what: str,
                     wall: Wall) -> None:  # fmt: skip
    """Two laptops of the room change the same entry before either hears of the other's."""
    with a.open_session(sid) as ss:
        target = ss.add_entry("action", "Shared action", owner="FR", tlp="green")
    _apply(b, _ops(a, event_id))
    with b.open_session(sid) as theirs:
        if what == "delete":
            theirs.update("entry", target.id, text="Shared action, reworded")
        else:
            theirs.update("entry", target.id, **{what: "DE" if what == "owner" else "Theirs"})
    with a.open_session(sid) as ss:
        wall.at += 1
        if what == "delete":
            ss.delete("entry", target.id)
        else:
            ss.update("entry", target.id, **{what: "IT" if what == "owner" else "Ours"})
    _apply(a, _ops(b, event_id))


@settings(
    max_examples=count(10, "ROUNDTABLE_HYPOTHESIS_EXAMPLES"),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sessions=st.lists(SESSION, min_size=1, max_size=3), reader=READER, who=st.integers(0, 2))
def test_generated_events_give_one_document_per_reader_on_the_laptop_and_the_server(
    tmp_path_factory: pytest.TempPathFactory, sessions: list, reader: tuple, who: int
) -> None:
    """Events of one to three sessions (clocks, speeches, the floor, attendance, labels,
    reviews of an earlier event's actions, two laptops editing or deleting the same entry):
    the laptop's use cases over its store (``roundtable.usecases``) and the secretariat's
    reading of the merged ops (``snapshot.snapshots_from_docs``, ``conflicts.gather`` with the
    laptops' labels, as ``secretariat.gate`` reads them) give the same minutes of each session,
    the same brief of a delegation (on one session and on the event) and the same report, for
    the drawn audience, language and format.  (TLP:RED never leaves the laptop, so the server
    cannot count it withheld: labels up to AMBER here.)"""
    from roundtable import conflicts as conflict_rules
    from roundtable import usecases
    from roundtable.protocol import merge_ops
    from roundtable.snapshot import snapshots_from_docs
    from sessions.roster import load_roster

    audience, lang, fmt = reader
    root = tmp_path_factory.mktemp("gen")
    wall = Wall(T0)
    a = LocalStore(root / "a", wall=wall)
    b = LocalStore(root / "b", wall=Wall(T0 + 5))
    labels = {a.device: LABELS["room-a"], b.device: LABELS["room-b"]}
    a.save_device_labels(labels)
    # an earlier event's actions, to review
    old = a.create_event("Conference 2025", starts="2025-10-01")
    first = a.create_session(old.id, "europe", "Europe 2025", AGENDA, date="2025-10-01")
    with a.open_session(first.id) as ss:
        ss.add_entry("action", "Share the watch list", owner="FR", tlp="green")
        ss.add_entry("action", "Map the firearms routes", owner="DE")
    event = a.create_event("Conference 2026", starts="2026-11-18", tz="Europe/Paris")
    carried = carry.local_actions(a, "europe", event.id)
    assert len(carried) == 2
    ids = []
    for n, (steps, closed, edit) in enumerate(sessions):
        sid = a.create_session(event.id, "europe", f"Europe RT {n}", AGENDA,
                               date="2026-11-18").id  # fmt: skip
        ids.append(sid)
        with a.open_session(sid) as ss:
            _play(ss, steps, wall, carried)
        if edit:
            _concurrent_edit(a, b, event.id, sid, edit, wall)
        if closed:
            with a.open_session(sid) as ss:
                ss.close_session(accept=["all"])
    # the laptop: its use cases over its store
    laptop = {r.snap.session.id: r for r in usecases.read_event(a, event.id, NAMES)}
    # the secretariat: every laptop's ops merged, read as its gate reads them
    docs = merge_ops(_ops(a, event.id) + _ops(b, event.id))
    entries = [d for d in docs.values() if d["kind"] == "entry"]
    _, snaps = snapshots_from_docs(docs.values(), NAMES)
    found = conflict_rules.gather(entries, conflict_rules.labelled(labels))
    server = {
        s.session.id: usecases.SessionRead(
            s, {k: v for k, v in found.items() if any(e.id == k for e in s.entries)}
        )
        for s in snaps
    }
    assert sorted(server) == sorted(laptop) == sorted(ids)
    if any(edit and edit != "delete" for _, _, edit in sessions):
        assert any(r.conflicts for r in laptop.values())  # a conflict was generated
    as_of = AS_OF
    code = CODES[who]

    def documents(reads: dict) -> list[str]:
        ordered = [reads[sid] for sid in ids]
        out = [usecases.minutes(r, fmt=fmt, lang=lang, audience=audience) for r in ordered]
        for focus in (ids[0], None):
            out.append(usecases.brief(code, ordered, focus=focus, fmt=fmt, lang=lang,
                                      audience=audience, as_of=as_of, countries=NAMES))  # fmt: skip
        out.append(usecases.report(event, ordered, load_roster(), fmt=fmt, lang=lang,
                                   audience=audience, as_of=as_of))  # fmt: skip
        return out

    from_laptop, from_server = documents(laptop), documents(server)
    for mine, theirs in zip(from_laptop, from_server, strict=True):
        assert mine == theirs


async def test_the_app_and_the_command_line_give_one_brief_of_an_event_of_several_sessions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The app's brief covered its own session only ([snap]), the command line's the event's
    sessions: another session's open action for the delegation was missing from the app's.
    Both now call ``usecases.brief`` over ``usecases.read_event``."""
    import datetime as dt

    from roundtable.app import RoundtableApp
    from roundtable.config import Settings
    from roundtable.screens.minutes import export_brief

    home = tmp_path / "home"
    store = LocalStore(home)
    event = store.create_event("Conference 2026", starts="2026-11-18")
    first = store.create_session(event.id, "europe", "Europe RT", AGENDA, date="2026-11-18").id
    second = store.create_session(event.id, "europe", "Europe RT 2", AGENDA, date="2026-11-19").id
    with store.open_session(first) as ss:
        ss.set_attendance("FR", "present")
        ss.add_entry("issue", "Firearms on the Balkan route", delegations=["FR"])
    with store.open_session(second) as ss:
        ss.add_entry("action", "Share the watch list", owner="FR", due="2026-12-15")
    at = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
    app = RoundtableApp(home=home, session_id=first, settings=Settings(language="en"),
                        sync_enabled=False, clock=at.timestamp)  # fmt: skip
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        path = export_brief(app, "FR", "md")
    assert path is not None
    from_app = path.read_text(encoding="utf-8")
    assert "Share the watch list" in from_app  # the other session's open action
    monkeypatch.setenv("ROUNDTABLE_HOME", str(home))
    monkeypatch.setattr(cli, "_now", lambda: at)
    capsys.readouterr()
    assert cli.main(["export", first, "--for", "FR", "--lang", "en"]) == 0
    assert capsys.readouterr().out == from_app
