"""The network side of the `roundtable` command: connect, sync, and the secretariat's server.

Kept apart from cli.py so that the offline commands never import httpx or the server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import NoReturn

from roundtable.cliutil import CliError, name_arg, open_store


def _fail(message: str) -> NoReturn:
    raise CliError(message)


def cmd_connect(args: argparse.Namespace) -> int:
    from roundtable import config
    from roundtable.sync import SyncClient

    url = args.url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        _fail(f"URL must start with http:// or https://, got {args.url!r}")
    token = args.token
    if not config.is_token(token):
        _fail(
            f"--token: expected the token the secretariat issued (printable ASCII, no spaces, "
            f"at most {config.TOKEN_LIMIT} characters), got {len(token):,} characters"
        )
    ca_file = args.ca_file or ""
    if ca_file and not Path(ca_file).is_file():
        _fail(f"{ca_file}: CA bundle not found")
    label = args.label if args.label is not None else config.load_settings().label
    store = open_store()
    client = SyncClient(
        store,
        url,
        token,
        ca_file=ca_file or None,
        round_deadline=config.load_settings().sync_deadline,
        label=label or None,
        detect_tls_port=True,
    )
    who = asyncio.run(client.whoami())
    config.save_token(args.token)
    config.save_settings(api_url=url, ca_file=ca_file, label=label or "")
    regions = ", ".join(who.get("regions", [])) or "-"
    print(
        f"connected to {url} for event {who.get('event_name', who.get('event_id'))} "
        f"(regions: {regions}); token saved to {config.token_file()}",
        file=sys.stderr,
    )
    result = asyncio.run(client.sync_once())
    return _report(result)


def _report(result) -> int:
    """Print a round's summary and each batch the secretariat rejected (one line each, with
    why); the exit status is ``SyncResult.exit_code`` (3 when any change was rejected)."""
    print(result.summary(), file=sys.stderr)
    for line in result.rejections:
        print(f"sync: {line}", file=sys.stderr)
    return result.exit_code


def cmd_sync(args: argparse.Namespace) -> int:
    from roundtable import config
    from roundtable.sync import SyncClient

    settings = config.load_settings()
    token = config.load_token()
    if not settings.api_url or not token:
        _fail(
            "not connected: run `roundtable connect URL --token TOKEN` first "
            "(or set ROUNDTABLE_API_URL and ROUNDTABLE_TOKEN)"
        )
    store = open_store()
    client = SyncClient(
        store,
        settings.api_url,
        token,
        ca_file=settings.ca_file or None,
        round_deadline=settings.sync_deadline,
        label=settings.label or None,
        detect_tls_port=True,
    )
    progress = None if args.quiet else _progress_printer()
    result = asyncio.run(client.sync_once(progress=progress))
    if progress is not None:
        print(file=sys.stderr)
    return _report(result)


def _progress_printer():
    width = 30

    def show(done: int, total: int, phase: str) -> None:
        filled = width if total == 0 else int(width * min(done, total) / total)
        bar = "#" * filled + "-" * (width - filled)
        print(f"\r{phase:<5} [{bar}] {done}/{total}", end="", file=sys.stderr, flush=True)

    return show


def _server():
    try:
        from roundtable import secretariat
    except ImportError as exc:
        _fail(
            f"the secretariat server needs the 'server' extra ({exc.name} is missing): "
            "pip install 'roundtable[server]'"
        )
    return secretariat


def _db(value: str | None) -> Path | str:
    """The server's database: a ``postgresql://`` URL, or an SQLite file in an existing
    directory.  Without ``--db``, ``ROUNDTABLE_DB_URL``."""
    value = value or os.environ.get("ROUNDTABLE_DB_URL", "")
    if not value:
        _fail("--db: give the database (an SQLite file or a postgresql:// URL), or set "
              "ROUNDTABLE_DB_URL")  # fmt: skip
    if value.startswith(("postgresql://", "postgres://")):
        from urllib.parse import urlsplit

        if urlsplit(value).password:
            print(
                "warning: --db: a password in the URL shows in `ps` and in shell history; "
                "put it in ~/.pgpass or PGPASSWORD instead",
                file=sys.stderr,
            )
        return value
    if "://" in value:
        _fail(f"--db {value.split('://')[0]}://...: expected a postgresql:// URL or a file")
    path = Path(value)
    if path.is_dir():
        _fail(f"--db {value}: is a directory; give the database file's name")
    if not path.parent.is_dir():
        _fail(f"--db {value}: directory {path.parent} does not exist")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        _fail(f"--db {value}: cannot read and write this file")
    return path


def cmd_serve(args: argparse.Namespace) -> int:
    secretariat = _server()
    db = _db(args.db)
    if not 1 <= args.port <= 65535:
        _fail(f"--port {args.port}: expected 1-65535")
    if not 1 <= args.workers <= 64:
        _fail(f"--workers {args.workers}: expected 1-64")
    if args.workers > 1 and not secretariat.is_url(db):
        _fail(f"--workers {args.workers}: SQLite has one writer, so its server is one process; "
              "use --db postgresql://... for several workers")  # fmt: skip
    if not 0 < args.idempotency_days <= 3650:
        _fail(f"--idempotency-days {args.idempotency_days:g}: expected more than 0, at most 3650")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: serving on {args.host}: reachable from other machines; put TLS in "
            "front of it",
            file=sys.stderr,
        )
    try:
        secretariat.check_proxies(args.forwarded_allow_ips)
    except ValueError as exc:
        _fail(f"--{exc}")
    root_path = args.root_path.rstrip("/")
    if root_path and (not root_path.startswith("/") or "//" in root_path or "?" in root_path):
        _fail(f"--root-path {args.root_path}: expected a path such as /roundtable")
    if not 1 <= args.pool_size <= 1000:
        _fail(f"--pool-size {args.pool_size}: expected 1-1000")
    if args.debug_log:
        debug = Path(args.debug_log)
        if not debug.parent.is_dir():
            _fail(f"--debug-log {args.debug_log}: directory {debug.parent} does not exist")
    try:
        secretariat.serve(
            db,
            host=args.host,
            port=args.port,
            workers=args.workers,
            idempotency_days=args.idempotency_days,
            forwarded_allow_ips=args.forwarded_allow_ips,
            root_path=root_path,
            log_level=args.log_level,
            pool_size=args.pool_size,
            debug_log=args.debug_log,
            docs=args.docs,
        )
    except secretariat.AdminError as exc:
        _fail(str(exc))
    except Exception as exc:  # the database cannot be reached or opened: one line, no trace
        if type(exc).__module__.split(".")[0] not in ("psycopg", "psycopg_pool", "sqlite3"):
            raise
        _fail(f"--db: cannot open the database: {str(exc).strip().splitlines()[0][:300]}")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    secretariat = _server()
    db = _db(args.db)
    try:
        print(secretariat.backup_database(db, Path(args.output), force=args.force), file=sys.stderr)
    except secretariat.AdminError as exc:
        _fail(str(exc))
    return 0


def cmd_restore_db(args: argparse.Namespace) -> int:
    """``roundtable restore --db DB BACKUP_FILE`` (the command is shared with restoring a
    deleted entry: cli.cmd_restore sends the ``--db`` form here)."""
    secretariat = _server()
    db = _db(args.db)
    try:
        done = secretariat.restore_database(Path(args.session), db, force=args.force)
        print(done, file=sys.stderr)
    except secretariat.AdminError as exc:
        _fail(str(exc))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    secretariat = _server()
    schema = secretariat.SCHEMA_VERSION
    db = _db(args.db)
    try:
        found, todo = secretariat.migration_plan(db)
    except secretariat.AdminError as exc:
        _fail(str(exc))
    if found is not None and found > schema:
        _fail(f"--db: schema {found} is newer than this roundtable ({schema}); upgrade it")
    where = "new database" if found is None else f"schema {found}"
    if not todo:
        print(f"{where}: up to date (schema {schema})", file=sys.stderr)
        return 0
    steps = "; ".join(f"{v}: {what}" for v, what in todo)
    if args.dry_run:
        print(f"{where}: would migrate to {schema} ({steps}); nothing changed",
              file=sys.stderr)  # fmt: skip
        return 0
    if secretariat.is_url(db):
        print("PostgreSQL: take a backup first (roundtable backup --db ... -o FILE)",
              file=sys.stderr)  # fmt: skip
    try:
        kept = secretariat.migrate(db)
    except Exception as exc:
        if type(exc).__module__.split(".")[0] not in ("psycopg", "psycopg_pool", "sqlite3"):
            raise
        _fail(f"--db: migration failed, nothing changed: {str(exc).strip().splitlines()[0][:300]}")
    print(f"{where}: migrated to {schema} ({steps})"
          + (f"; the file before is kept as {kept}" if kept else ""), file=sys.stderr)  # fmt: skip
    return 0


def cmd_events_create(args: argparse.Namespace) -> int:
    from roundtable.zones import check_zone

    if args.tz is not None:
        check_zone(args.tz, "--tz")  # before the database is opened: nothing is created
    secretariat = _server()
    event_id = secretariat.create_event(
        _db(args.db),
        args.name,
        venue=args.venue or "",
        starts=args.starts or "",
        ends=args.ends or "",
        tz=args.tz or "",
    )
    if args.tz is None:
        print(
            "roundtable: note: no --tz given: the event's times are read in UTC; give the "
            "venue's zone when creating an event (--tz Europe/Paris)",
            file=sys.stderr,
        )
    print(event_id)
    return 0


def cmd_events_list(args: argparse.Namespace) -> int:
    """The server's events, one a line: id, name."""
    secretariat = _server()
    events = secretariat.list_events(_db(args.db))
    if not events:
        print("no events yet: create one with `roundtable events create NAME --db DB`",
              file=sys.stderr)  # fmt: skip
    for event_id, name in events:
        print(f"{event_id}\t{name}")
    return 0


