"""The venue's clock (issue 24): an event carries its venue's IANA zone; every time a person
reads is in it, named, and marked with its abbreviation across a daylight-saving change; the
zone travels with the event under the wire rule (protocol 2)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from roundtable import cli, protocol
from roundtable.documents import minutes_text, report_text
from roundtable.store import LocalStore
from roundtable.zones import VenueClock, ZoneError, check_zone, laptop_zone
from sessions import PlanError, load_plan, load_roster

ROOT = Path(__file__).resolve().parent.parent
NAMES = {code: c.name for code, c in load_roster().items()}


def agenda_times(text: str) -> list[str]:
    """The Time column of the minutes' agenda table (Markdown)."""
    table = text.split("## 2.")[1].split("## 3.")[0]
    rows = [line for line in table.splitlines() if re.match(r"^\| \d", line)]
    return [row.strip("|").split("|")[-1].strip() for row in rows]


def timed_demo(home: Path, tz: str, *, venue: str = "") -> tuple[LocalStore, str]:
    """The demo session, its event in ``tz``, its first two items timed 08:00-08:12 and
    08:12-09:10 UTC."""
    from roundtable.demo import create_demo

    store = LocalStore(home)
    sid = create_demo(store, load_roster())
    with store.open_session(sid) as ss:
        store.set_event_zone(ss.event_id, tz)
        start = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)
        for item, (a, b) in zip(ss.records("agenda_item"), ((0, 12), (12, 70)), strict=False):
            ss.update(
                "agenda_item",
                item.id,
                started_at=(start + dt.timedelta(minutes=a)).isoformat(),
                ended_at=(start + dt.timedelta(minutes=b)).isoformat(),
            )
    return store, sid


# -- the zone database ---------------------------------------------------------------------------


