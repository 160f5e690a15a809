"""Issue 19, finding 1: one outward gate.  Every route of the secretariat's app, enumerated from
its router (``app.routes``, not a hand-made list), is fetched by three readers — a GREEN-ceiling
Africa token, an AMBER-ceiling Africa token and a Europe token — over seeded records carrying a
marker per label (CLEAR, GREEN, AMBER, AMBER+STRICT; TLP:RED never reaches a server) and per
region: entries, action reviews and earlier conferences' actions, session titles and laptop
labels.  No answer may hold a marker above the reader's ceiling or of another region.  API
routes are fetched with the bearer token, console routes signed in with a cookie, in process
(ASGI), on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route
from test_console import _ops, console_session

from roundtable.model import (
    REGIONS,
    ActionReview,
    Entry,
    HlcClock,
    Op,
    new_id,
)
from roundtable.protocol import push_body

LABELS = {"clear": "CLEAR", "green": "GREEN", "amber": "AMBER", "amber+strict": "AMBERSTRICT"}
SEEDED = {"africa": ("AFRICA", ["GH", "NG"]), "europe": ("EUROPE", ["RS", "FR"])}
# routes that write rather than read: the push (what it answers is op ids) and the sign-in
# forms.  A new route that is not a GET fails the test until it is classified here.
WRITES = {("POST", "/v1/events/{event_id}/ops"), ("POST", "/sign-in"), ("POST", "/sign-out")}
MOUNTS = {"/static"}  # the console's CSS, script and icon: files of the package


def marker(what: str, label: str, region: str) -> str:
    return f"ZZ{what}{LABELS[label]}{SEEDED[region][0]}ZZ"


@dataclass
class World:
    client: TestClient
    event_id: str
    earlier_event: str
    sessions: dict[str, str] = field(default_factory=dict)  # region -> this event's session
    earlier_sessions: dict[str, str] = field(default_factory=dict)
    records: list[str] = field(default_factory=list)
    readers: dict[str, str] = field(default_factory=dict)  # name -> token


def _push(client: TestClient, event_id: str, token: str, ops: list[Op], device: str, label: str):
    answer = client.post(
        f"/v1/events/{event_id}/ops",
        json=push_body(ops, device, label),
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert answer.status_code == 200, answer.text


def seed(db: str | Path) -> World:
    from roundtable.secretariat import create_app, create_event, issue_token

    earlier = create_event(db, "Heads of Bureau Conference 2025", starts="2025-11-20")
    event_id = create_event(db, "Heads of Bureau Conference 2026", starts="2026-11-29")
    app = create_app(db)
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    world = World(client, event_id, earlier)
    old_actions: dict[str, list[Entry]] = {}
    for region, (name, codes) in SEEDED.items():
        # the earlier conference: one action per label, carried to this one
        token = issue_token(db, earlier, [region], label=f"{region} 2025")
        clock = HlcClock(f"lap-{region}-2025")
        s, _item, ops = console_session(earlier, region, f"ZZOLDTITLE{name}ZZ", clock)
        world.earlier_sessions[region] = s.id
        actions = []
        for label in LABELS:
            e = Entry(
                id=new_id(),
                session_id=s.id,
                entry_kind="action",
                text=marker("OLD", label, region),
                delegations=[codes[0]],
                owner=codes[0],
                status="open",
                created_at="2025-11-20T09:00:00+00:00",
                tlp=label,
            )
            actions.append(e)
            ops += _ops(e, earlier, s.id, clock)
        old_actions[region] = actions
        world.records += [a.id for a in actions]
        _push(client, earlier, token, ops, clock.device, f"ZZOLDDEVICE{name}ZZ")
        # this conference: the room's session, entries of every kind and label, reviews
        token = issue_token(db, event_id, [region], label=f"{region} room")
        clock = HlcClock(f"lap-{region}")
        s, _item, ops = console_session(event_id, region, f"ZZTITLE{name}ZZ", clock)
        world.sessions[region] = s.id
        for n, (label, kind) in enumerate(
            itertools.product(LABELS, ("issue", "need", "action", "decision", "note"))
        ):
            e = Entry(
                id=new_id(),
                session_id=s.id,
                entry_kind=kind,
                text=f"{marker('ENTRY', label, region)} {kind}",
                delegations=[*codes, "JP"] if label == "amber+strict" else list(codes),
                owner=codes[0] if kind == "action" else "",
                due="2026-12-15" if kind == "action" else "",
                status="open" if kind == "action" else "",
                created_at=f"2026-11-29T09:{10 + n:02d}:00+00:00",
                tlp=label,
            )
            world.records.append(e.id)
            ops += _ops(e, event_id, s.id, clock)
        for label, action in zip(LABELS, old_actions[region], strict=True):
            r = ActionReview(
                id=new_id(),
                session_id=s.id,
                action=action.id,
                action_event=earlier,
                action_session=world.earlier_sessions[region],
                status="in_progress",
                note=marker("REVIEW", label, region),
                reviewed_at="2026-11-29T10:00:00+00:00",
                text=marker("REVIEWTEXT", label, region),
                owner=codes[0],
                tlp=label,
            )
            world.records.append(r.id)
            ops += _ops(r, event_id, s.id, clock)
        world.records += [s.id]
        _push(client, event_id, token, ops, clock.device, f"ZZDEVICE{name}ZZ")
    world.readers = {
        "green-africa": issue_token(db, event_id, ["africa"], "reader", max_tlp="green"),
        "amber-africa": issue_token(db, event_id, ["africa"], "reader", max_tlp="amber"),
        "europe": issue_token(db, event_id, ["europe"], "reader"),
    }
    return world


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    if request.param == "sqlite":
        db: str | Path = tmp_path_factory.mktemp("gate") / "secretariat.db"
    else:
        db = request.getfixturevalue("pg_cluster").new_database()
    w = seed(db)
    try:
        yield w
    finally:
        w.client.app.state.database.close()  # type: ignore[attr-defined]


def forbidden(reader: str) -> list[str]:
    """The markers this reader must never be given."""
    ceiling, region = {
        "green-africa": ("green", "africa"),
        "amber-africa": ("amber", "africa"),
        "europe": ("amber+strict", "europe"),
    }[reader]
    rank = list(LABELS)
    out = []
    for what in ("ENTRY", "OLD", "REVIEW", "REVIEWTEXT"):
        for label in LABELS:
            for other in SEEDED:
                if other != region or rank.index(label) > rank.index(ceiling):
                    out.append(marker(what, label, other))
    for other, (name, _codes) in SEEDED.items():
        if other != region:
            out += [f"ZZTITLE{name}ZZ", f"ZZOLDTITLE{name}ZZ", f"ZZDEVICE{name}ZZ"]
            out += [f"ZZOLDDEVICE{name}ZZ"]
    return out


def _values(world: World, name: str, path: str) -> list[str]:
    """Every value a path parameter is tried with."""
    sessions = [*world.sessions.values(), *world.earlier_sessions.values()]
    codes = [c for _n, cs in SEEDED.values() for c in cs]
    return {
        "event_id": [world.event_id, world.earlier_event],
        "session_id": sessions,
        "region": list(REGIONS),
        "code": codes,
        "fmt": ["md", "html"],
        "record_id": world.records,
    }[name]


def _queries(world: World, route: APIRoute) -> list[dict[str, str]]:
    """The query strings a route is tried with: each document format, the asking laptop's
    view of a pull, a brief focused on each session, the earlier event's actions."""
    names = {p.name for p in route.dependant.query_params}
    variants: list[dict[str, str]] = [{}]
    if "format" in names:
        variants = [{"format": "md"}, {"format": "html"}]
    if "exclude" in names:
        variants = [{}, {"exclude": "lap-reader"}]
    if "session" in names:
        variants = [{}, *({"session": s} for s in world.sessions.values())]
    if "before" in names:
        variants = [{}, {"before": world.earlier_event}, {"open": "true"}]
    if "inline" in names:
        variants = [{}, {"inline": "1"}]
    return variants


