"""The web console: the secretariat's pages for a browser, served at ``/``.

Sign in with a token (a form; the answer sets an HttpOnly, SameSite=Strict cookie holding a
random value; the database holds the sign-in, see ``deps``), then: the conference overview,
each region's sessions and delegations, each session's minutes, each delegation's brief and
the consolidated report, in four languages, with downloads as Markdown and HTML.  The
documents come from the laptops' own functions, through the one outward gate (``gate.py``:
cut to the reader's regions and ceiling), embedded as they are.

Pages refresh themselves while the conference runs: a few lines of script poll ``/changes``
(a stamp of when each room last synced) and reload the page when it moves; without script a
``<meta http-equiv=refresh>`` does it.  None of these routes is part of the API's schema.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from roundtable.documents import LANGUAGES
from roundtable.model import REGIONS, SessionSnapshot
from roundtable.secretariat import gate
from roundtable.secretariat.deps import (
    SESSION_COOKIE,
    SESSION_SECONDS,
    ConsoleScope,
    Repo,
    SignInRequired,
    new_sign_in,
    sign_in_hash,
)
from roundtable.secretariat.middleware import same_origin
from roundtable.secretariat.repository import Repository, TokenScope
from roundtable.zones import VenueClock, abbreviation

REFRESH_SECONDS = 30
HERE = Path(__file__).resolve().parent.parent
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "es": "Español", "ar": "العربية"}

templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every value is escaped; the documents arrive escaped by their renderer
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)


def _bdi(value: object) -> Markup:
    """A captured string (a session's title, a room, a label) isolated from the page's
    direction: escaped, in ``<bdi>`` (issue 19)."""
    return Markup("<bdi>%s</bdi>") % str(value)


templates.env.filters["bdi"] = _bdi

# Pages answer with these.  The documents embedded in a page (``srcdoc``) carry their own
# <style>, hence 'unsafe-inline' for styles only; no inline script anywhere.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# A document opened or downloaded on its own: no script, nothing from elsewhere.
DOCUMENT_HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'",
}


class PageError(Exception):
    """A console request that cannot be answered: shown as a page with this status."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


router = APIRouter(include_in_schema=False)  # a token in a page's address: middleware.py


# -- the data of the pages ----------------------------------------------------------------------


@dataclass
class SessionRow:
    snap: SessionSnapshot
    counts: Counter
    open_actions: int
    present: int
    last_sync: dt.datetime | None

    @property
    def session(self):
        return self.snap.session


class Conference(gate.View):
    """What a token may see of its event, read once per page through the gate (cut to its
    regions and its ceiling before any page can show it)."""

    def rows(self, region: str | None = None) -> list[SessionRow]:
        out = [
            self.row(snap)
            for snap in self.reported()  # an archived session is in no list (issue 22)
            if region is None or snap.session.region == region
        ]
        out.sort(key=lambda r: (r.session.date, r.session.title.casefold(), r.session.id))
        return out

    def row(self, snap: SessionSnapshot) -> SessionRow:
        """One session's line: its counts, open actions, delegations present, last sync."""
        actions = [e for e in snap.entries if e.entry_kind == "action"]
        return SessionRow(
            snap=snap,
            counts=Counter(e.entry_kind for e in snap.entries),
            open_actions=sum(1 for a in actions if a.status not in ("done", "dropped")),
            present=sum(1 for a in snap.attendance if a.status == "present"),
            last_sync=self.last_sync.get(snap.session.id),
        )

    @property
    def clock(self) -> VenueClock:
        """The venue's clock (issue 24): every time the console shows is read in it."""
        return VenueClock(self.event.tz, venue=self.event.venue)

    def local_time(self, value: dt.datetime | None) -> str:
        """A time as the venue reads it, with its abbreviation: ``2026-11-26 19:00 CET``."""
        if value is None:
            return ""
        local = self.clock.local(value)
        return f"{local:%Y-%m-%d %H:%M} {abbreviation(local)}"

    def zone_words(self) -> str:
        """The footer's name of the zone: ``Lyon time, Europe/Paris``."""
        clock = self.clock
        if clock.is_utc or not clock.place():
            return "UTC"
        return f"{clock.place()} time, {clock.name}"

    def running(self) -> bool:
        """The conference runs until its last day has passed and every session is closed."""
        ends = self.event.ends
        today = self.clock.day(self.now)  # the venue's date
        if not ends or ends >= today:
            return True
        return any(s.session.status != "closed" for s in self.reported())

    def session(self, session_id: str) -> SessionSnapshot:
        for snap in self.snaps:
            if snap.session.id == session_id:
                return snap
        raise PageError(404, "No such session", f"Session {session_id[:40]} is not here.")


def load(repo: Repository, scope: TokenScope, now: float) -> Conference:
    return gate.read(repo, scope, now, into=Conference)


def stamp(repo: Repository, scope: TokenScope) -> str:
    """Changes whenever ops arrive for a session the token sees (the pages poll it)."""
    return gate.stamp(repo, scope)


def _lang(value: str) -> str:
    if value not in LANGUAGES:
        raise PageError(
            400, "Unknown language", f"Language {value[:10]!r}: one of {', '.join(LANGUAGES)}."
        )
    return value


def _format(value: str) -> str:
    if value not in ("md", "html"):
        raise PageError(404, "No such download", f"Format {value[:10]!r}: md or html.")
    return value


def _ago(now: dt.datetime, then: dt.datetime | None) -> str:
    if then is None:
        return "never"
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min ago"
    return f"{seconds // 86400} d ago"


def root_of(request: Request) -> str:
    """The path prefix the site is served under (``serve --root-path``), "" at the root: every
    link, form and redirect of the console starts with it."""
    return str(request.scope.get("app_root_path", request.scope.get("root_path", ""))).rstrip("/")


def _page(request: Request, template: str, conf: Conference | None, status: int = 200, **context):
    context.setdefault("lang", "en")
    values = {
        "root": root_of(request),
        "conf": conf,
        "scope": conf.reader if conf else None,
        "region_names": REGIONS,
        "languages": LANGUAGE_NAMES,
        "ago": (lambda t: _ago(conf.now, t)) if conf else None,
        "local_time": conf.local_time if conf else (lambda t: ""),
        "refresh": request.app.state.console_refresh if conf and conf.running() else 0,
        "stamp": context.pop("stamp", ""),
        **context,
    }
    return templates.TemplateResponse(
        request, template, values, status_code=status, headers=PAGE_HEADERS
    )


def _download(body: str, fmt: str, filename: str, *, inline: bool = False) -> Response:
    media = "text/html; charset=utf-8" if fmt == "html" else "text/markdown; charset=utf-8"
    disposition = "inline" if inline else "attachment"
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)  # names carry laptop-written dates
    headers = {**DOCUMENT_HEADERS, "Content-Disposition": f'{disposition}; filename="{safe}"'}
    return Response(body, media_type=media, headers=headers)