def test_zones_resolve_without_the_system_database() -> None:
    """tzdata is a dependency: with no system zone database at all (as on Windows), the
    venue's zone still resolves and converts."""
    code = (
        "import zoneinfo, datetime as dt\n"
        "assert zoneinfo.TZPATH == (), zoneinfo.TZPATH\n"
        "from roundtable.zones import check_zone, zone\n"
        "check_zone('Europe/Paris')\n"
        "t = dt.datetime(2026, 10, 24, 7, 0, tzinfo=dt.UTC).astimezone(zone('Europe/Paris'))\n"
        "print(t.strftime('%H:%M %Z'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONTZPATH": "", "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "09:00 CEST"
    declared = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^\s*"tzdata>=', declared, re.MULTILINE)


# -- a bad zone, on every path -------------------------------------------------------------------


def test_a_bad_zone_is_one_line_naming_the_argument_with_a_suggestion() -> None:
    with pytest.raises(ZoneError) as info:
        check_zone("Europe/Pari", "--tz")
    assert str(info.value) == "--tz: Europe/Pari: unknown time zone; did you mean Europe/Paris?"
    with pytest.raises(ZoneError, match="did you mean America/Bogota"):
        check_zone("america/bogota", "--tz")
    with pytest.raises(ZoneError, match="did you mean Asia/Singapore"):
        check_zone("Singapore ", "--tz")
    with pytest.raises(ZoneError, match="^--tz: Nowhere/Atall: unknown time zone; give an IANA"):
        check_zone("Nowhere/Atall", "--tz")
    assert check_zone("Asia/Singapore") == "Asia/Singapore"


def test_roundtable_new_refuses_a_bad_zone_and_creates_nothing(capsys) -> None:
    code = cli.main(["new", "--region", "europe", "--event", "Conf", "--tz", "Europe/Pari"])
    err = capsys.readouterr().err
    assert code != 0
    assert err == ("roundtable: --tz: Europe/Pari: unknown time zone; did you mean Europe/Paris?\n")
    assert LocalStore(Path(__import__("os").environ["ROUNDTABLE_HOME"])).events() == []


def test_roundtable_new_sets_the_zone_and_keeps_an_events_own(capsys) -> None:
    import os

    home = Path(os.environ["ROUNDTABLE_HOME"])
    assert cli.main(["new", "--region", "europe", "--event", "Conf", "--tz", "Europe/Paris"]) == 0
    (event,) = LocalStore(home).events()
    assert event.tz == "Europe/Paris"
    capsys.readouterr()
    # another zone for the same event is refused; the same one, or none, is fine
    code = cli.main(["new", "--region", "europe", "--event", "Conf", "--tz", "Asia/Singapore"])
    assert code != 0
    assert capsys.readouterr().err == (
        "roundtable: --tz: event 'Conf' is held in Europe/Paris, not Asia/Singapore; leave the "
        "zone as it is or name another event\n"
    )
    assert cli.main(["new", "--region", "europe", "--event", "Conf"]) == 0
    assert len(LocalStore(home).sessions()) == 2
    # a new event without --tz: the laptop's zone, said
    assert cli.main(["new", "--region", "europe", "--event", "Other"]) == 0
    err = capsys.readouterr().err
    assert f"event 'Other' is held in {laptop_zone()} (this laptop's zone)" in err
    other = LocalStore(home).find_event("Other")
    assert other is not None and other.tz == laptop_zone()


def test_a_plans_tz_is_checked_and_used(tmp_path: Path, capsys) -> None:
    import os

    plan = tmp_path / "plan.toml"
    body = (
        'name = "lyon"\nregion = "europe"\ntitle = "Europe"\ntz = "{tz}"\n\n'
        '[[items]]\ntitle = "Opening"\nminutes = 10\nkind = "opening"\n'
    )
    plan.write_text(body.format(tz="Europe/Pari"), encoding="utf-8")
    with pytest.raises(PlanError) as info:
        load_plan(plan)
    assert str(info.value).endswith(
        "plan.toml:4: tz: Europe/Pari: unknown time zone; did you mean Europe/Paris?"
    )
    assert cli.main(["new", "--plan", str(plan), "--event", "Conf"]) != 0
    assert "tz: Europe/Pari: unknown time zone" in capsys.readouterr().err
    plan.write_text(body.format(tz="Europe/Paris"), encoding="utf-8")
    assert load_plan(plan).tz == "Europe/Paris"
    assert cli.main(["new", "--plan", str(plan), "--event", "Conf"]) == 0
    event = LocalStore(Path(os.environ["ROUNDTABLE_HOME"])).find_event("Conf")
    assert event is not None and event.tz == "Europe/Paris"


def test_events_create_takes_the_zone_and_says_when_there_is_none(tmp_path: Path, capsys) -> None:
    from roundtable.secretariat import list_events
    from roundtable.secretariat.db import open_ready

    db = tmp_path / "s.db"
    assert cli.main(["events", "create", "Bad", "--db", str(db), "--tz", "Europe/Pari"]) != 0
    assert capsys.readouterr().err == (
        "roundtable: --tz: Europe/Pari: unknown time zone; did you mean Europe/Paris?\n"
    )
    assert cli.main(["events", "create", "Lyon 2026", "--db", str(db), "--tz", "Europe/Paris"]) == 0
    assert "UTC" not in capsys.readouterr().err
    assert cli.main(["events", "create", "Plain", "--db", str(db)]) == 0
    assert "no --tz given: the event's times are read in UTC" in capsys.readouterr().err
    assert [name for _, name in list_events(db)] == ["Lyon 2026", "Plain"]
    with open_ready(db) as database, database.repository() as repo:
        zones = {
            (e, v)
            for e, _ in list_events(db)
            for o in repo.event_ops(e, "kind = 'event'")
            if o.field == "tz"
            for v in [o.value]
        }
    assert {v for _, v in zones} == {"Europe/Paris", ""}


def app_on(home: Path):
    from roundtable.app import RoundtableApp
    from roundtable.config import Settings

    return RoundtableApp(home=home, settings=Settings(), sync_enabled=False)


async def new_session_dialog(app, pilot):
    """ctrl+n on the session list: the new-session dialog."""
    from roundtable.screens.home import NewSessionModal

    await pilot.press("ctrl+n")
    await pilot.pause()
    assert isinstance(app.screen, NewSessionModal)
    return app.screen


async def test_the_new_session_dialog_shows_the_zone_and_refuses_a_bad_one(tmp_path: Path) -> None:
    app = app_on(tmp_path / "home")
    async with app.run_test(size=(120, 40)) as pilot:
        modal = await new_session_dialog(app, pilot)
        tz = modal.query_one("#new-tz")
        assert tz.value == laptop_zone()  # shown, changeable
        modal.query_one("#new-event").value = "Conference 2026"
        modal.query_one("#new-region").value = "asia-pacific"  # no region is preset (issue 22)
        tz.value = "Europe/Pari"
        await pilot.click("#create")
        await pilot.pause()
        assert str(modal.query_one("#new-error").render()) == (
            "Time zone: Europe/Pari: unknown time zone; did you mean Europe/Paris?"
        )
        assert app.local.events() == [] and app.screen is modal
        tz.value = "Asia/Singapore"
        tz.focus()
        await pilot.press("enter")  # Enter in a field creates, as the button does
        await pilot.pause()
        assert app.session_store is not None
        (event,) = app.local.events()
        assert event.tz == "Asia/Singapore"


# -- documents in the venue's time ---------------------------------------------------------------


@pytest.mark.parametrize(
    "tz, times, words",
    [
        ("Europe/Paris", ["09:00–09:12", "09:12–10:10"], "Lyon time, Europe/Paris, CET/CEST"),
        ("Asia/Singapore", ["16:00–16:12", "16:12–17:10"], "Lyon time, Asia/Singapore, UTC+8"),
        ("America/Bogota", ["03:00–03:12", "03:12–04:10"], "Lyon time, America/Bogota, UTC-5"),
    ],
)
def test_the_demo_events_agenda_in_three_zones(
    tmp_path: Path, tz: str, times: list[str], words: str
) -> None:
    store, sid = timed_demo(tmp_path / "home", tz)
    with store.open_session(sid, read_only=True) as ss:
        snap = ss.snapshot(NAMES)
    assert snap.event.tz == tz
    text = minutes_text(snap)
    assert agenda_times(text)[:2] == times
    assert f"- **Times:** {words}\n" in text
    assert "| # | Item | Planned | Actual | Time |" in text
    assert "UTC)" not in text.split("## 2.")[1]  # no time left in UTC
    # each the same instant, read with the zone database
    first = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC).astimezone(ZoneInfo(tz))
    assert times[0].startswith(first.strftime("%H:%M"))


