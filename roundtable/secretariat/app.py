"""The secretariat's HTTP API (FastAPI), versioned under ``/v1``.

Every data endpoint needs a bearer token scoped to one event and some regions.  Push bodies are
read raw and validated by ``protocol.parse_push_body`` (the same checks as the client), so a bad
batch gets one line saying what and where, and nothing of it is written.
"""

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match

from roundtable import protocol
from roundtable.model import REGIONS, Op
from roundtable.secretariat import db
from roundtable.secretariat.records import snapshots_from_docs

API_VERSION = "v1"

# ---------------------------------------------------------------------------------------------
# Wire models (what /openapi.json documents)
# ---------------------------------------------------------------------------------------------


class ErrorBody(BaseModel):
    detail: str = Field(description="one line: what was wrong and where")


class Health(BaseModel):
    status: Literal["ok"]
    protocol: int


class WhoAmI(BaseModel):
    protocol: int = protocol.PROTOCOL_VERSION
    event_id: str
    event_name: str
    regions: list[str]
    label: str


class EventOut(BaseModel):
    event_id: str
    name: str
    venue: str
    starts: str
    ends: str


class EventList(BaseModel):
    events: list[EventOut]


class SessionOut(BaseModel):
    session_id: str
    event_id: str
    region: str
    title: str
    status: str
    date: str


class SessionList(BaseModel):
    sessions: list[SessionOut]


class PushResult(BaseModel):
    protocol: int = protocol.PROTOCOL_VERSION
    accepted: list[str]
    duplicates: list[str]


class OpOut(BaseModel):
    seq: int
    op_id: str
    event_id: str
    session_id: str
    record_id: str
    kind: str
    field: str
    value: Any = Field(json_schema_extra={"nullable": True})
    hlc: str
    device: str
    base: list[str]


class PullPage(BaseModel):
    protocol: int = protocol.PROTOCOL_VERSION
    ops: list[OpOut]
    next: int = Field(description="the cursor to ask from next time")
    more: bool


class Version(OpOut):
    received_at: float


class History(BaseModel):
    record_id: str
    versions: list[Version]


_UUID = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_HLC = "^[0-9]{15}-[0-9]{6}-[A-Za-z0-9_.-]{1,64}$"
_OP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["op_id", "event_id", "record_id", "kind", "field", "value", "hlc", "device"],
    "additionalProperties": False,
    "properties": {
        "op_id": {"type": "string", "pattern": _UUID},
        "event_id": {"type": "string", "pattern": _UUID},
        "session_id": {"type": "string"},
        "record_id": {"type": "string", "pattern": _UUID},
        "kind": {"type": "string", "enum": list(protocol.RECORD_KINDS)},
        "field": {"type": "string"},
        "value": {},
        "hlc": {"type": "string", "pattern": _HLC},
        "device": {"type": "string"},
        "base": {"type": "array", "items": {"type": "string"}, "maxItems": 64},
    },
}
_PUSH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["protocol", "ops"],
    "properties": {
        "protocol": {"type": "integer", "enum": [protocol.PROTOCOL_VERSION]},
        "device": {"type": "string"},
        "ops": {
            "type": "array",
            "minItems": protocol.MIN_BATCH,
            "maxItems": protocol.MAX_BATCH,
            "items": _OP_SCHEMA,
        },
    },
}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {c: {"model": ErrorBody} for c in codes}


_AUTH_ERRORS = _errors(401, 403, 413, 422)

# ---------------------------------------------------------------------------------------------
# Middleware: body size limit, OPTIONS and 405 with the right Allow header
# ---------------------------------------------------------------------------------------------


