"""Where a laptop finds the actions carried forward (issue 12): the secretariat's
``GET /v1/regions/{region}/actions`` when it can reach it, else what it last fetched (a cache in
its home), always merged with what its own store holds (earlier events' sessions kept on this
laptop, and the reviews made here that may not have been pushed yet).  No UI; the app runs
``fetch`` in a worker, the CLI with ``asyncio.run``.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roundtable import actions as carried
from roundtable.actions import CarriedAction
from roundtable.errors import RoundtableError

if TYPE_CHECKING:
    from roundtable.store import LocalStore

CACHE_NAME = "carried-actions.json"
"""``<home>/carried-actions.json``: per region, the secretariat's last answer and when."""


class FetchError(RoundtableError):
    """The secretariat could not be asked, or refused: the message says which and why."""


@dataclass(frozen=True)
class Found:
    """Carried actions and where they came from (``secretariat``, ``cache`` of <time>,
    ``this laptop``), for the screen's caption and the command's note."""

    actions: list[CarriedAction]
    source: str


# ---------------------------------------------------------------------------------------------
# The secretariat
# ---------------------------------------------------------------------------------------------


def client_options(
    url: str, token: str, ca_file: str | None = None, timeout: float = 10.0
) -> dict[str, Any]:
    """httpx.AsyncClient arguments: verified TLS (a private CA through ``ca_file``), explicit
    timeouts, the bearer token."""
    import httpx

    verify: ssl.SSLContext | bool = True
    if ca_file:
        try:
            verify = ssl.create_default_context(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise FetchError(f"{ca_file}: cannot use this CA bundle: {exc}") from None
    return {
        "base_url": url.rstrip("/"),
        "verify": verify,
        "timeout": httpx.Timeout(timeout, connect=3.0),
        "headers": {"Authorization": f"Bearer {token}"},
    }


async def fetch(
    url: str,
    token: str,
    region: str,
    before: str,
    *,
    ca_file: str | None = None,
    timeout: float = 10.0,
) -> list[CarriedAction]:
    """Every action of ``region``'s events before ``before`` (open or not) from the
    secretariat; FetchError naming the cause when it cannot be had."""
    import httpx

    try:
        async with httpx.AsyncClient(**client_options(url, token, ca_file, timeout)) as client:
            answer = await client.get(f"/v1/regions/{region}/actions", params={"before": before})
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: cannot reach the secretariat ({type(exc).__name__})") from None
    if answer.status_code != 200:
        try:
            detail = str(answer.json().get("detail", ""))[:200]
        except ValueError:
            detail = answer.text[:200]
        raise FetchError(f"{url}: the secretariat answered {answer.status_code}: {detail}")
    try:
        return [CarriedAction.from_json(a) for a in answer.json()["actions"]]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise FetchError(f"{url}: the secretariat's answer is not a list of actions") from None


# ---------------------------------------------------------------------------------------------
# The cache in the laptop's home
# ---------------------------------------------------------------------------------------------


def _read_cache_file(home: Path) -> dict[str, Any]:
    try:
        data = json.loads((home / CACHE_NAME).read_text("utf-8"))
    except (OSError, ValueError):
        return {}  # no cache yet, or a damaged one: it is only a copy of the server's answer
    return data if isinstance(data, dict) else {}


def read_cache(home: Path, region: str, before: str) -> tuple[list[CarriedAction], str] | None:
    """The actions last fetched for ``region`` and event ``before``, and when; None if none."""
    entry = _read_cache_file(home).get(region)
    if not isinstance(entry, dict) or entry.get("before") != before:
        return None
    try:
        return [CarriedAction.from_json(a) for a in entry["actions"]], str(entry.get("at", ""))
    except (KeyError, TypeError, AttributeError, ValueError):
        return None


def write_cache(home: Path, region: str, before: str, found: list[CarriedAction], at: str) -> None:
    from roundtable.osfiles import atomic_write_text

    data = _read_cache_file(home)
    data[region] = {"before": before, "at": at, "actions": [a.to_json() for a in found]}
    atomic_write_text(home / CACHE_NAME, json.dumps(data, ensure_ascii=False, indent=1))


# ---------------------------------------------------------------------------------------------
# The laptop's own store
# ---------------------------------------------------------------------------------------------


def source_of(ss: Any) -> carried.SourceSession:
    """What carried actions need of one open ``SessionStore``."""
    return carried.SourceSession(
        event=ss.event,
        session=ss.session,
        agenda=ss.records("agenda_item"),
        entries=[e for e in ss.records("entry") if e.entry_kind == "action"],
        reviews=ss.records("action_review"),
    )


def local_sources(
    store: LocalStore, region: str, before: str, *, skip: Mapping[str, Any] | None = None
) -> list[carried.SourceSession]:
    """The region's sessions of every event up to ``before`` that this laptop holds.
    ``skip``: session id -> an open ``SessionStore`` to read instead of opening it again (the
    app's own session)."""
    from roundtable.store import StoreError

    sources: list[carried.SourceSession] = []
    for summary in store.sessions():
        if summary.region != region or summary.event_id > before:
            continue
        own = (skip or {}).get(summary.id)
        try:
            ss = own or store.open_session(summary.id, read_only=True)
        except StoreError:
            continue  # a session another process holds or cannot be read: the server has it
        try:
            sources.append(source_of(ss))
        finally:
            if own is None:
                ss.close()
    return sources


def local_actions(
    store: LocalStore,
    region: str,
    before: str,
    *,
    skip: Mapping[str, Any] | None = None,
    known: list[CarriedAction] | None = None,
) -> list[CarriedAction]:
    """Carried actions from the sessions this laptop holds (``local_sources``), merged with
    ``known`` (the secretariat's or the cache's list; this laptop's reviews apply to them)."""
    sources = local_sources(store, region, before, skip=skip)
    return carried.carried_actions(sources, region, before, known=known or [])


def _now_iso() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


async def remote(
    store: LocalStore,
    region: str,
    before: str,
    *,
    url: str = "",
    token: str = "",
    ca_file: str | None = None,
) -> tuple[list[CarriedAction], str, str | None]:
    """The secretariat's list (cached on success) when ``url`` and ``token`` are given and it
    answers, else the cache's, else none: the actions, where they came from, and why the
    secretariat could not be used (None when it was, or was not asked)."""
    problem: str | None = None
    if url and token:
        try:
            found = await fetch(url, token, region, before, ca_file=ca_file)
        except FetchError as exc:
            problem = str(exc)
        else:
            try:
                write_cache(store.home, region, before, found, _now_iso())
            except OSError as exc:  # a read-only home still shows what was fetched
                problem = f"{store.home / CACHE_NAME}: not written ({exc.strerror or exc})"
            return found, "secretariat", problem
    cached = read_cache(store.home, region, before)
    if cached is not None:
        found, at = cached
        return found, (f"cache of {at}" if at else "cache"), problem
    return [], "this laptop", problem


async def find(
    store: LocalStore,
    region: str,
    before: str,
    *,
    url: str = "",
    token: str = "",
    ca_file: str | None = None,
    open_sessions: Mapping[str, Any] | None = None,
) -> tuple[Found, str | None]:
    """The carried actions for ``region`` at event ``before``: ``remote``'s, merged with the
    local store's.  Returns them and, when the secretariat could not be used, why."""
    found, source, problem = await remote(
        store, region, before, url=url, token=token, ca_file=ca_file
    )
    merged = local_actions(store, region, before, skip=open_sessions, known=found)
    return Found(merged, source), problem


def offline(store: LocalStore, regions: list[str], before: str) -> list[CarriedAction]:
    """Without the network: for each region, the cache's list merged with the local store's
    (the CLI's report)."""
    out: list[CarriedAction] = []
    for region in regions:
        cached = read_cache(store.home, region, before)
        out += local_actions(store, region, before, known=cached[0] if cached else None)
    return out