def urls(world: World, route: APIRoute | Route) -> Iterator[str]:
    params = re.findall(r"{(\w+)}", route.path)
    for values in itertools.product(*(_values(world, p, route.path) for p in params)):
        path = route.path
        for p, v in zip(params, values, strict=True):
            path = path.replace("{" + p + "}", v)
        queries = _queries(world, route) if isinstance(route, APIRoute) else [{}]
        for q in queries:
            yield path + ("?" + "&".join(f"{k}={v}" for k, v in q.items()) if q else "")


def flat_routes(routes, prefix: str = "") -> Iterator:
    """The routes of a router; newer FastAPI keeps an included router as one route holding
    the original (``_IncludedRouter``), whose routes are walked with its prefix."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from flat_routes(inner.routes, prefix + getattr(context, "prefix", ""))
        elif prefix:
            assert isinstance(route, Route)
            yield Route(prefix + route.path, route.endpoint, methods=list(route.methods or ()))
        else:
            yield route


def read_routes(app) -> list[APIRoute | Route]:
    """The app's routes that read, straight from its router; writes and mounts are checked
    against the lists above."""
    out = []
    for route in flat_routes(app.routes):
        if isinstance(route, Mount):
            assert route.path in MOUNTS, f"an unknown mount {route.path}: classify it"
            continue
        assert isinstance(route, Route), route
        methods = (route.methods or set()) - {"HEAD"}
        for method in methods - {"GET"}:
            assert (method, route.path) in WRITES, f"{method} {route.path}: classify it"
        if "GET" in methods:
            out.append(route)
    return out


def _fetch_all(world: World, reader: str) -> dict[str, tuple[int, str]]:
    token = world.readers[reader]
    app = world.client.app
    api = TestClient(app, headers={"Authorization": f"Bearer {token}"}, follow_redirects=False)
    console = TestClient(app, follow_redirects=False)
    signed = console.post(
        "/sign-in", data={"token": token, "next": "/"}, headers={"Origin": "http://testserver"}
    )
    assert signed.status_code == 303, signed.text
    answers = {}
    for route in read_routes(app):
        client = api if route.path.startswith("/v1/") else console
        for url in urls(world, route):
            got = client.get(url)
            assert got.status_code < 500, (url, got.text[:300])
            answers[url] = (got.status_code, got.text)
    return answers


@pytest.mark.parametrize("reader", ["green-africa", "amber-africa", "europe"])
def test_no_route_gives_a_reader_what_is_above_its_ceiling_or_of_another_region(
    world: World, reader: str
) -> None:
    answers = _fetch_all(world, reader)
    leaks = [
        f"{url} ({status}): {m}"
        for url, (status, body) in answers.items()
        for m in forbidden(reader)
        if m in body
    ]
    assert not leaks, f"{len(leaks)} leaks, e.g.:\n" + "\n".join(leaks[:15])
    # and the walk saw what the reader may see, on the console and the API alike
    everything = "".join(body for _status, body in answers.values())
    region = "europe" if reader == "europe" else "africa"
    ceiling = {"green-africa": "green", "amber-africa": "amber", "europe": "amber+strict"}[reader]
    for what in ("ENTRY", "OLD", "REVIEW"):
        assert marker(what, ceiling, region) in everything, (what, ceiling)
    pages = [u for u, (s, b) in answers.items() if s == 200 and not u.startswith("/v1/")]
    minutes = f"/sessions/{world.sessions[region]}/minutes.md"
    assert minutes in pages and marker("ENTRY", ceiling, region) in answers[minutes][1]
    assert len(answers) > 100
    if reader != "europe":  # Japan is named in the AMBER+STRICT entries alone
        region_page = answers["/regions/africa"][1]
        assert "Ghana" in region_page and "/delegations/JP" not in region_page


def test_routes_read_records_and_render_documents_only_through_the_gate() -> None:
    """No route reads ops or renders a document itself: those calls take the reader in
    ``secretariat/gate.py`` alone."""
    routes = Path(__file__).resolve().parent.parent / "roundtable" / "secretariat" / "routes"
    reads = re.compile(
        r"(?<!gate)\.(event_ops|pull_page|pull|history|region_action_ops|labels|last_received)\(|"
        r"\b(render|render_markdown|minutes_text|brief_text|report_text|build_report|"
        r"snapshots_from_docs|merge_ops)\("
    )
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sorted(routes.glob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if reads.search(line)
    ]
    assert found == [], found
