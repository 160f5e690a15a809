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
    store = open_store()
    client = SyncClient(
        store,
        url,
        token,
        ca_file=ca_file or None,
        round_deadline=config.load_settings().sync_deadline,
    )
    who = asyncio.run(client.whoami())
    config.save_token(args.token)
    config.save_settings(api_url=url, ca_file=ca_file)
    regions = ", ".join(who.get("regions", [])) or "-"
    print(
        f"connected to {url} for event {who.get('event_name', who.get('event_id'))} "
        f"(regions: {regions}); token saved to {config.token_file()}",
        file=sys.stderr,
    )
    result = asyncio.run(client.sync_once())
    print(result.summary(), file=sys.stderr)
    return 0 if result.ok else 1


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
    )
    progress = None if args.quiet else _progress_printer()
    result = asyncio.run(client.sync_once(progress=progress))
    if progress is not None:
        print(file=sys.stderr)
    print(result.summary(), file=sys.stderr)
    return 0 if result.ok else 1


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


def _db(value: str) -> Path:
    """The server's database file: ``--db`` must name a file in an existing directory."""
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
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: serving on {args.host}: reachable from other machines; put TLS in "
            "front of it",
            file=sys.stderr,
        )
    secretariat.serve(db, host=args.host, port=args.port)
    return 0


def cmd_events_create(args: argparse.Namespace) -> int:
    secretariat = _server()
    event_id = secretariat.create_event(
        _db(args.db),
        args.name,
        venue=args.venue or "",
        starts=args.starts or "",
        ends=args.ends or "",
    )
    print(event_id)
    return 0


def cmd_tokens_issue(args: argparse.Namespace) -> int:
    secretariat = _server()
    regions = args.region or []
    token = secretariat.issue_token(_db(args.db), args.event, regions, label=args.label or "")
    print(token)
    print("this token is shown once; only its hash is stored", file=sys.stderr)
    return 0


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

    p = command("sync", cmd_sync, "push what this laptop captured and pull what others did")
    p.add_argument("--quiet", action="store_true", help="no progress bar, summary only")

    p = command("serve", cmd_serve, "run the secretariat's central API (needs the server extra)")
    p.add_argument("--db", required=True, help="the server's SQLite database file")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765)

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