class _Guard:
    """Pure ASGI middleware: refuses bodies over the limit (413) before the app reads them, and
    answers OPTIONS / unsupported methods itself, listing every method the path takes (FastAPI
    alone would list only the first route matching the path)."""

    def __init__(self, app: Any, *, max_body_bytes: int, routes: Callable[[], list]) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.routes = routes

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        send = _timed(send, started)
        method = scope["method"]
        allowed: set[str] = set()
        matched = False
        for route in self.routes():
            methods = getattr(route, "methods", None)
            if not methods:
                continue
            match, _ = route.matches({**scope, "method": next(iter(methods))})
            if match == Match.FULL:
                matched = True
                allowed |= set(methods)
        if matched:
            allowed.add("OPTIONS")
            allow = ", ".join(sorted(allowed))
            if method == "OPTIONS":
                await _send(send, 204, b"", {"allow": allow})
                return
            if method not in allowed:
                detail = f"method {method} not allowed on {scope['path']}; allowed: {allow}"
                await _send_json(send, 405, detail, {"allow": allow})
                return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                await _send_json(send, 400, "header Content-Length: not a number")
                return
            if n > self.max_body_bytes:
                await _send_json(send, 413, _too_big(n, self.max_body_bytes))
                return
        if method in ("POST", "PUT", "PATCH"):
            chunks = []
            size = 0
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body_bytes:
                    await _send_json(send, 413, _too_big(size, self.max_body_bytes))
                    return
                chunks.append(chunk)
                more = message.get("more_body", False)
            body = b"".join(chunks)
            sent = False

            async def replay() -> dict:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)


def _timed(send: Callable, started: float) -> Callable:
    """``send`` that adds a Server-Timing header (time spent in the server, in ms), so a load
    test can tell the server's share of a request's latency from the client's."""

    async def timed(message: dict) -> None:
        if message["type"] == "http.response.start":
            ms = (time.perf_counter() - started) * 1000
            timing = (b"server-timing", f"app;dur={ms:.1f}".encode())
            message = {**message, "headers": [*message.get("headers", ()), timing]}
        await send(message)

    return timed


def _too_big(n: int, limit: int) -> str:
    return f"body: {n}+ bytes is over the limit of {limit} bytes; send smaller batches"


