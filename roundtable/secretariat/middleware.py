"""Pure ASGI middleware of the secretariat: the request guard (body size limit, OPTIONS and 405
with the right Allow header, no token in a query string) and the Server-Timing header; and the
access log's filter that shows paths without their query strings."""

from __future__ import annotations

import contextvars
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote

from starlette.routing import Match

TOKEN_PARAMS = frozenset(
    {"token", "access_token", "api_key", "apikey", "auth", "authorization", "bearer"}
)
"""Query parameters that would carry a credential: refused, whatever their value (a URL is
written to access logs, proxies' logs and browser histories; a token goes in the header)."""


TOKEN_PAGE = (
    b'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
    b"<title>Token in the address</title></head><body><h1>Token in the address</h1>"
    b"<p>A token must never be put in an address: it would stay in the browser's history "
    b'and in logs.  <a href="/sign-in">Sign in with the form</a> instead.</p></body></html>\n'
)
"""The console's answer to a token in a page's address (the API answers one JSON line)."""


def token_in_query(query_string: bytes) -> str | None:
    """The name of a query parameter that carries a token, or None."""
    if not query_string:
        return None
    text = query_string.decode("latin-1")
    for name, _value in parse_qsl(text, keep_blank_values=True):
        if name.strip().lower() in TOKEN_PARAMS:
            return name.strip().lower()
    return None


class PathOnly(logging.Filter):
    """uvicorn's access log shows the path without its query string: nothing a client put in
    a URL (a token by mistake, a search) is written to the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def log_config(level: str = "info", debug_log: str | None = None) -> dict[str, Any]:
    """uvicorn's own logging configuration with ``PathOnly`` on its access log, plus the
    secretariat's: ``roundtable.access`` (one line per request and per error, on stderr) and
    ``roundtable.debug`` (tracebacks, to ``debug_log`` only: never mixed into the main log).
    ``roundtable serve`` passes it to uvicorn, in every worker."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["path_only"] = {"()": f"{__name__}.PathOnly"}
    config["handlers"]["access"]["filters"] = ["path_only"]
    config["formatters"]["line"] = {"format": "%(message)s"}
    config["handlers"]["roundtable"] = {
        "class": "logging.StreamHandler",
        "formatter": "line",
        "stream": "ext://sys.stderr",
    }
    if debug_log:
        config["formatters"]["debug"] = {"format": "%(asctime)s %(process)d %(message)s"}
        config["handlers"]["debug"] = {
            "class": "logging.FileHandler",
            "filename": debug_log,
            "formatter": "debug",
            "encoding": "utf-8",
        }
    else:
        config["handlers"]["debug"] = {"class": "logging.NullHandler"}
    loggers = config["loggers"]
    loggers["roundtable.access"] = {
        "handlers": ["roundtable"],
        "level": level.upper(),
        "propagate": False,
    }
    loggers["roundtable.debug"] = {"handlers": ["debug"], "level": "DEBUG", "propagate": False}
    # the pool's reconnection notes are multi-line: debug log only (the main log shows 503s)
    loggers["psycopg"] = {"handlers": ["debug"], "level": "INFO", "propagate": False}
    return config


# -- one line per request ----------------------------------------------------------------------

_NOTE: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "roundtable_request_note", default=None
)


def note_token(label: str) -> None:
    """Tells the access log which token (by its label, never the token) made this request.
    Called by the auth dependencies, in whatever thread they run: the request's note is a dict
    shared with the copied context."""
    note = _NOTE.get()
    if note is not None:
        note["token"] = label or "-"


ACCESS = logging.getLogger("roundtable.access")
DEBUG = logging.getLogger("roundtable.debug")


def _utc_now() -> str:
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


_PATH_SAFE = "/:@!$&'()*+,;=-._~"  # a path is one word: spaces and controls percent-encoded


def _quoted(value: str) -> str:
    """Quoted, with every control character escaped: one request is one line."""
    return json.dumps(value)