def _now(request: Request) -> float:
    return request.app.state.now()


@dataclass(frozen=True)
class _DownloadArgs:
    """What every download route reads: its checked format and language, whether it opens in
    the browser, and the conference as the reader's token sees it."""

    fmt: str
    lang: str
    inline: bool
    conf: Conference
    repo: Repository

    def respond(self, body: str, filename: str) -> Response:
        return _download(body, self.fmt, filename, inline=self.inline)


def _download_args(
    fmt: str,
    request: Request,
    scope: ConsoleScope,
    repo: Repo,
    lang: str = "en",
    inline: bool = False,
) -> _DownloadArgs:
    fmt, lang = _format(fmt), _lang(lang)
    return _DownloadArgs(fmt, lang, inline, load(repo, scope, _now(request)), repo)


DownloadArgs = Annotated[_DownloadArgs, Depends(_download_args)]


# -- signing in and out -----------------------------------------------------------------------


def _safe_next(value: str, root: str = "") -> str:
    """Only a path of this site (under its root path): never another site, never a scheme or
    host."""
    parts = urlsplit(value)
    if (
        not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or parts.scheme
        or parts.netloc
        or (root and not value.startswith(f"{root}/"))
    ):
        return f"{root}/"
    return value


def _same_origin(request: Request) -> None:
    """A form posted from another site is refused (with SameSite=Strict, the cookie would not
    go with it anyway; this also stops signing a browser in with someone else's token).  A
    post without an Origin, or with ``Origin: null`` (a sandboxed frame, a file), is refused
    too: every browser that can show the console sends one (issue 19)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null" or not same_origin(origin, request.scope):
        raise PageError(403, "Refused", "This form was not sent from this site.")


@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "/") -> Response:
    return _page(request, "sign_in.html", None, next=_safe_next(next, root_of(request)), error="")


def _session_cookie_flags(request: Request) -> dict[str, Any]:
    """The session cookie's attributes: the same when it is set and when it is deleted, or the
    browser keeps it."""
    return {
        "path": "/",
        "secure": request.url.scheme == "https",
        "httponly": True,
        "samesite": "strict",
    }


@router.post("/sign-in")
def sign_in(
    request: Request,
    repo: Repo,
    token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    _same_origin(request)
    target = _safe_next(next, root_of(request))
    now = _now(request)
    scope = repo.lookup_token(token.strip(), now) if token.strip() else None
    if scope is None:
        error = "This token is not valid on this server." if token.strip() else "Enter a token."
        return _page(request, "sign_in.html", None, 401, next=target, error=error)
    # a sign-in lasts a conference day, and never past its token's expiry
    expires = now + SESSION_SECONDS
    if scope.expires is not None:
        expires = min(expires, scope.expires)
    value, stored = new_sign_in()
    repo.add_sign_in(stored, scope.token_hash, now, expires)
    repo.used(scope, now)
    answer = RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
    answer.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=max(1, int(expires - now)),
        **_session_cookie_flags(request),
    )
    return answer


@router.post("/sign-out")
def sign_out(request: Request, repo: Repo) -> Response:
    """Ends the sign-in in the database (a copy of the cookie stops working too), then clears
    the cookie."""
    _same_origin(request)
    value = request.cookies.get(SESSION_COOKIE, "")
    if value:
        repo.end_sign_in(sign_in_hash(value), _now(request))
    answer = RedirectResponse(
        f"{root_of(request)}/sign-in", status_code=303, headers={"Cache-Control": "no-store"}
    )
    answer.delete_cookie(SESSION_COOKIE, **_session_cookie_flags(request))
    return answer


# -- pages -------------------------------------------------------------------------------------


@router.get("/")
def overview(request: Request, scope: ConsoleScope, repo: Repo) -> Response:
    conf = load(repo, scope, _now(request))
    regions = [(r, conf.rows(r)) for r in conf.regions]
    total = conf.rows()
    return _page(
        request, "overview.html", conf, regions=regions, total=total, stamp=stamp(repo, scope)
    )


@router.get("/changes")
def changes(scope: ConsoleScope, repo: Repo) -> JSONResponse:
    return JSONResponse({"stamp": stamp(repo, scope)}, headers={"Cache-Control": "no-store"})


def _check_region(scope: TokenScope, region: str) -> None:
    if region not in REGIONS:
        raise PageError(404, "No such region", f"Region {region[:40]!r} does not exist.")
    if not scope.allows_region(region):
        raise PageError(
            403,
            "Outside your regions",
            f"Your token does not give access to {REGIONS[region]}.",
        )


@dataclass
class DelegationRow:
    code: str
    name: str
    sessions: int
    present: int
    entries: int


def _delegations(conf: Conference, region: str) -> list[DelegationRow]:
    """The region's member delegations, and every other delegation its sessions mention."""
    codes = {c for c, k in conf.countries.items() if k.region == region}
    snaps = [s for s in conf.snaps if s.session.region == region]
    for snap in snaps:
        codes |= set(snap.countries)
    out = []
    for code in codes:
        attended = [
            s
            for s in snaps
            if any(a.country == code and a.status == "present" for a in s.attendance)
        ]
        mentioned = sum(
            1 for s in snaps for e in s.entries if code in e.delegations or e.owner == code
        )
        out.append(
            DelegationRow(
                code=code,
                name=conf.names.get(code, code),
                sessions=sum(1 for s in snaps if code in s.countries),
                present=len(attended),
                entries=mentioned,
            )
        )
    out.sort(key=lambda d: (-d.entries, d.name.casefold()))
    return out