@pytest.mark.parametrize("lang", ["fr", "es", "ar"])
def test_the_zone_is_named_in_every_language(tmp_path: Path, lang: str) -> None:
    store, sid = timed_demo(tmp_path / "home", "Europe/Paris")
    with store.open_session(sid, read_only=True) as ss:
        text = minutes_text(ss.snapshot(NAMES), lang=lang)
    expected = {
        "fr": "heure de Lyon, Europe/Paris, CET/CEST",
        "es": "hora de Lyon, Europe/Paris, CET/CEST",
        "ar": "توقيت Lyon، Europe/Paris، CET/CEST",
    }[lang]
    assert expected in text
    assert agenda_times(text)[0].startswith("09:00")


def test_a_conference_across_the_end_of_summer_time(tmp_path: Path) -> None:
    """Four days in Lyon across the last Sunday of October 2026 (the 25th, 03:00 CEST ->
    02:00 CET): every time keeps its meaning on both sides and says which it is."""
    import sessions as plans

    store = LocalStore(tmp_path / "home")
    event = store.create_event(
        "Autumn 2026", venue="Lyon", starts="2026-10-23", ends="2026-10-26", tz="Europe/Paris"
    )
    paris = ZoneInfo("Europe/Paris")
    snaps = []
    for day, region in ((24, "europe"), (26, "africa")):
        opened = dt.datetime(2026, 10, day, 9, 0, tzinfo=paris)  # 09:00 in the room, both days
        agenda = plans.plan_for_region(region).to_agenda()
        session = store.create_session(
            event.id, region, f"Round table {day}", agenda, date=f"2026-10-{day}"
        )
        with store.open_session(session.id) as ss:
            target = ss.records("agenda_item")[0]
            ss.update(
                "agenda_item",
                target.id,
                started_at=opened.astimezone(dt.UTC).isoformat(),
                ended_at=(opened + dt.timedelta(minutes=10)).astimezone(dt.UTC).isoformat(),
            )
            snaps.append(ss.snapshot(NAMES))
    saturday, monday = (agenda_times(minutes_text(s))[0] for s in snaps)
    assert saturday == "09:00 CEST–09:10 CEST"  # 07:00 UTC
    assert monday == "09:00 CET–09:10 CET"  # 08:00 UTC
    assert snaps[0].agenda[0].started_at.startswith("2026-10-24T07:00")  # stored in UTC
    assert snaps[1].agenda[0].started_at.startswith("2026-10-26T08:00")
    assert "- **Times:** Lyon time, Europe/Paris, CET/CEST" in minutes_text(snaps[0])
    report = report_text(
        snaps[0].event,
        snaps,
        load_roster(),
        as_of=dt.datetime(2026, 10, 26, 17, 0, tzinfo=dt.UTC),
        last_sync={
            snaps[0].session.id: "2026-10-24T16:30:00+00:00",
            snaps[1].session.id: "2026-10-26T16:30:00+00:00",
        },
    )
    assert "- **As of:** 26 October 2026, 18:00 CET" in report
    assert "24 October 2026, 18:30 CEST" in report and "26 October 2026, 17:30 CET" in report
    # a one-day meeting away from the change: plain times, the header names the zone
    clock = VenueClock("Europe/Paris", days=["2026-11-25"])
    assert not clock.marked
    assert clock.hm(dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)) == "09:00"


