"""The `roundtable` command: the app, and scriptable commands for everything it stores.

Output is stable (other tools and the tests drive it): ids on stdout, one per line; errors as one
line on stderr and a non-zero exit.  Nothing heavy is imported before a command needs it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from roundtable import __version__
from roundtable.cliutil import CliError, name_arg
from roundtable.cliutil import open_store as _store
from roundtable.cliutil import print_notices as _print_notices
from roundtable.model import quote

EXIT_ERROR = 1
EXIT_USAGE = 2


def _known_errors() -> tuple[type[BaseException], ...]:
    """Error types whose message is already a precise one-liner for the user."""
    from roundtable.config import ConfigError
    from roundtable.protocol import ProtocolError

    errors: list[type[BaseException]] = [CliError, ConfigError, ProtocolError]
    for module, name in (
        ("roundtable.store", "StoreError"),
        ("roundtable.capture", "CaptureError"),
        ("sessions", "PlanError"),
        ("roundtable.sync", "SyncError"),
        ("roundtable.secretariat.db", "AdminError"),
    ):
        mod = sys.modules.get(module)
        if mod is not None and hasattr(mod, name):
            errors.append(getattr(mod, name))
    return tuple(errors)


# ---------------------------------------------------------------------------------------------
# Helpers shared by the commands
# ---------------------------------------------------------------------------------------------


def _roster():
    from sessions import load_roster

    return load_roster()


def _country_names(roster) -> dict[str, str]:
    return {code: c.name for code, c in roster.items()}


def _default_event_name() -> str:
    from roundtable.config import load_settings

    settings = load_settings()
    return settings.conference or f"Regional round tables {dt.date.today().year}"


def _event_for(store, name: str | None, *, create: bool):
    name = name or _default_event_name()
    event = store.find_event(name)
    if event is None:
        if not create:
            raise CliError(f"no event named {quote(name)}; see `roundtable sessions`")
        event = store.create_event(name)
    return event


def _write_output(text: str, output: str | None) -> None:
    if output in (None, "-"):
        sys.stdout.write(text)
        return
    from roundtable.config import atomic_write_text

    path = Path(output)
    if path.is_dir():
        raise CliError(f"{path}: is a directory; give a file name")
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise CliError(f"{path}: cannot write: {exc.strerror or exc}") from None
    print(f"wrote {path}", file=sys.stderr)


def _iso_date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


def cmd_app(args: argparse.Namespace) -> int:
    from roundtable.app import RoundtableApp

    app = RoundtableApp(session_id=getattr(args, "session", None))
    app.run()
    return app.return_code or 0


def cmd_demo(args: argparse.Namespace) -> int:
    from roundtable.demo import create_demo

    session_id = create_demo(_store(), _roster())
    print(session_id)
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    import sessions as plans

    if args.plan:
        plan = plans.load_plan(Path(args.plan))
        region = args.region or plan.region
        if args.region and args.region != plan.region:
            raise CliError(f"{args.plan}: plan is for region {plan.region!r}, not {args.region!r}")
    else:
        if not args.region:
            raise CliError("--region is required unless --plan is given")
        region = args.region
        plan = plans.plan_for_region(region)
    store = _store()
    event = _event_for(store, args.event, create=True)
    session = store.create_session(
        event.id,
        region,
        args.title or plan.title,
        plan.to_agenda(),
        room=args.room or "",
        date=args.date or dt.date.today().isoformat(),
        facilitator=args.facilitator or "",
        rapporteur=args.rapporteur or "",
        plan=plan.name,
    )
    print(session.id)
    return 0


def cmd_sessions(args: argparse.Namespace) -> int:
    store = _store()
    event_id = None
    if args.event:
        event = store.find_event(args.event)
        if event is None:
            raise CliError(f"no event named {quote(args.event)}")
        event_id = event.id
    rows = store.sessions(event_id)
    for line in store.skipped:  # unreadable sessions are named, never hidden
        print(f"roundtable: note: {line}", file=sys.stderr)
    if args.ids:
        for s in rows:
            print(s.id)
        return 0
    if not rows and not store.skipped:
        print(
            "no sessions yet: create one with `roundtable new --region REGION` or try "
            "`roundtable demo`",
            file=sys.stderr,
        )
        return 0
    print("\t".join(("id", "event", "region", "title", "status", "entries", "pending")))
    for s in rows:
        print(
            "\t".join(
                (s.id, s.event_name, s.region, s.title, s.status, str(s.entries), str(s.pending))
            )
        )
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    """One line from the argument, or with ``-`` one capture per line of standard input: each
    is checked before any is stored, so a bad line stores nothing."""
    from roundtable.capture import CaptureError, parse_line

    store = _store()
    session_id = store.resolve_session(args.session)
    roster = _roster()
    if args.line == "-":
        data = sys.stdin.buffer.read()
        text = data.decode("utf-8", "surrogateescape")
        numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        if not numbered:
            raise CliError("stdin: no capture lines")
        captured = []
        for n, line in numbered:
            try:
                captured.append(parse_line(line, roster))
            except CaptureError as exc:
                raise CliError(f"stdin:{n}: {exc}") from None
    else:
        captured = [parse_line(args.line, roster)]
    with store.open_session(session_id) as ss:
        for c in captured:
            print(ss.add_entry(**c.entry_fields()).id)
    return 0


def _snapshot(store, session_id: str, roster):
    with store.open_session(session_id, read_only=True) as ss:
        return ss.snapshot(_country_names(roster))


def cmd_export(args: argparse.Namespace) -> int:
    from roundtable import minutes

    store = _store()
    session_id = store.resolve_session(args.session)
    snap = _snapshot(store, session_id, _roster())
    text = minutes.render_markdown(snap)
    if args.format == "html":
        text = minutes.render_html(text, title=minutes.document_title(snap))
    _write_output(text, args.output)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from roundtable import report

    store = _store()
    roster = _roster()
    if args.event:
        event = store.find_event(args.event)
        if event is None:
            raise CliError(f"no event named {quote(args.event)}")
    else:
        events = store.events()
        if not events:
            raise CliError("no event yet: create a session first (`roundtable new`)")
        if len(events) > 1:
            names = ", ".join(repr(e.name) for e in events)
            raise CliError(f"several events ({names}); choose one with --event")
        event = events[0]
    snaps = [_snapshot(store, s.id, roster) for s in store.sessions(event.id)]
    as_of = dt.date.fromisoformat(args.as_of) if args.as_of else dt.date.today()
    rep = report.build_report(event, snaps, roster, as_of=as_of)
    text = report.report_html(rep) if args.format == "html" else report.report_markdown(rep)
    _write_output(text, args.output)
    return 0


def cmd_plans(args: argparse.Namespace) -> int:
    import sessions as plans
    from roundtable.config import plans_dir

    for region, plan in sorted(plans.builtin_plans().items()):
        total = sum(i.minutes for i in plan.items)
        print(f"{region}\t{plan.name}\t{len(plan.items)} items, {total} min\tbuilt-in")
    user, errors = plans.user_plans(plans_dir())
    for plan in user:
        total = sum(i.minutes for i in plan.items)
        print(f"{plan.region}\t{plan.name}\t{len(plan.items)} items, {total} min\t{plan.source}")
    for err in errors:
        print(f"error: {err}", file=sys.stderr)
    return EXIT_ERROR if errors else 0


def cmd_locate(args: argparse.Namespace) -> int:
    from roundtable import config

    rows = [
        ("home", config.home_dir()),
        ("sessions", config.home_dir() / "sessions"),
        ("events", config.home_dir() / "events"),
        ("settings", config.config_file()),
        ("token", config.token_file()),
        ("plans", config.plans_dir()),
        ("logs", config.log_dir()),
    ]
    for name, path in rows:
        print(f"{name}\t{path}")
    return 0


# ---------------------------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (what and where, and where to look), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from roundtable.model import REGIONS

    parser = _Parser(
        prog="roundtable",
        description="Run regional round-table sessions from the keyboard. "
        "With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"roundtable {__version__}")
    parser.add_argument("--session", help="open the app on this session (id or id prefix)")
    parser.set_defaults(func=cmd_app)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, func: Callable[[argparse.Namespace], int], help_: str):
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        return p

    command("demo", cmd_demo, "create a realistic demo event and print its session id")

    p = command("new", cmd_new, "create a session from a regional plan and print its id")
    p.add_argument("--region", choices=sorted(REGIONS), help="the region of the round table")
    p.add_argument(
        "--event", help="event name (created if new; default from settings)", type=name_arg
    )
    p.add_argument("--title", help="session title (default: the plan's)", type=name_arg)
    p.add_argument("--plan", help="a plan file (TOML) instead of the region's built-in plan")
    p.add_argument("--room", type=name_arg)
    p.add_argument("--date", type=_iso_date, help="YYYY-MM-DD (default: today)")
    p.add_argument("--facilitator", type=name_arg)
    p.add_argument("--rapporteur", type=name_arg)

    p = command("sessions", cmd_sessions, "list sessions: id, event, region, title, entries")
    p.add_argument("--event", help="only this event (name or id)", type=name_arg)
    p.add_argument("--ids", action="store_true", help="print session ids only")

    p = command("add", cmd_add, "store one quick-capture line and print the entry id")
    p.add_argument("session", help="session id or unique id prefix")
    p.add_argument(
        "line",
        help='e.g. "/need Training on cyber forensics @ZM !high #cybercrime"; '
        "- reads one line per capture from standard input",
    )

    p = command("export", cmd_export, "write a session's minutes (Markdown or HTML)")
    p.add_argument("session", help="session id or unique id prefix")
    p.add_argument("--format", choices=("md", "html"), default="md")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")

    p = command("report", cmd_report, "consolidated report of an event across all regions")
    p.add_argument("--event", help="event name or id (default: the only event)", type=name_arg)
    p.add_argument("--format", choices=("md", "html"), default="md")
    p.add_argument("--as-of", type=_iso_date, help="date for overdue actions (default: today)")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")

    command("plans", cmd_plans, "list the built-in and your own session plans")
    command("locate", cmd_locate, "print where the stores, settings, token and logs live")

    _add_sync_commands(sub, command)
    return parser


def _add_sync_commands(sub, command) -> None:
    """Commands of the secretariat and sync; their modules are imported only when run."""
    from roundtable import netcli

    netcli.add_commands(sub, command)


def _crash_report(exc: BaseException) -> str:
    """Where the code failed, without the exception messages: a message may carry record
    text or a token, and logs never do (the user saw the message on the terminal)."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        message = str(current)
        lines.append(
            f"{type(current).__module__}.{type(current).__qualname__} "
            f"(message of {len(message)} characters withheld)"
        )
        lines.extend(traceback.format_tb(current.__traceback__))
        current = current.__cause__ or current.__context__
        if current is not None:
            lines.append("raised while handling:")
    return "\n".join(line.rstrip("\n") for line in lines) + "\n"


def _log_crash(exc: BaseException) -> Path | None:
    from roundtable.config import log_dir

    try:
        directory = log_dir()
        directory.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        path = directory / f"crash-{stamp}-{os.getpid()}.log"
        path.write_text(_crash_report(exc), encoding="utf-8")
        return path
    except OSError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        try:
            return args.func(args)
        finally:
            _print_notices()
    except KeyboardInterrupt:
        print("roundtable: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the user must never see a traceback
        if isinstance(exc, _known_errors()):
            print(f"roundtable: {exc}", file=sys.stderr)
            return EXIT_ERROR
        if isinstance(exc, OSError):
            where = f"{exc.filename}: " if exc.filename else ""
            print(f"roundtable: {where}{exc.strerror or exc}", file=sys.stderr)
            return EXIT_ERROR
        log = _log_crash(exc)
        hint = f" (details in {log})" if log else ""
        shown = " ".join(str(exc).split())  # one line, whatever the message holds
        shown = shown if len(shown) <= 200 else shown[:199] + "…"
        print(f"roundtable: internal error: {type(exc).__name__}: {shown}{hint}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
