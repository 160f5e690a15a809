"""The secretariat's admin functions (the `roundtable events|tokens` commands): they work on the
database directly, SQLite file or PostgreSQL URL, and need no running server."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from pathlib import Path

from roundtable.model import (
    REGIONS,
    TOKEN_CEILING_DEFAULT,
    TOKEN_CEILINGS,
    Event,
    HlcClock,
    Op,
    new_id,
)
from roundtable.secretariat.repository import (
    ALL_REGIONS,
    SECRETARIAT_DEVICE,
    AdminError,
    Database,
    TokenScope,
    hash_token,
    open_database,
)
from roundtable.text import quote

__all__ = [
    "AdminError",
    "TokenScope",
    "create_event",
    "hash_token",
    "issue_token",
    "list_events",
    "list_tokens",
    "open_ready",
    "parse_expiry",
    "revoke_token",
]


def open_ready(target: Path | str) -> Database:
    """The database at ``target`` (SQLite path or ``postgresql://`` URL), migrated."""
    database = open_database(target, pooled=False)
    database.migrate()
    return database


def create_event(
    target: Path | str,
    name: str,
    venue: str = "",
    starts: str = "",
    ends: str = "",
    tz: str = "",
) -> str:
    """Create an event on the server, as ops from device "secretariat"; returns its id.
    ``tz``: the venue's IANA time zone ("" = UTC), checked (``--tz: ...`` when unknown)."""
    from roundtable.zones import check_zone

    name = name.strip()
    if not name:
        raise AdminError("an event needs a name")
    if tz:
        check_zone(tz, "--tz")
    event = Event(id=new_id(), name=name, venue=venue, starts=starts, ends=ends, tz=tz)
    clock = HlcClock(SECRETARIAT_DEVICE)
    ops = [
        Op(
            new_id(),
            event.id,
            "",
            event.id,
            "event",
            field,
            value,
            (h := clock.now()).encode(),
            h.device,
        )  # fmt: skip
        for field, value in event.to_fields().items()
    ]
    with open_ready(target) as database, database.repository() as repo:
        with repo.write_transaction():
            if repo.find_event(name) is not None:
                raise AdminError(f"an event named {name!r} already exists")
            repo.add_event(event.id, name, time.time())
            repo.insert_ops(ops, time.time())
    return event.id


def parse_expiry(value: str, now: float) -> float:
    """When a token stops working, from ``--expires``: a date (``2027-01-31``: the token
    works through that day, UTC) or a number of days (``30d``) from ``now``."""
    import datetime as dt
    import re

    text = value.strip()
    days = re.fullmatch(r"(\d{1,4})d", text)
    if days:
        if int(days.group(1)) < 1:
            raise AdminError(f"--expires {text}: at least 1d")
        return now + int(days.group(1)) * 86400
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise AdminError(
            f"--expires {text[:30]!r}: expected a date (2027-01-31) or a number of days (30d)"
        ) from None
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC).timestamp()
    if end <= now:
        raise AdminError(f"--expires {text}: that day has passed")
    return end


def issue_token(
    target: Path | str,
    event: str,
    regions: Sequence[str],
    label: str = "",
    max_tlp: str = TOKEN_CEILING_DEFAULT,
    expires: float | None = None,
) -> str:
    """Issue a bearer token for one event (by name or id) and some regions (``["*"]`` = all),
    reading up to ``max_tlp`` (green, amber, amber+strict; TLP:RED never reaches a server),
    working until ``expires`` (epoch seconds; None: until revoked).  The token is returned
    once; only its sha256 is stored."""
    if max_tlp not in TOKEN_CEILINGS:
        raise AdminError(
            f"unknown ceiling {str(max_tlp)[:30]!r}: use one of {', '.join(TOKEN_CEILINGS)}"
        )
    regions = list(dict.fromkeys(r.strip() for r in regions if r.strip()))
    if not regions:
        raise AdminError("a token needs at least one region (or '*' for all)")
    for r in regions:
        if r != ALL_REGIONS and r not in REGIONS:
            raise AdminError(f"unknown region {r!r} (one of {', '.join(REGIONS)}, or '*')")
    if ALL_REGIONS in regions:
        regions = [ALL_REGIONS]
    token = secrets.token_urlsafe(32)
    while token.startswith("-"):  # given as `--token VALUE`, it must never read as an option
        token = secrets.token_urlsafe(32)
    with open_ready(target) as database, database.repository() as repo:
        found = repo.find_event(event)
        if found is None:
            raise AdminError(
                f"no event {quote(event)} on this server; see `roundtable events list`"
            )
        repo.add_token(hash_token(token), found[0], regions, label, time.time(), max_tlp, expires)
    return token


TOKEN_ID_LENGTH = 12
"""How much of a token's stored hash names it in ``tokens list`` and ``tokens revoke`` (the
hash of a random token: it tells nothing of the token itself)."""


def list_tokens(target: Path | str) -> list[dict]:
    """Every token of the server, oldest first: its id (the start of its hash), event, label,
    regions, ceiling, created, last used, expiry and revocation — never the token."""
    with open_ready(target) as database, database.repository() as repo:
        rows = repo.list_tokens()
    for row in rows:
        row["id"] = row.pop("hash")[:TOKEN_ID_LENGTH]
    return rows


def revoke_token(target: Path | str, token_id: str, now: float | None = None) -> dict:
    """Revoke the token whose id (from ``list_tokens``; at least 6 characters of it) is
    ``token_id``: its API requests get 401 and its console sign-ins end at once, on every
    worker.  Returns its row."""
    wanted = token_id.strip().lower()
    if len(wanted) < 6 or any(c not in "0123456789abcdef" for c in wanted):
        raise AdminError(
            f"token id {token_id[:40]!r}: expected the id `roundtable tokens list` shows "
            "(at least 6 of its characters)"
        )
    now = time.time() if now is None else now
    with open_ready(target) as database, database.repository() as repo:
        with repo.write_transaction():
            found = [t for t in repo.list_tokens() if t["hash"].startswith(wanted)]
            if not found:
                raise AdminError(f"no token {wanted} on this server; see `roundtable tokens list`")
            if len(found) > 1:
                raise AdminError(f"token id {wanted} names {len(found)} tokens: give more of it")
            row = found[0]
            row["already"] = row["revoked"] is not None
            repo.revoke_token(row["hash"], now)
    row["id"] = row.pop("hash")[:TOKEN_ID_LENGTH]
    row["revoked"] = row["revoked"] or now
    return row


def list_events(target: Path | str) -> list[tuple[str, str]]:
    """(event_id, name) of every event, oldest first."""
    with open_ready(target) as database, database.repository() as repo:
        return repo.list_events()


def trim_idempotency(target: Path | str, days: float, now: float | None = None) -> int:
    """Forget saved push answers older than ``days``; returns how many were removed."""
    now = time.time() if now is None else now
    with open_ready(target) as database, database.repository() as repo:
        with repo.write_transaction():
            return repo.trim_idempotency(now - days * 86400)