# -- the wire rule -------------------------------------------------------------------------------


class OldSecretariat:
    """A real uvicorn on 127.0.0.1 with the previous protocol's validator: it speaks version 1
    (``parse_push_body(..., speaks=1)``), so it knows no ``event.tz``."""

    def __init__(self, event_id: str) -> None:
        self.event_id = event_id
        self.ops: dict[str, dict] = {}
        self.refusals: list[str] = []

    async def __call__(self, scope, receive, send) -> None:
        assert scope["type"] == "http"
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, body = 404, {"detail": "not found"}
        if scope["path"] == "/v1/whoami":
            status, body = 200, {"protocol": 1, "event_id": self.event_id, "event_name": "Conf",
                                 "regions": ["*"], "label": "old"}  # fmt: skip
        elif scope["path"].endswith("/ops") and scope["method"] == "POST":
            data = json.loads(raw)
            try:
                ops = protocol.parse_push_body(data, speaks=1)
            except protocol.ProtocolError as exc:
                self.refusals.append(str(exc))
                status, body = 422, {"detail": str(exc)}
            else:
                fresh = [o.op_id for o in ops if o.op_id not in self.ops]
                self.ops.update({o.op_id: o.to_dict() for o in ops})
                status, body = 200, {"protocol": 1, "accepted": fresh, "duplicates": []}
        elif scope["path"].endswith("/ops"):
            status, body = 200, {"ops": [], "next": 0, "more": False}
        out = json.dumps(body).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(out))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": out})