@router.get("/regions/{region}")
def region_page(region: str, request: Request, scope: ConsoleScope, repo: Repo) -> Response:
    _check_region(scope, region)
    conf = load(repo, scope, _now(request))
    return _page(
        request,
        "region.html",
        conf,
        region=region,
        rows=conf.rows(region),
        delegations=_delegations(conf, region),
        stamp=stamp(repo, scope),
    )


def _session_for(conf: Conference, repo: Repository, session_id: str) -> SessionSnapshot:
    """The session, or a 403 page when it is another region's (a 404 when unknown)."""
    known = repo.session(session_id)
    if known is None or known[0] != conf.reader.event_id:
        raise PageError(404, "No such session", f"Session {session_id[:40]} is not here.")
    if not conf.reader.allows_region(known[1]):
        raise PageError(403, "Outside your regions", "This session is another region's.")
    return conf.session(session_id)


def _minutes(conf: Conference, snap: SessionSnapshot, fmt: str, lang: str) -> str:
    return conf.minutes(snap, fmt, lang)


@router.get("/sessions/{session_id}")
def session_page(
    session_id: str, request: Request, scope: ConsoleScope, repo: Repo, lang: str = "en"
) -> Response:
    lang = _lang(lang)
    conf = load(repo, scope, _now(request))
    snap = _session_for(conf, repo, session_id)
    row = conf.row(snap)
    present = [
        (a.country, conf.names.get(a.country, a.country))
        for a in snap.attendance
        if a.status == "present"
    ]
    return _page(
        request,
        "session.html",
        conf,
        row=row,
        snap=snap,
        present=sorted(present, key=lambda p: p[1].casefold()),
        document=_minutes(conf, snap, "html", lang),
        lang=lang,
        stamp=stamp(repo, scope),
    )