class AccessLog:
    """One line per request: time (UTC), client, method, path without its query, status,
    duration and the token's label.  An unhandled error is one more line (its type only: a
    message could quote a value), its traceback goes to the debug log, and the client gets a
    plain 500 when nothing was sent yet.  Never a token, a query string or a body."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        note: dict[str, str] = {}
        reset = _NOTE.set(note)
        status = 0

        async def watched(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            ident = f"{time.time_ns():x}"
            DEBUG.error(
                "error %s on %s %s", ident, scope["method"], scope.get("path", ""), exc_info=exc
            )
            self._line(scope, status or 500, started, note, f"error={type(exc).__name__} "
                       f"ref={ident}", level=logging.ERROR)  # fmt: skip
            if not status:
                await _send_json(send, 500, f"internal error (reference {ident})")
            return
        finally:
            _NOTE.reset(reset)
        self._line(scope, status, started, note)

    @staticmethod
    def _line(
        scope: dict,
        status: int,
        started: float,
        note: dict[str, str],
        extra: str = "",
        level: int = logging.INFO,
    ) -> None:
        if not ACCESS.isEnabledFor(level):
            return
        client = scope.get("client")
        ms = (time.perf_counter() - started) * 1000
        path = scope.get("path", "")  # uvicorn's path starts with the root path already
        line = (
            f"{_utc_now()} {logging.getLevelName(level)} {client[0] if client else '-'} "
            f"{scope['method']} {quote(path, safe=_PATH_SAFE)} {status} {ms:.1f}ms "
            f"token={_quoted(note.get('token', '-'))}"
        )
        ACCESS.log(level, f"{line} {extra}".rstrip())


def trusted_peers(value: str) -> Callable[[str | None], bool]:
    """``--forwarded-allow-ips``: a comma-separated list of addresses and networks
    (``127.0.0.1,10.0.0.0/8``) or ``*``.  Returns the test "is this peer a trusted proxy"."""
    import ipaddress

    items = [item.strip() for item in value.split(",") if item.strip()]
    if "*" in items:
        return lambda peer: True
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"forwarded-allow-ips: {item!r} is not an IP address or network"
            ) from None

    def trusted(peer: str | None) -> bool:
        if not peer:
            return False
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in networks)

    return trusted


FORWARDED_HOST = "roundtable.forwarded_host"


def _header(scope: Mapping[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return None


class Forwarded:
    """Takes X-Forwarded-Proto, -For and -Host from a trusted proxy (and only from one): the
    scheme and client address of the request become the browser's, and the host the browser
    asked for is kept for ``browser_origin``.  From any other peer these headers are ignored.
    ``roundtable serve`` turns uvicorn's own proxy handling off, so this is the one place."""

    def __init__(self, app: Any, *, trusted: Callable[[str | None], bool]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            if self.trusted(client[0] if client else None):
                scope = dict(scope)
                proto = _header(scope, b"x-forwarded-proto")
                if proto:
                    proto = proto.split(",")[0].strip().lower()
                    if proto in ("http", "https"):
                        scope["scheme"] = proto
                hops = _header(scope, b"x-forwarded-for")
                if hops:
                    # the nearest hop that is not itself a trusted proxy is the browser
                    addresses = [hop.strip() for hop in hops.split(",") if hop.strip()]
                    chosen = next(
                        (a for a in reversed(addresses) if not self.trusted(a)),
                        addresses[0] if addresses else None,
                    )
                    if chosen:
                        scope["client"] = (chosen, 0)
                host = _header(scope, b"x-forwarded-host")
                if host:
                    scope[FORWARDED_HOST] = host.split(",")[0].strip()
        await self.app(scope, receive, send)


_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _origin(scheme: str, netloc: str) -> str:
    scheme = scheme.lower()
    netloc = netloc.strip().lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default and netloc.endswith(f":{default}") and not netloc.endswith("]"):
        netloc = netloc[: -len(default) - 1]
    return f"{scheme}://{netloc}"


def browser_origin(scope: Mapping[str, Any]) -> str:
    """The origin (``scheme://host[:port]``) the browser addressed: the forwarded host and
    scheme when a trusted proxy gave them (``Forwarded``), else the Host header and the
    connection's scheme.  The console compares a form's ``Origin`` header with this."""
    host = scope.get(FORWARDED_HOST) or _header(scope, b"host") or ""
    return _origin(scope.get("scheme", "http"), host)


def same_origin(origin: str, scope: Mapping[str, Any]) -> bool:
    """Whether an ``Origin`` header names the origin the browser addressed."""
    from urllib.parse import urlsplit

    parts = urlsplit(origin)
    if not parts.scheme or not parts.netloc:
        return False
    return _origin(parts.scheme, parts.netloc) == browser_origin(scope)


class Guard:
    """Refuses bodies over the limit (413) before the app reads them, and answers OPTIONS /
    unsupported methods itself, listing every method the path takes (FastAPI alone would list
    only the first route matching the path).  Adds Server-Timing to every answer."""

    CACHED_PATHS = 1024
    """How many paths' allowed methods are kept (then forgotten at once and found again)."""

    def __init__(self, app: Any, *, max_body_bytes: int, routes: Callable[[], list]) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.routes = routes
        self._allowed: dict[tuple[str, str, str], frozenset[str]] = {}
        self._table: tuple[int, int] = (0, 0)

    def allowed(self, scope: dict) -> frozenset[str]:
        """The methods the path takes (empty: no route has it).  Matching the path against
        every route at every request was a few percent of a worker's CPU under the sync load
        (issue 25): the answer depends on the path and the route table only, so it is kept
        per path (forgotten if the table given is another or changed length)."""
        routes = self.routes()
        table = (id(routes), len(routes))
        if table != self._table or len(self._allowed) >= self.CACHED_PATHS:
            self._allowed, self._table = {}, table
        key = (scope["type"], scope.get("root_path", ""), scope.get("path", ""))
        found = self._allowed.get(key)
        if found is None:
            methods_of: set[str] = set()
            for route in routes:
                methods = getattr(route, "methods", None)
                if not methods:
                    continue
                match, _ = route.matches({**scope, "method": next(iter(methods))})
                if match == Match.FULL:
                    methods_of |= set(methods)
            found = self._allowed[key] = frozenset(methods_of)
        return found

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = timed(send, time.perf_counter())
        leaked = token_in_query(scope.get("query_string", b""))
        if leaked is not None:
            # refused before anything reads it; the token is never echoed or logged
            scope["query_string"] = b""
            if scope.get("path", "").startswith("/v1/"):
                detail = (
                    f"query parameter {leaked!r}: a token in a URL is refused (URLs are logged); "
                    "send it as the header 'Authorization: Bearer <token>'"
                )
                await _send_json(send, 400, detail)
            else:  # a page of the web console: a person reads the answer
                await _send(send, 400, TOKEN_PAGE, {"content-type": "text/html; charset=utf-8"})
            return
        method = scope["method"]
        allowed = self.allowed(scope)
        if allowed:
            allow = ", ".join(sorted(allowed | {"OPTIONS"}))
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


def timed(send: Callable, started: float) -> Callable:
    """``send`` that adds a Server-Timing header (time spent in the server, in ms), so a load
    test can tell the server's share of a request's latency from the client's."""

    async def timed_send(message: dict) -> None:
        if message["type"] == "http.response.start":
            ms = (time.perf_counter() - started) * 1000
            timing = (b"server-timing", f"app;dur={ms:.1f}".encode())
            message = {**message, "headers": [*message.get("headers", ()), timing]}
        await send(message)

    return timed_send


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