def test_the_new_field_is_refused_by_the_previous_validator_and_kept_local(
    tmp_path: Path,
) -> None:
    import threading

    import uvicorn

    from roundtable.sync import REJECTED_FILE, SyncClient

    store = LocalStore(tmp_path / "laptop")
    event = store.create_event("Conf", venue="Lyon", tz="Europe/Paris")
    import sessions as plans

    agenda = plans.plan_for_region("europe").to_agenda()
    store.create_session(event.id, "europe", "Europe", agenda, date="2026-11-25")
    tz_ops = [o for _, _, path in store.units() for o in _outbox(store, path)
              if (o.kind, o.field) == ("event", "tz")]  # fmt: skip
    (tz_op,) = tz_ops
    # the previous version's validator refuses the field, in a body of either version
    with pytest.raises(protocol.ProtocolError, match=r"protocol 2 is not supported .*speaks 1\)"):
        protocol.parse_push_body(protocol.push_body([tz_op], "lap", version=2), speaks=1)
    with pytest.raises(protocol.ProtocolError, match=r"ops\[0\]: unknown field 'tz' for event"):
        protocol.parse_push_body(protocol.push_body([tz_op], "lap", version=1), speaks=1)

    app = OldSecretariat(event.id)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive()
        thread.join(0.01)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    try:
        pending = store.pending_count()
        first = asyncio.run(SyncClient(store, url, "token", read_timeout=5).sync_once())
        second = asyncio.run(SyncClient(store, url, "token", read_timeout=5).sync_once())
    finally:
        server.should_exit = True
        thread.join(20)
    assert first.ok and second.ok, (first.error, second.error)
    # everything else went, in version 1; the zone stayed on the laptop, pending, not rejected
    assert app.refusals == []
    # (and the session's number, issue 23's field of version 4)
    assert first.pushed == pending - 2 and tz_op.op_id not in app.ops
    assert store.pending_count() == 2 and first.kept_local == 2 == second.kept_local
    assert not (store.home / REJECTED_FILE).exists() and first.rejected == 0
    # said once
    assert first.notice == (
        "2 changes kept on this laptop: the secretariat speaks sync protocol 1, which does not "
        "know event.tz, session.number; they go once it is upgraded"
    )
    assert first.notice in first.summary()
    assert second.notice is None
    assert store.find_event("Conf").tz == "Europe/Paris"  # type: ignore[union-attr]


def _outbox(store: LocalStore, path) -> list:
    unit, opened = store.with_unit(path)
    try:
        return list(unit.outbox())
    finally:
        store.release(unit, opened)