def cmd_tokens_issue(args: argparse.Namespace) -> int:
    import time

    secretariat = _server()
    regions = args.region or []
    expires = None if args.expires is None else secretariat.parse_expiry(args.expires, time.time())
    token = secretariat.issue_token(
        _db(args.db),
        args.event,
        regions,
        label=args.label or "",
        max_tlp=args.max_tlp,
        expires=expires,
    )
    print(token)
    until = f"; it works until {_utc(expires)}" if expires is not None else ""
    print(f"this token is shown once; only its hash is stored{until}", file=sys.stderr)
    return 0


def _utc(at: float | None, never: str = "never") -> str:
    import datetime as dt

    if at is None:
        return never
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def cmd_tokens_list(args: argparse.Namespace) -> int:
    """One token a line: id, event, label, regions, ceiling, created, last used, expiry,
    state.  Never the token (only its hash is stored)."""
    import time

    rows = _server().list_tokens(_db(args.db))
    if not rows:
        print("no tokens yet: issue one with `roundtable tokens issue`", file=sys.stderr)
        return 0
    now = time.time()
    print("id\tevent\tlabel\tregions\tceiling\tcreated\tlast used\texpires\tstate")
    for t in rows:
        if t["revoked"] is not None:
            state = f"revoked {_utc(t['revoked'])}"
        elif t["expires"] is not None and t["expires"] <= now:
            state = "expired"
        else:
            state = "active"
        cells = [t["id"], t["event"] or t["event_id"], t["label"] or "-", ",".join(t["regions"]),
                 t["max_tlp"], _utc(t["created"]), _utc(t["last_used"]),
                 _utc(t["expires"]), state]  # fmt: skip
        print("\t".join(cells))
    return 0


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    row = _server().revoke_token(_db(args.db), args.id)
    if row["already"]:
        print(f"token {row['id']} ({row['label'] or 'no label'}) was already revoked")
        return 0
    print(
        f"revoked token {row['id']} ({row['label'] or 'no label'}): its requests get 401 and "
        "its console sign-ins end now"
    )
    return 0