@router.get("/sessions/{session_id}/minutes.{fmt}")
def session_download(session_id: str, args: DownloadArgs) -> Response:
    from roundtable.documents.versions import file_name, version_for

    snap = _session_for(args.conf, args.repo, session_id)
    name = file_name(snap, version_for(snap), args.lang, args.fmt)
    return args.respond(_minutes(args.conf, snap, args.fmt, args.lang), name)


def _report(conf: Conference, repo: Repository, fmt: str, lang: str) -> str:
    return conf.report(repo, fmt, lang)


@router.get("/report")
def report_page(request: Request, scope: ConsoleScope, repo: Repo, lang: str = "en") -> Response:
    lang = _lang(lang)
    conf = load(repo, scope, _now(request))
    return _page(
        request,
        "report.html",
        conf,
        document=_report(conf, repo, "html", lang),
        lang=lang,
        stamp=stamp(repo, scope),
    )


@router.get("/report.{fmt}")
def report_download(args: DownloadArgs) -> Response:
    name = f"{args.conf.now.date().isoformat()}-report-{args.lang}.{args.fmt}"
    return args.respond(_report(args.conf, args.repo, args.fmt, args.lang), name)


def _brief_subject(conf: Conference, code: str, session: str) -> tuple[str, str | None]:
    code = code.upper()
    country = conf.countries.get(code)
    mentioned = any(code in s.countries for s in conf.reported())
    if not mentioned:  # a delegation none of the token's sessions names: by its roster region
        if country is None:
            raise PageError(404, "No such delegation", f"Delegation {code[:10]!r} is not known.")
        if not conf.reader.allows_region(country.region):
            raise PageError(
                403, "Outside your regions", f"{country.name} belongs to a region outside yours."
            )
    if session:
        conf.session(session)
        return code, session
    return code, None


def _brief(conf: Conference, code: str, focus: str | None, fmt: str, lang: str) -> str:
    return conf.brief(code, focus, fmt, lang)


@router.get("/delegations/{code}")
def brief_page(
    code: str,
    request: Request,
    scope: ConsoleScope,
    repo: Repo,
    lang: str = "en",
    session: str = "",
) -> Response:
    lang = _lang(lang)
    conf = load(repo, scope, _now(request))
    code, focus = _brief_subject(conf, code, session)
    return _page(
        request,
        "brief.html",
        conf,
        code=code,
        name=conf.names.get(code, code),
        focus=conf.session(focus) if focus else None,
        document=_brief(conf, code, focus, "html", lang),
        lang=lang,
        stamp=stamp(repo, scope),
    )


@router.get("/delegations/{code}/brief.{fmt}")
def brief_download(code: str, args: DownloadArgs, session: str = "") -> Response:
    from roundtable.documents.versions import brief_name

    conf, fmt, lang = args.conf, args.fmt, args.lang
    code, focus = _brief_subject(conf, code, session)
    if focus:
        name = brief_name(conf.session(focus), code, lang, fmt)
    else:
        name = f"{conf.now.date().isoformat()}-brief-{code}-{lang}.{fmt}"
    return args.respond(_brief(conf, code, focus, fmt, lang), name)


# -- wiring ------------------------------------------------------------------------------------


def install(app: FastAPI, *, refresh: float = REFRESH_SECONDS) -> APIRouter:
    """Adds the console to the secretariat's app: its routes, static files and the pages for
    its errors.  ``refresh``: seconds between two polls
    of a page while the conference runs.  Returns the router (for the guard)."""
    app.state.console_refresh = refresh

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        root = root_of(request)
        if request.method == "GET" and request.url.path not in ("/changes", f"{root}/changes"):
            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            location = f"{root}/sign-in"
            if here not in (f"{root}/", root):
                location += f"?next={quote(here, safe='')}"
            return RedirectResponse(
                location, status_code=303, headers={"Cache-Control": "no-store"}
            )
        return JSONResponse({"detail": "sign in first"}, status_code=401)

    @app.exception_handler(PageError)
    async def _error(request: Request, exc: PageError) -> Response:
        return _page(request, "error.html", None, exc.status, title=exc.title, message=exc.message)

    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return router