def test_a_first_version_laptop_is_answered_in_its_version(live_server) -> None:
    """The server accepts older laptops: asked nothing, it answers in version 1 and leaves
    out the ops of fields version 1 does not know; asked 2, it gives them."""
    import httpx

    event_id = live_server.create_event("Conf", venue="Lyon", tz="Europe/Paris")
    token = live_server.token(event_id)
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=live_server.url, headers=auth, timeout=10) as client:
        assert client.get("/v1/whoami").json()["protocol"] == 1
        assert client.get("/v1/whoami", params={"protocol": 2}).json()["protocol"] == 2
        assert client.get("/v1/whoami", params={"protocol": 3}).json()["protocol"] == 3
        assert client.get("/v1/whoami", params={"protocol": 4}).json()["protocol"] == 4
        assert client.get("/v1/whoami", params={"protocol": 5}).json()["protocol"] == 5
        assert client.get("/v1/whoami", params={"protocol": 9}).json()["protocol"] == 5
        old = client.get(f"/v1/events/{event_id}/ops").json()
        new = client.get(f"/v1/events/{event_id}/ops", params={"protocol": 2}).json()
        assert "protocol" not in old and new["protocol"] == 2
        assert {o["field"] for o in new["ops"]} - {o["field"] for o in old["ops"]} == {"tz"}
        assert old["next"] == new["next"]  # the cursor moves past what was left out
        (listed,) = client.get("/v1/events").json()["events"]
        assert listed["tz"] == "Europe/Paris"
        # a first-version laptop's push is still taken
        from roundtable.model import HlcClock, Op, new_id

        clock = HlcClock("lap-old")
        h = clock.now()
        op = Op(new_id(), event_id, "", event_id, "event", "venue", "Lyon Centre",
                h.encode(), h.device)  # fmt: skip
        body = protocol.push_body([op], "lap-old", version=1)
        answer = client.post(
            f"/v1/events/{event_id}/ops",
            json=body,
            headers={"Idempotency-Key": "old-1"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["protocol"] == 1 and answer.json()["accepted"] == [op.op_id]


# -- every face agrees ---------------------------------------------------------------------------


async def test_the_app_the_cli_the_api_and_the_console_agree(live_server, capsys) -> None:
    """One session of an event held in Singapore, read by the same reader (participants, the
    token's ceiling) on every face: the same agenda times, in Singapore time."""
    import os

    import httpx

    from roundtable.app import RoundtableApp
    from roundtable.config import Settings
    from roundtable.screens.minutes import minutes_markdown
    from roundtable.sync import SyncClient

    home = Path(os.environ["ROUNDTABLE_HOME"])
    event_id = live_server.create_event("Asia 2026", venue="Singapore", tz="Asia/Singapore")
    token = live_server.token(event_id)
    store = LocalStore(home)
    pulled = await SyncClient(store, live_server.url, token).sync_once()
    assert pulled.ok, pulled.error
    assert store.find_event("Asia 2026").tz == "Asia/Singapore"  # type: ignore[union-attr]
    assert cli.main(["new", "--region", "asia-pacific", "--event", "Asia 2026",
                     "--date", "2026-11-25"]) == 0  # fmt: skip
    sid = capsys.readouterr().out.strip()
    with store.open_session(sid) as ss:
        item = ss.records("agenda_item")[0]
        ss.update("agenda_item", item.id, started_at="2026-11-25T01:00:00+00:00",
                  ended_at="2026-11-25T01:12:00+00:00")  # fmt: skip
    pushed = await SyncClient(store, live_server.url, token).sync_once()
    assert pushed.ok and pushed.pushed > 0, pushed.error
    want = "09:00–09:12"  # 01:00 UTC in Singapore (UTC+8)

    assert cli.main(["export", sid]) == 0
    from_cli = capsys.readouterr().out
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as client:
        api = await client.get(
            f"/v1/sessions/{sid}/minutes", headers={"Authorization": f"Bearer {token}"}
        )
        signed = await client.post(
            "/sign-in", data={"token": token, "next": "/"}, headers={"Origin": live_server.url}
        )
        assert signed.status_code == 303
        console = await client.get(f"/sessions/{sid}")
    assert api.status_code == 200 and console.status_code == 200
    clock = FakeNow(dt.datetime(2026, 11, 25, 1, 30, tzinfo=dt.UTC).timestamp())
    app = RoundtableApp(home=home, session_id=sid, clock=clock, settings=Settings(),
                        sync_enabled=False)  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        from_app = minutes_markdown(app)
        status_clock = str(app.screen.query_one(".status-clock").render())
    for face, text in (("cli", from_cli), ("api", api.text), ("app", from_app)):
        assert agenda_times(text)[0] == want, face
        assert "Singapore time, Asia/Singapore, UTC+8" in text, face
    assert want in console.text and "Singapore time, Asia/Singapore, UTC+8" in console.text
    assert status_clock == "09:30 UTC+8"
    assert agenda_times(from_cli) == agenda_times(api.text) == agenda_times(from_app)


class FakeNow:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("tz", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_a_relative_due_date_counts_from_the_venues_day(tz: str, capsys) -> None:
    """UTC+14 and UTC-11 are never on the same date: `roundtable add` counts `due:+1d` from
    the venue's, as the app does, whatever this laptop's date."""
    import os

    assert cli.main(["new", "--region", "europe", "--event", tz, "--tz", tz]) == 0
    sid = capsys.readouterr().out.strip()
    assert cli.main(["add", sid, "/action Send the list owner:@FR due:+1d"]) == 0
    with LocalStore(Path(os.environ["ROUNDTABLE_HOME"])).open_session(sid) as ss:
        (entry,) = ss.records("entry")
    venue_today = dt.datetime.now(ZoneInfo(tz)).date()
    assert entry.due == (venue_today + dt.timedelta(days=1)).isoformat()


def test_a_laptop_joining_the_secretariats_event_never_writes_its_zone(
    live_server, home: Path, capsys
) -> None:
    """Found in use: a facilitator connected with a region's token ran ``roundtable new
    --event`` on the secretariat's event, created without ``--tz`` (its zone "" is UTC).  The
    laptop took that for an event older than zones and wrote its own zone into the event's
    record, which a region's token may not change: the change was refused at every sync and
    sat in the rejected list.  The event keeps the secretariat's zone; a zone given that
    differs is refused in one line, naming it as UTC."""
    event_id = live_server.create_event("Lyon 2026")  # no --tz: UTC
    token = live_server.token(event_id, ["europe"])
    assert cli.main(["connect", live_server.url, "--token", token]) == 0
    capsys.readouterr()
    assert cli.main(["new", "--region", "europe", "--event", "Lyon 2026", "--title", "E"]) == 0
    assert cli.main(["new", "--region", "europe", "--event", "Lyon 2026", "--tz", "UTC"]) == 0
    capsys.readouterr()
    assert cli.main(["new", "--region", "europe", "--event", "Lyon 2026", "--tz",
                     "Europe/Paris"]) != 0  # fmt: skip
    assert capsys.readouterr().err == (
        "roundtable: --tz: event 'Lyon 2026' is held in UTC, not Europe/Paris; leave the zone "
        "as it is or name another event\n"
    )
    store = LocalStore(home)
    assert [e.tz for e in store.events()] == [""] and len(store.sessions()) == 2
    store.close()
    assert cli.main(["sync"]) == 0
    out = capsys.readouterr()
    assert "rejected" not in out.out + out.err
    assert not (home / "sync-rejected.json").exists()
    zones = live_server.query(
        "SELECT value FROM ops WHERE record_id = ? AND field = 'tz'", (event_id,)
    )
    assert zones == [('""',)]  # the secretariat's, alone


async def test_the_new_session_dialog_on_the_secretariats_event_shows_utc_and_creates(
    live_server, home: Path
) -> None:
    """The same event in the app: the dialog shows the zone the secretariat's event is held
    in (UTC, its "" read as every face reads it), not this laptop's, so Create neither
    refuses nor writes the event's record; the sync that follows rejects nothing."""
    event_id = live_server.create_event("Lyon 2026")  # no --tz: UTC
    token = live_server.token(event_id, ["europe"])
    # the commands run their own event loop: in a thread, beside the test's
    assert await asyncio.to_thread(cli.main, ["connect", live_server.url, "--token", token]) == 0
    app = app_on(home)
    async with app.run_test(size=(120, 40)) as pilot:
        modal = await new_session_dialog(app, pilot)
        modal.query_one("#new-event").value = "Lyon 2026"
        await pilot.pause()
        assert modal.query_one("#new-tz").value == "UTC"
        modal.query_one("#new-region").value = "europe"
        await pilot.click("#create")
        await pilot.pause()
        assert app.session_store is not None, str(modal.query_one("#new-error").render())
        assert [e.tz for e in app.local.events()] == [""]
    assert await asyncio.to_thread(cli.main, ["sync"]) == 0
    assert not (home / "sync-rejected.json").exists()
    zones = live_server.query(
        "SELECT value FROM ops WHERE record_id = ? AND field = 'tz'", (event_id,)
    )
    assert zones == [('""',)]