async def _send(send: Callable, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def _send_json(send: Callable, status: int, detail: str, headers=None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await _send(send, status, body, {"content-type": "application/json", **(headers or {})})


# ---------------------------------------------------------------------------------------------
# The app
# ---------------------------------------------------------------------------------------------


def _one_line(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "request: invalid"
    err = errors[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "request"
    return f"{where}: {err.get('msg', 'invalid')}"[:300]


class _Api:
    """The endpoints' shared state: the database path and the clock."""

    def __init__(self, db_path: Path, now: Callable[[], float]) -> None:
        self.db_path = db_path
        self.now = now

    def conn(self) -> sqlite3.Connection:
        return db.connect(self.db_path)


def create_app(
    db_path: Path | str,
    *,
    max_body_bytes: int = 1_000_000,
    now: Callable[[], float] = time.time,
) -> FastAPI:
    """The secretariat's ASGI app over the SQLite file ``db_path`` (created if missing)."""
    db_path = Path(db_path)
    db.init_db(db_path)
    api = _Api(db_path, now)
    app = FastAPI(
        title="roundtable secretariat",
        version="1.0",
        description="Central API of the regional round tables: push and pull ops, minutes, "
        "the consolidated report.",
    )
    bearer = HTTPBearer(auto_error=False, description="a token issued by the secretariat")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(exc)}, status_code=422)

    def authorize(
        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> db.TokenScope:
        unauthorized = {"WWW-Authenticate": "Bearer"}
        if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
            raise HTTPException(401, "Authorization: a bearer token is required", unauthorized)
        conn = api.conn()
        try:
            scope = db.lookup_token(conn, creds.credentials)
        finally:
            conn.close()
        if scope is None:
            raise HTTPException(401, "Authorization: the token is not valid", unauthorized)
        return scope

    Scope = Annotated[db.TokenScope, Depends(authorize)]

    def check_event(scope: db.TokenScope, event_id: str) -> None:
        if event_id != scope.event_id:
            raise HTTPException(403, f"event {event_id[:40]}: outside this token's event")

    # -- public ------------------------------------------------------------------------------

    @app.get("/v1/health", response_model=Health, tags=["meta"])
    def health() -> Health:
        """Liveness, without auth: the client uses it to tell offline from refused."""
        return Health(status="ok", protocol=protocol.PROTOCOL_VERSION)

    # -- scope -------------------------------------------------------------------------------

    @app.get("/v1/whoami", response_model=WhoAmI, responses=_errors(401), tags=["meta"])
    def whoami(scope: Scope) -> WhoAmI:
        conn = api.conn()
        try:
            found = db.find_event(conn, scope.event_id)
        finally:
            conn.close()
        return WhoAmI(
            event_id=scope.event_id,
            event_name=found[1] if found else "",
            regions=list(scope.regions),
            label=scope.label,
        )

    def _event_out(conn: sqlite3.Connection, event_id: str, name: str) -> EventOut:
        rows = conn.execute(
            f"SELECT {db.OP_COLUMNS} FROM ops WHERE event_id = ? AND kind = 'event' ORDER BY seq",
            (event_id,),
        ).fetchall()
        docs = protocol.merge_ops(db.row_to_op(r) for r in rows)
        fields = docs.get(("event", event_id), {}).get("fields", {})
        return EventOut(
            event_id=event_id,
            name=fields.get("name") or name,
            venue=fields.get("venue", ""),
            starts=fields.get("starts", ""),
            ends=fields.get("ends", ""),
        )

    @app.get("/v1/events", response_model=EventList, responses=_errors(401), tags=["events"])
    def events(scope: Scope) -> EventList:
        """The events this token may see (one: its own)."""
        conn = api.conn()
        try:
            found = db.find_event(conn, scope.event_id)
            out = [_event_out(conn, *found)] if found else []
        finally:
            conn.close()
        return EventList(events=out)

    @app.get(
        "/v1/events/{event_id}/sessions",
        response_model=SessionList,
        responses=_errors(401, 403),
        tags=["events"],
    )
    def sessions(event_id: str, scope: Scope) -> SessionList:
        """Sessions of the event in the token's regions, with their current title and status."""
        check_event(scope, event_id)
        clause, args = db.scope_clause(scope)
        conn = api.conn()
        try:
            rows = conn.execute(
                f"SELECT {db.OP_COLUMNS} FROM ops WHERE event_id = ? AND kind = 'session' "
                f"AND {clause} ORDER BY seq",
                (event_id, *args),
            ).fetchall()
        finally:
            conn.close()
        docs = protocol.merge_ops(db.row_to_op(r) for r in rows)
        out = []
        for (_, sid), doc in sorted(docs.items()):
            f = doc["fields"]
            if f.get("deleted"):
                continue
            out.append(
                SessionOut(
                    session_id=sid,
                    event_id=event_id,
                    region=str(f.get("region", "")),
                    title=str(f.get("title", "")),
                    status=str(f.get("status", "planned")),
                    date=str(f.get("date", "")),
                )
            )
        return SessionList(sessions=out)

    # -- push / pull -------------------------------------------------------------------------

    @app.post(
        "/v1/events/{event_id}/ops",
        response_model=PushResult,
        responses={**_AUTH_ERRORS, **_errors(409, 415)},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _PUSH_SCHEMA}},
            }
        },
        tags=["sync"],
    )
    async def push(
        event_id: str,
        request: Request,
        scope: Scope,
        idempotency_key: Annotated[
            str, Header(alias="Idempotency-Key", min_length=1, max_length=100)
        ],
    ) -> PushResult:
        """Store a batch of ops, all or nothing.  Replaying a key returns the stored answer."""
        check_event(scope, event_id)
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise HTTPException(
                415, f"body: Content-Type must be application/json, got {media_type[:60]!r}"
            )
        raw = await request.body()
        digest = hashlib.sha256(raw).hexdigest()
        try:
            data = json.loads(raw)
        except UnicodeDecodeError:
            raise HTTPException(422, "body: not UTF-8") from None
        except RecursionError:
            raise HTTPException(422, "body: JSON nested too deeply") from None
        except json.JSONDecodeError as exc:
            raise HTTPException(
                422, f"body: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
            ) from None
        return await run_in_threadpool(_push_parsed, scope, event_id, idempotency_key, data, digest)

    def _push_parsed(
        scope: db.TokenScope, event_id: str, key: str, data: Any, digest: str
    ) -> PushResult:
        conn = api.conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                stored = conn.execute(
                    "SELECT response FROM idempotency WHERE key = ? AND token_hash = ?",
                    (key, scope.token_hash),
                ).fetchone()
                if stored:
                    saved = json.loads(stored[0])
                    if saved.get("request_sha256", digest) != digest:
                        raise HTTPException(
                            422,
                            "Idempotency-Key: already used for a different batch; a new batch "
                            "needs a new key",
                        )
                    conn.execute("COMMIT")
                    saved.pop("request_sha256", None)
                    return PushResult(**saved)
                try:
                    ops = protocol.parse_push_body(data, now_ms=int(api.now() * 1000))
                except protocol.ProtocolError as exc:
                    raise HTTPException(422, str(exc)[:500]) from None
                new_sessions = _check_batch(conn, scope, event_id, ops)
                conn.executemany(
                    "INSERT OR IGNORE INTO sessions (session_id, event_id, region) VALUES (?,?,?)",
                    [(sid, event_id, region) for sid, region in new_sessions.items()],
                )
                accepted = db.insert_ops(conn, ops, api.now())
                fresh = set(accepted)
                duplicates = list(dict.fromkeys(o.op_id for o in ops if o.op_id not in fresh))
                result = PushResult(accepted=accepted, duplicates=duplicates)
                saved = result.model_dump() | {"request_sha256": digest}
                conn.execute(
                    "INSERT INTO idempotency (key, token_hash, response, created) VALUES (?,?,?,?)",
                    (key, scope.token_hash, json.dumps(saved), api.now()),
                )
                conn.execute("COMMIT")
                return result
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            conn.close()

    @app.get(
        "/v1/events/{event_id}/ops",
        response_model=PullPage,
        responses=_errors(401, 403, 422),
        tags=["sync"],
    )
    def pull(
        event_id: str,
        scope: Scope,
        since: Annotated[int, Query(ge=0, le=2**62, description="last seq already seen")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    ) -> PullPage:
        """Ops after ``since`` in the token's scope, oldest first, one page."""
        check_event(scope, event_id)
        clause, args = db.scope_clause(scope)
        conn = api.conn()
        try:
            rows = conn.execute(
                f"SELECT {db.OP_COLUMNS} FROM ops WHERE event_id = ? AND seq > ? AND {clause} "
                "ORDER BY seq LIMIT ?",
                (event_id, since, *args, limit + 1),
            ).fetchall()
        finally:
            conn.close()
        more = len(rows) > limit
        rows = rows[:limit]
        ops = [db.row_to_dict(r) for r in rows]
        # already in the documented shape: skip re-validating up to 1,000 ops per page
        page = {"ops": ops, "next": rows[-1][0] if rows else since, "more": more}
        return JSONResponse(page)  # type: ignore[return-value]

    @app.get(
        "/v1/events/{event_id}/records/{record_id}/history",
        response_model=History,
        responses=_errors(401, 403, 404, 422),
        tags=["sync"],
    )
    def history(event_id: str, record_id: str, scope: Scope) -> History:
        """Every version of every field of a record ever pushed, oldest first."""
        check_event(scope, event_id)
        conn = api.conn()
        try:
            rows = conn.execute(
                f"SELECT {db.OP_COLUMNS}, received_at FROM ops WHERE event_id = ? "
                "AND record_id = ? ORDER BY seq",
                (event_id, record_id),
            ).fetchall()
            sids = {r[3] for r in rows if r[3]}
            regions = dict(
                conn.execute(
                    f"SELECT session_id, region FROM sessions WHERE session_id IN "
                    f"({','.join('?' * len(sids))})",
                    tuple(sids),
                ).fetchall()
            )
        finally:
            conn.close()
        if not rows:
            raise HTTPException(404, f"record {record_id[:40]}: no versions in this event")
        for sid in sids:
            if not scope.allows_region(regions.get(sid, "")):
                raise HTTPException(403, f"record {record_id}: outside this token's regions")
        versions = [Version(**db.row_to_dict(r), received_at=r[11]) for r in rows]
        return History(record_id=record_id, versions=versions)

    # -- documents ---------------------------------------------------------------------------

    def _countries() -> dict[str, Any]:
        from sessions.roster import load_roster

        return dict(load_roster())

    def _load_docs(conn: sqlite3.Connection, event_id: str, clause: str, args: list) -> dict:
        rows = conn.execute(
            f"SELECT {db.OP_COLUMNS} FROM ops WHERE event_id = ? AND {clause} ORDER BY seq",
            (event_id, *args),
        ).fetchall()
        return protocol.merge_ops(db.row_to_op(r) for r in rows)

    _DOC_RESPONSES = {
        200: {
            "content": {
                "text/markdown": {"schema": {"type": "string"}},
                "text/html": {"schema": {"type": "string"}},
            }
        },
        **_errors(401, 403, 404, 422),
    }

    @app.get(
        "/v1/sessions/{session_id}/minutes",
        response_class=Response,
        responses=_DOC_RESPONSES,
        tags=["documents"],
    )
    def minutes(
        session_id: str,
        scope: Scope,
        format: Literal["md", "html"] = "md",
    ) -> Response:
        """The session's minutes, rebuilt from every op received, by the client's renderer."""
        from roundtable import minutes as minutes_mod

        conn = api.conn()
        try:
            row = conn.execute(
                "SELECT event_id, region FROM sessions WHERE session_id = ?", (session_id,)
            ).fetchone()
            if row is None:
                raise HTTPException(404, f"session {session_id[:40]}: not on this server")
            if row[0] != scope.event_id or not scope.allows_region(row[1]):
                raise HTTPException(403, f"session {session_id}: outside this token's scope")
            docs = _load_docs(conn, row[0], "(session_id = '' OR session_id = ?)", [session_id])
        finally:
            conn.close()
        names = {code: c.name for code, c in _countries().items()}
        event, snaps = snapshots_from_docs(docs.values(), names)
        if not snaps:
            raise HTTPException(404, f"session {session_id}: its session record has not arrived")
        snap = snaps[0]
        md = minutes_mod.render_markdown(snap, conference=event.name if event else None)
        if format == "html":
            html = minutes_mod.render_html(md, title=minutes_mod.document_title(snap))
            return HTMLResponse(html)
        return PlainTextResponse(md, media_type="text/markdown; charset=utf-8")

    @app.get(
        "/v1/events/{event_id}/report",
        response_class=Response,
        responses=_DOC_RESPONSES,
        tags=["documents"],
    )
    def report(
        event_id: str,
        scope: Scope,
        format: Literal["md", "html"] = "md",
    ) -> Response:
        """The consolidated report over the sessions this token may see."""
        from roundtable import report as report_mod
        from roundtable.model import Event

        check_event(scope, event_id)
        clause, args = db.scope_clause(scope)
        conn = api.conn()
        try:
            docs = _load_docs(conn, event_id, clause, args)
            found = db.find_event(conn, event_id)
        finally:
            conn.close()
        countries = _countries()
        names = {code: c.name for code, c in countries.items()}
        event, snaps = snapshots_from_docs(docs.values(), names)
        event = event or Event(id=event_id, name=found[1] if found else "")
        rep = report_mod.build_report(event, snaps, countries)
        if format == "html":
            return HTMLResponse(report_mod.report_html(rep))
        return PlainTextResponse(
            report_mod.report_markdown(rep), media_type="text/markdown; charset=utf-8"
        )

    app.add_middleware(_Guard, max_body_bytes=max_body_bytes, routes=lambda: app.router.routes)
    return app


def _check_batch(
    conn: sqlite3.Connection, scope: db.TokenScope, event_id: str, ops: list[Op]
) -> dict[str, str]:
    """Check every op's event, record shape and region against the token.  Returns the regions
    of sessions first seen in this batch.  Raises HTTPException (422 or 403)."""
    batch_regions: dict[str, str] = {}
    for i, op in enumerate(ops):
        where = f"ops[{i}]"
        if op.event_id != event_id:
            raise HTTPException(422, f"{where}: event_id {op.event_id} differs from the path's")
        if op.kind == "event" and op.record_id != op.event_id:
            raise HTTPException(422, f"{where}: an event record's record_id must be its event_id")
        if op.kind == "event" and not scope.all_regions:
            raise HTTPException(
                403, f"{where}: the event record needs a token for all regions ('*')"
            )
        if op.kind == "session":
            if op.record_id != op.session_id:
                raise HTTPException(
                    422, f"{where}: a session record's record_id must be its session_id"
                )
            if op.field == "event_id" and op.value != event_id:
                raise HTTPException(422, f"{where}: a session cannot move to another event")
            if op.field == "region":
                if op.value not in REGIONS:
                    raise HTTPException(
                        422, f"{where}: region {str(op.value)[:40]!r} is not one of "
                        f"{', '.join(REGIONS)}"
                    )  # fmt: skip
                prev = batch_regions.setdefault(op.session_id, op.value)
                if prev != op.value:
                    raise HTTPException(
                        422, f"{where}: session {op.session_id} is given two regions"
                    )
    sids = sorted({o.session_id for o in ops if o.session_id})
    known: dict[str, tuple[str, str]] = {}
    for start in range(0, len(sids), 500):
        chunk = sids[start : start + 500]
        for sid, ev, region in conn.execute(
            "SELECT session_id, event_id, region FROM sessions WHERE session_id IN "
            f"({','.join('?' * len(chunk))})",
            chunk,
        ):
            known[sid] = (ev, region)
    new: dict[str, str] = {}
    for i, op in enumerate(ops):
        sid = op.session_id
        if not sid:
            continue
        where = f"ops[{i}]"
        if sid in known:
            ev, region = known[sid]
            if ev != event_id:
                raise HTTPException(422, f"{where}: session {sid} belongs to another event")
            if batch_regions.get(sid, region) != region:
                raise HTTPException(
                    422, f"{where}: session {sid} is in region {region}; its region cannot change"
                )
        else:
            region = batch_regions.get(sid, "")
            if not region:
                raise HTTPException(
                    422,
                    f"{where}: session {sid} is not on the server and this batch does not give "
                    "its region",
                )
            new[sid] = region
        if not scope.allows_region(region):
            raise HTTPException(
                403, f"{where}: session {sid} is in region {region}, outside this token's regions"
            )
    _check_records(conn, scope, ops)
    return new


def _check_records(conn: sqlite3.Connection, scope: db.TokenScope, ops: list[Op]) -> None:
    """A record stays in the event, session and kind it was created in, and an HLC names one
    version of a field: an op that reuses a stored record id elsewhere, or a stored HLC with
    another op id, is forged (or a broken device) and refused before it can reach a merge."""
    rids = sorted({o.record_id for o in ops})
    owner: dict[str, tuple[str, str, str]] = {}
    versions: dict[tuple[str, str, str], str] = {}
    for start in range(0, len(rids), 500):
        chunk = rids[start : start + 500]
        for op_id, rid, ev, sid, kind, field, hlc in conn.execute(
            "SELECT op_id, record_id, event_id, session_id, kind, field, hlc FROM ops "
            f"WHERE record_id IN ({','.join('?' * len(chunk))}) ORDER BY seq",
            chunk,
        ):
            owner.setdefault(rid, (ev, sid, kind))
            versions.setdefault((rid, field, hlc), op_id)
    for i, op in enumerate(ops):
        where = f"ops[{i}]"
        ev, sid, kind = owner.setdefault(op.record_id, (op.event_id, op.session_id, op.kind))
        if ev != op.event_id:
            raise HTTPException(
                403, f"{where}: record {op.record_id} belongs to another event"
            )  # fmt: skip
        if sid != op.session_id:
            row = conn.execute("SELECT region FROM sessions WHERE session_id = ?", (sid,))
            region = (row.fetchone() or ("",))[0]
            if sid and not scope.allows_region(region):
                raise HTTPException(
                    403,
                    f"{where}: record {op.record_id} belongs to a session outside this "
                    "token's regions",
                )
            raise HTTPException(
                422, f"{where}: record {op.record_id} belongs to session {sid or '(the event)'}"
            )
        if kind != op.kind:
            raise HTTPException(
                422, f"{where}: record {op.record_id} is a {kind} record, not a {op.kind}"
            )
        first = versions.setdefault((op.record_id, op.field, op.hlc), op.op_id)
        if first != op.op_id:
            raise HTTPException(
                409, f"{where}: HLC {op.hlc} of {op.field} is already op {first}'s; "
                "a new version needs a new HLC"
            )  # fmt: skip