def cmd_actions(args: argparse.Namespace) -> int:
    """Actions carried forward (issue 12): one a line, from the secretariat when connected,
    else from what this laptop last fetched and its own store."""
    from roundtable import carry, config
    from roundtable.actions import line
    from roundtable.model import REGIONS

    store = open_store()
    settings = config.load_settings()
    token = config.load_token()
    url = settings.api_url if token else ""
    before = ""
    regions: list[str] = []
    if args.event:
        event = store.find_event(args.event)
        if event is None:
            _fail(f"--event: no event named {args.event!r} on this laptop; "
                  "see `roundtable sessions`")  # fmt: skip
        before = event.id
    if url:
        try:
            who = asyncio.run(_whoami(url, token, settings.ca_file or None))
        except carry.FetchError as exc:
            print(f"roundtable: note: offline ({exc}); from this laptop", file=sys.stderr)
            url = ""
        else:
            before = before or who["event_id"]
            regions = list(REGIONS) if "*" in who["regions"] else list(who["regions"])
    if not before:
        events = sorted(e.id for e in store.events())
        if not events:
            _fail("no event yet: connect to the secretariat (`roundtable connect`) or create a "
                  "session (`roundtable new`)")  # fmt: skip
        before = events[-1]
    if not url:
        regions = sorted({s.region for s in store.sessions() if s.region in REGIONS})
    if args.region:
        regions = [args.region]
    shown = 0
    for region in regions:
        found, problem = asyncio.run(
            carry.find(store, region, before, url=url, token=token,
                       ca_file=settings.ca_file or None)
        )  # fmt: skip
        if problem:
            print(f"roundtable: note: {region}: {problem}", file=sys.stderr)
        for action in found.actions:
            if args.open and not action.is_open:
                continue
            print(line(action))
            shown += 1
        if url or found.source != "this laptop":
            print(f"roundtable: note: {region}: from the {found.source}", file=sys.stderr)
    if not shown:
        print("no actions carried from earlier events", file=sys.stderr)
    return 0


