"""Pure ASGI middleware of the secretariat: the request guard (body size limit, OPTIONS and 405
with the right Allow header, no token in a query string) and the Server-Timing header; and the
access log's filter that shows paths without their query strings."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

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


def log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration with ``PathOnly`` on the access log (``roundtable
    serve`` passes it to uvicorn, in every worker)."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["path_only"] = {"()": f"{__name__}.PathOnly"}
    config["handlers"]["access"]["filters"] = ["path_only"]
    return config


class Guard:
    """Refuses bodies over the limit (413) before the app reads them, and answers OPTIONS /
    unsupported methods itself, listing every method the path takes (FastAPI alone would list
    only the first route matching the path).  Adds Server-Timing to every answer."""

    def __init__(self, app: Any, *, max_body_bytes: int, routes: Callable[[], list]) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.routes = routes

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