async def _whoami(url: str, token: str, ca_file: str | None) -> dict:
    import httpx

    from roundtable.carry import FetchError, client_options

    try:
        async with httpx.AsyncClient(**client_options(url, token, ca_file)) as client:
            answer = await client.get("/v1/whoami")
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: cannot reach the secretariat ({type(exc).__name__})") from None
    if answer.status_code != 200:
        raise FetchError(f"{url}: the secretariat answered {answer.status_code}")
    return answer.json()


def _show_help(args: argparse.Namespace) -> int:
    """A command group given without its sub-command: show what it offers."""
    args.parser.print_help(sys.stderr)
    return 2


def add_commands(sub, command) -> None:
    from roundtable.model import REGIONS

    p = command("connect", cmd_connect, "check a token with the secretariat, save it, sync")
    p.add_argument("url", help="the secretariat's API, e.g. https://rt.example.org")
    p.add_argument("--token", required=True, help="the token the secretariat issued for your room")
    p.add_argument("--ca-file", help="a CA bundle (PEM) for a private certificate authority")
    p.add_argument(
        "--label",
        type=name_arg,
        help="who uses this laptop, shown in others' conflicts, e.g. 'Room B rapporteur' "
        "(default: the token's label)",
    )

    p = command("sync", cmd_sync, "push what this laptop captured and pull what others did")
    p.add_argument("--quiet", action="store_true", help="no progress bar, summary only")

    p = command("serve", cmd_serve, "run the secretariat's central API (needs the server extra)")
    p.add_argument(
        "--db",
        help="the server's database: an SQLite file, or a postgresql:// URL "
        "(default: $ROUNDTABLE_DB_URL)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes (PostgreSQL only; SQLite serves from one process)",
    )
    p.add_argument(
        "--idempotency-days",
        type=float,
        default=7.0,
        help="forget saved push answers (Idempotency-Key) after this many days (default 7)",
    )
    p.add_argument(
        "--forwarded-allow-ips",
        default=os.environ.get("ROUNDTABLE_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        help="the reverse proxies whose X-Forwarded-Proto/-For/-Host are believed: addresses "
        "or networks, comma-separated, or * (default 127.0.0.1)",
    )
    p.add_argument(
        "--root-path",
        default="",
        help="the path prefix the proxy serves the secretariat under, e.g. /roundtable",
    )
    p.add_argument(
        "--log-level",
        choices=("critical", "error", "warning", "info", "debug"),
        default="info",
        help="info: one line per request; warning: errors only (default info)",
    )
    p.add_argument(
        "--debug-log",
        help="a file for tracebacks of server errors (the main log gets one line each)",
    )
    p.add_argument(
        "--pool-size",
        type=int,
        default=10,
        help="PostgreSQL connections per worker (default 10); workers x pool size must stay "
        "under the server's max_connections",
    )
    p.add_argument(
        "--docs",
        action="store_true",
        help="also serve the interactive API pages /docs and /redoc (they load their scripts "
        "from a CDN; off by default, /openapi.json is always served)",
    )

    p = command("backup", cmd_backup, "secretariat: write a backup of the server's database")
    p.add_argument("--db", help="the server's database (default: $ROUNDTABLE_DB_URL)")
    p.add_argument("-o", "--output", required=True, help="the backup file to write")
    p.add_argument("--force", action="store_true", help="overwrite the output file")

    p = command("migrate", cmd_migrate, "secretariat: bring the database's schema up to date")
    p.add_argument("--db", help="the server's database (default: $ROUNDTABLE_DB_URL)")
    p.add_argument("--dry-run", action="store_true", help="say what would change; change nothing")

    events = command("events", _show_help, "secretariat: manage events")
    events.set_defaults(parser=events)
    esub = events.add_subparsers(title="commands", metavar="COMMAND")
    p = esub.add_parser("create", help="create an event on the server and print its id")
    p.set_defaults(func=cmd_events_create)
    p.add_argument("name", type=name_arg)
    p.add_argument("--db", required=True)
    p.add_argument("--venue", type=name_arg)
    p.add_argument("--starts")
    p.add_argument("--ends")
    p.add_argument(
        "--tz",
        metavar="ZONE",
        help="the venue's IANA time zone, e.g. Europe/Paris: every time people read is shown "
        "in it (default: UTC)",
    )
    p = esub.add_parser("list", help="list the server's events: id and name")
    p.set_defaults(func=cmd_events_list)
    p.add_argument("--db", help="the server's database (default: $ROUNDTABLE_DB_URL)")

    tokens = command("tokens", _show_help, "secretariat: room tokens")
    tokens.set_defaults(parser=tokens)
    tsub = tokens.add_subparsers(title="commands", metavar="COMMAND")
    p = tsub.add_parser("issue", help="issue a token for an event and regions; printed once")
    p.set_defaults(func=cmd_tokens_issue)
    p.add_argument("--db", required=True)
    p.add_argument("--event", required=True, help="event name or id", type=name_arg)
    p.add_argument(
        "--region",
        action="append",
        choices=sorted(REGIONS) + ["*"],
        help="a region the token may write (repeat; * = all regions)",
    )
    p.add_argument("--label", help="who the token is for, e.g. 'Room B laptop'", type=name_arg)
    p.add_argument(
        "--max-tlp",
        choices=("green", "amber", "amber+strict"),
        default="amber+strict",
        help="the highest TLP label this token may read (pull, history, minutes, report, "
        "console); default amber+strict: a room laptop or the secretariat sees all that is "
        "pushed (TLP:RED never is)",
    )
    p.add_argument(
        "--expires",
        metavar="DATE|Nd",
        help="when the token stops working: a date (2027-01-31: it works through that day, "
        "UTC) or a number of days (30d); default: until revoked",
    )
    p = tsub.add_parser("list", help="list the tokens: id, label, regions, ceiling, use, expiry")
    p.set_defaults(func=cmd_tokens_list)
    p.add_argument("--db", help="the server's database (default: $ROUNDTABLE_DB_URL)")
    p = tsub.add_parser(
        "revoke", help="revoke a token now: 401 on the API, its console sign-ins end"
    )
    p.set_defaults(func=cmd_tokens_revoke)
    p.add_argument("id", help="the token's id, as `roundtable tokens list` shows it")
    p.add_argument("--db", help="the server's database (default: $ROUNDTABLE_DB_URL)")

    p = command("actions", cmd_actions, "list actions carried from the region's earlier events")
    p.add_argument("--region", choices=sorted(REGIONS), help="one region (default: all you see)")
    p.add_argument("--open", action="store_true", help="only open, in progress or carried ones")
    p.add_argument(
        "--event",
        type=name_arg,
        help="the conference to look back from (default: the token's event, else the latest)",
    )
