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
from roundtable.cliutil import PASSPHRASE_ENV, CliError, name_arg
from roundtable.cliutil import ask_passphrase as _ask_passphrase
from roundtable.cliutil import open_store as _store
from roundtable.cliutil import print_notices as _print_notices
from roundtable.errors import RoundtableError
from roundtable.text import quote

EXIT_ERROR = 1
EXIT_USAGE = 2


# ---------------------------------------------------------------------------------------------
# Helpers shared by the commands
# ---------------------------------------------------------------------------------------------


def _refuse_plain_copy_in_home(store, session_id: str, save: bool, output: str | None) -> None:
    """An export of an encrypted session is plaintext: never written under the home, where
    nothing of the session is otherwise readable (docs/architecture.md, issue 14)."""
    if not store.is_encrypted(session_id):
        return
    from roundtable.config import home_dir

    if save:
        raise CliError(
            "--save: the session is encrypted and the exports directory is inside the "
            "roundtable home; give -o FILE outside it (the export is not encrypted)"
        )
    if output in (None, "-"):
        return
    home = home_dir().resolve()
    target = Path(output).expanduser().resolve()
    if target == home or home in target.parents:
        raise CliError(
            f"-o {quote(output)}: inside the roundtable home ({home}); the session is "
            "encrypted and an export is not: write it outside the home"
        )


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
    from roundtable.osfiles import SHARED_FILE, atomic_write_text

    path = Path(output)
    if path.is_dir():
        raise CliError(f"{path}: is a directory; give a file name")
    try:
        atomic_write_text(path, text, mode=SHARED_FILE)  # a file the user named: not private
    except OSError as exc:
        raise CliError(f"{path}: cannot write: {exc.strerror or exc}") from None
    print(f"wrote {path}", file=sys.stderr)


def _venue_today(tz: str) -> dt.date:
    """Today at the venue (issue 24): what a relative due date counts from."""
    from roundtable.zones import zone

    return dt.datetime.now(zone(tz)).date()


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
    from roundtable.zones import check_zone, laptop_zone

    if args.tz is not None:
        check_zone(args.tz, "--tz")  # before anything is created or a passphrase asked

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
    from roundtable.config import load_settings

    encrypt = load_settings().encrypt_new_sessions if args.encrypt is None else args.encrypt
    passphrase = None
    if encrypt:
        passphrase = _ask_passphrase("the new session", confirm=True)
        if not passphrase:
            raise CliError(
                f"--encrypt: no passphrase: set {PASSPHRASE_ENV} or run in a terminal to be asked"
                + ("" if args.encrypt else " (encrypt_new_sessions is on in the settings)")
            )
    store = _store()
    name = args.event or _default_event_name()
    is_new = store.find_event(name) is None
    tz = args.tz or plan.tz or laptop_zone()
    where = "--tz" if args.tz else f"{args.plan}: tz"
    event = store.event_in_zone(name, tz, chosen=bool(args.tz or plan.tz), where=where)
    if is_new and not (args.tz or plan.tz):
        print(
            f"roundtable: note: event {quote(name)} is held in {tz} (this laptop's zone); "
            "give --tz to choose the venue's",
            file=sys.stderr,
        )
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
        passphrase=passphrase,
        quorum=plan.quorum,
        speaking_seconds=plan.speaking_seconds,
        warning_percent=plan.warning_percent,
        warning_seconds=plan.warning_seconds,
    )
    label = args.tlp or plan.tlp
    if label:
        with store.open_session(session.id) as ss:
            ss.set_default_tlp(label)
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
    rows = store.sessions(event_id, include_archived=args.archived)
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


def cmd_projector(args: argparse.Namespace) -> int:
    """The room's projector: a read-only window following the session (issue 26)."""
    from roundtable.config import home_dir

    home = home_dir()
    if not (home / "device.json").is_file() or not (home / "sessions").is_dir():
        raise CliError(f"no sessions in {home}; create one with roundtable new")
    store = _store()
    session_id = store.resolve_session(args.session) if args.session else None
    if session_id is not None and store.is_locked(session_id) and os.environ.get(PASSPHRASE_ENV):
        store.cipher_for(store.home / "sessions" / session_id)  # a wrong one: one line, exit 1
    store.ask_passphrase = None  # else asked in the window, as the app does
    from roundtable.screens.projector import ProjectorApp

    app = ProjectorApp(local=store, session_id=session_id, poll_seconds=args.poll)
    app.run()
    return app.return_code or 0


def _poll_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not 0.05 <= value <= 0.5:
        raise argparse.ArgumentTypeError(f"between 0.05 and 0.5 seconds, got {text}")
    return value


def cmd_add(args: argparse.Namespace) -> int:
    """One line from the argument, or with ``-`` one capture per line of standard input: each
    is checked before any is stored, so a bad line stores nothing."""
    from roundtable.capture import CaptureError, parse_line
    from roundtable.rosters import regional_roster

    store = _store()
    session_id = store.resolve_session(args.session)
    with store.open_session(session_id, read_only=True) as ro:
        ro.check_open()  # a closed session takes no capture: the error says how to reopen
        session = ro.session
        today = _venue_today(ro.event.tz)  # due:+3d counts from the venue's date, as the app
    full = _roster()
    observers = []
    for given in args.observer or ():  # issue 22: the CLI confirms an observer as the app does
        country = full.find(given) if hasattr(full, "find") else full.get(given.upper())
        if country is None:
            raise CliError(f"--observer {quote(given)}: no member country by that code or name")
        if country.region == session.region:
            raise CliError(f"--observer {country.code}: a member of this round table already")
        observers.append(country.code)
    roster = regional_roster(full, session.region, [*session.observers, *observers])
    if args.line == "-":
        data = sys.stdin.buffer.read()
        text = data.decode("utf-8", "surrogateescape")
        numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        if not numbered:
            raise CliError("stdin: no capture lines")
        captured = []
        for n, line in numbered:
            try:
                captured.append(parse_line(line, roster, today=today))
            except CaptureError as exc:
                raise CliError(f"stdin:{n}: {exc}") from None
    else:
        try:
            captured = [parse_line(args.line, roster, today=today)]
        except CaptureError as exc:
            code = getattr(exc, "observer", None)
            hint = f" (--observer {code} confirms it)" if code else ""
            raise CliError(f"{exc}{hint}") from None
    from roundtable import commands

    with store.open_session(session_id) as ss:
        ss.check_open()
        for code in observers:
            ss.perform(commands.add_observer, code)
        for c in captured:  # the app's capture rule (``commands.capture``), one change each
            print(ss.perform(commands.capture, **c.entry_fields()).created)
    return 0


def id_matches(text: str, rid: str) -> bool:
    from roundtable.conflicts import matches

    return matches(text, rid)


def _entry_id(ss, text: str) -> str:
    """An entry of the session by id or unique id prefix (at least 4 characters): a shown one
    (not deleted, or deleted while someone edited it: a delete conflict)."""
    text = text.strip().lower()
    ids = [e.id for e in ss.records("entry")]
    if text in ids:
        return text
    matches = [i for i in ids if len(text) >= 4 and id_matches(text, i)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise CliError(f"entry prefix {quote(text)} matches {len(matches)} entries; give more")
    raise CliError(
        f"no entry {quote(text)} in session {ss.session_id[:8]}; see `roundtable export "
        f"{ss.session_id[:8]}`"
    )


def _edit_target(args: argparse.Namespace):
    """The store, session id and entry id of an edit, delete or restore: checked on a
    read-only open first, so a closed session or an unknown entry changes nothing."""
    store = _store()
    session_id = store.resolve_session(args.session)
    with store.open_session(session_id, read_only=True) as ro:
        ro.check_open()  # like `add`: a closed session takes no change
        entry_id = _entry_id(ro, args.entry)
        session = ro.session
    return store, session, entry_id


def cmd_edit(args: argparse.Namespace) -> int:
    """Rewrite an entry from one capture line (the grammar of `add`): durable on return."""
    from roundtable import commands
    from roundtable.capture import parse_line
    from roundtable.rosters import regional_roster

    store, session, entry_id = _edit_target(args)
    captured = parse_line(args.line, regional_roster(_roster(), session.region, session.observers))
    with store.open_session(session.id) as ss:
        ss.check_open()
        entry = ss.get("entry", entry_id)
        gone = ss.delete_conflict("entry", entry_id)
        if entry is None or (entry.deleted and gone is None):
            raise CliError(f"no entry {entry_id[:8]} in session {session.id[:8]}")
        if gone is not None:
            deleters = ", ".join(map(store.name, gone.deleted_by))
            raise CliError(
                f"entry {entry_id[:8]} was deleted by {deleters} "
                f"while edited: `roundtable restore {session.id[:8]} {entry_id[:8]}` first, "
                f"or confirm with `roundtable delete {session.id[:8]} {entry_id[:8]}`"
            )
        # the app's edit rule (``commands.edit``): what differs is written, an action is open
        changes = ss.perform(commands.edit, entry, captured.entry_fields())
        print(entry_id)
        changed = changes.fields()
        print(f"edited: {', '.join(changed)}" if changed else "unchanged", file=sys.stderr)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    """Delete an entry (also: confirm the delete of an entry in a delete conflict)."""
    store, session, entry_id = _edit_target(args)
    with store.open_session(session.id) as ss:
        ss.check_open()
        ss.delete("entry", entry_id)
    print(entry_id)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Bring back a deleted entry (resolves a delete conflict by keeping the edit); with
    ``--db``, the secretariat's database from a backup file (``netcli.cmd_restore_db``)."""
    if args.db is not None:
        if args.entry is not None:
            raise CliError("restore --db DB BACKUP_FILE: one file, the backup to restore")
        from roundtable import netcli  # lazily: the offline commands never import the server

        return netcli.cmd_restore_db(args)
    if args.entry is None:
        raise CliError("restore SESSION ENTRY: give the deleted entry's id")
    if args.force:
        raise CliError("--force: only with --db (restoring the secretariat's database)")
    store = _store()
    session_id = store.resolve_session(args.session)
    with store.open_session(session_id) as ss:
        ss.check_open()
        text = args.entry.strip().lower()
        ids = [e.id for e in ss.records("entry", include_deleted=True) if e.deleted]
        matches = [i for i in ids if i == text or (len(text) >= 4 and id_matches(text, i))]
        if len(matches) != 1:
            raise CliError(
                f"no deleted entry {quote(text)} in session {session_id[:8]}"
                if not matches
                else f"entry prefix {quote(text)} matches {len(matches)} entries; give more"
            )
        ss.restore("entry", matches[0])
    print(matches[0])
    return 0


def cmd_conflicts(args: argparse.Namespace) -> int:
    """Every entry with an unresolved conflict, one a line: session, entry, what, who, text
    (``roundtable.conflicts.listing``: labels, values in words, unique id tails)."""
    from roundtable import conflicts
    from roundtable.model import Entry

    store = _store()
    if args.session:
        ids = [store.resolve_session(args.session)]
    else:
        ids = [s.id for s in store.sessions()]
    name = conflicts.on_laptop(store.device_labels(), store.device)
    found = 0
    for session_id in ids:
        with store.open_session(session_id, read_only=True) as ss:
            entries = ss.records(Entry)
            docs = {e.id: ss.doc("entry", e.id) for e in entries}
            short = conflicts.short_ids(docs)
            short[session_id] = session_id[:8]  # sessions: the prefix `resolve_session` takes
            listed = conflicts.listing(
                session_id,
                {k: d for k, d in docs.items() if d is not None},
                {e.id: e.text for e in entries},
                name,
                short,
            )
        for item in listed:
            print(item.line())
        found += len(listed)
    if not found:
        print("no conflicts", file=sys.stderr)
    return 0


def cmd_reopen(args: argparse.Namespace) -> int:
    """Reopen a closed session: recorded, so the minutes can say it was reopened."""
    from roundtable import commands

    store = _store()
    session_id = store.resolve_session(args.session)
    with store.open_session(session_id) as ss:
        ss.perform(commands.reopen)
        print(f"reopened {ss.session.title or session_id}: captures are accepted again")
    return 0


def cmd_archive(args: argparse.Namespace) -> int:
    """Archive a session: hidden from lists, briefs and reports, kept on disk, synced as its
    status; `roundtable unarchive` restores it."""
    from roundtable import commands

    store = _store()
    session_id = store.resolve_session(args.session)
    with store.open_session(session_id) as ss:
        ss.perform(commands.archive)
        title = ss.session.title or session_id
    print(f"archived {title}: hidden from lists, briefs and reports (`roundtable unarchive "
          f"{session_id[:8]}` restores it)")  # fmt: skip
    return 0


def cmd_unarchive(args: argparse.Namespace) -> int:
    """Restore an archived session, with the status it had."""
    from roundtable import commands

    store = _store()
    session_id = store.resolve_session(args.session)
    with store.open_session(session_id) as ss:
        status = ss.perform(commands.unarchive).value
        title = ss.session.title or session_id
    print(f"unarchived {title}: {status} again")
    return 0


def _language(args: argparse.Namespace, plan_name: str = "") -> str:
    """--lang, else the `language` setting, else the session plan's language, else English."""
    if getattr(args, "lang", None):
        return args.lang
    from roundtable.config import load_settings
    from roundtable.exports import default_language

    return default_language(load_settings().language, plan_name)


def _session_docs(store, session_id: str, roster):
    """The session read at one moment: its snapshot and its entries' unresolved conflicts
    (``roundtable.usecases``, as the app's)."""
    from roundtable import usecases

    with store.open_session(session_id, read_only=True) as ss:
        return usecases.read_session(ss, _country_names(roster))


def _write_new(text: str, output: str | None, force: bool) -> None:
    """Like _write_output, but an existing file with other content is never replaced
    silently: --force says so."""
    if output not in (None, "-"):
        path = Path(output)
        if path.is_file() and not force:
            try:
                same = path.read_text(encoding="utf-8") == text
            except (OSError, UnicodeDecodeError):
                same = False
            if not same:
                raise CliError(
                    f"{path}: exists with other content; choose another name or "
                    "pass --force to replace it"
                )
    _write_output(text, output)


def _delegation(code: str, roster) -> str:
    code = code.strip().upper()
    if code not in roster:
        raise CliError(f"--for {quote(code)}: not a delegation of the roster (ISO code, e.g. JO)")
    return code


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def cmd_export(args: argparse.Namespace) -> int:
    from roundtable import exports, usecases
    from roundtable.config import home_dir

    store = _store()
    roster = _roster()
    session_id = store.resolve_session(args.session)
    _refuse_plain_copy_in_home(store, session_id, args.save, args.output)
    read = _session_docs(store, session_id, roster)
    snap = read.snap
    lang = _language(args, snap.session.plan)
    if args.for_:
        code = _delegation(args.for_, roster)
        names = _country_names(roster)
        text = usecases.brief(
            code,
            usecases.read_event(store, snap.session.event_id, names, focus=read),
            focus=session_id,
            fmt=args.format,
            lang=lang,
            audience=args.audience,
            as_of=_now(),
            countries=names,
        )
        if args.save:
            directory = home_dir() / "exports"
            name = exports.brief_name(snap, code, lang, args.format, args.audience)
            try:
                path = exports.write_new(directory, name, text)
            except OSError as exc:
                raise CliError(f"{directory}: cannot write: {exc.strerror or exc}") from None
            print(path)
            return 0
        _write_new(text, args.output, args.force)
        return 0
    directory = home_dir() / "exports"
    export = exports.minutes_export(
        directory, snap, read.conflicts, fmt=args.format, lang=lang, audience=args.audience
    )
    if args.save:
        try:
            path = exports.save_minutes(directory, export)
        except OSError as exc:
            raise CliError(f"{directory}: cannot write: {exc.strerror or exc}") from None
        print(path)
        return 0
    _write_new(export.text, args.output, args.force)
    return 0


def _last_sync() -> str:
    """When this laptop last synced: the time sync.json was last written ("" if never)."""
    from roundtable.config import home_dir
    from roundtable.sync import SYNC_FILE

    try:
        mtime = (home_dir() / SYNC_FILE).stat().st_mtime
    except OSError:
        return ""
    return dt.datetime.fromtimestamp(mtime, dt.UTC).replace(microsecond=0).isoformat()


def cmd_report(args: argparse.Namespace) -> int:
    from roundtable import usecases

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
            listed = ", ".join(repr(e.name) for e in events)
            raise CliError(f"several events ({listed}); choose one with --event")
        event = events[0]
    names = _country_names(roster)
    reads = usecases.read_event(store, event.id, names)
    if args.as_of:
        as_of = dt.datetime.combine(dt.date.fromisoformat(args.as_of), dt.time(23, 59), dt.UTC)
    else:
        as_of = _now()
    lang = _language(args)
    if args.format == "csv":
        from roundtable.documents import report_csv

        if args.for_:
            raise CliError("--format csv is the report's rows (needs, actions, decisions); "
                           "a brief (--for) is md or html")  # fmt: skip
        text = report_csv([r.snap for r in reads], roster, lang=lang, audience=args.audience)
        _write_new(text, args.output, args.force)
        return 0
    if args.for_:
        code = _delegation(args.for_, roster)
        text = usecases.brief(
            code,
            reads,
            focus=None,
            fmt=args.format,
            lang=lang,
            audience=args.audience,
            as_of=as_of,
            countries=names,
        )
    else:
        from roundtable import carry

        synced = _last_sync()
        last_sync = {r.snap.session.id: synced for r in reads} if synced else {}
        regions = sorted({r.snap.session.region for r in reads})
        text = usecases.report(
            event,
            reads,
            roster,
            fmt=args.format,
            lang=lang,
            audience=args.audience,
            as_of=as_of,
            last_sync=last_sync,
            carried=carry.offline(store, regions, event.id),  # issue 12
        )
    _write_new(text, args.output, args.force)
    return 0


def _audience_argument(p: argparse.ArgumentParser, report: bool = False) -> None:
    from roundtable.model import AUDIENCES

    p.add_argument(
        "--audience",
        choices=tuple(AUDIENCES),
        default="participants",
        help="who the document is for: public (TLP:CLEAR), community (up to TLP:GREEN), "
        "participants (up to TLP:AMBER+STRICT, the default), room (everything, TLP:RED "
        "included; this laptop only"
        + (", and never the consolidated report" if report else "")
        + "); entries above it are withheld and counted",
    )


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
    from roundtable import config, osfiles

    rows = [
        ("home", config.home_dir()),
        ("sessions", config.home_dir() / "sessions"),
        ("events", config.home_dir() / "events"),
        ("settings", config.config_file()),
        ("token", config.token_file()),
        ("plans", config.plans_dir()),
        ("logs", config.log_dir()),
        ("exports", config.home_dir() / "exports"),
    ]
    for name, path in rows:
        print(f"{name}\t{path}")
    note = osfiles.private_file_note()
    if note:
        print(f"note: {note}", file=sys.stderr)  # stdout stays name<TAB>path lines
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check this laptop's set-up, one line a check with its fix (roundtable/doctor.py)."""
    from roundtable import doctor

    return doctor.main()


# ---------------------------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (what and where, and where to look), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from roundtable.model import REGIONS, TLP_LABELS

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
    p.add_argument(
        "--tz",
        metavar="ZONE",
        help="the venue's IANA time zone of a new event, e.g. Europe/Paris (default: the "
        "plan's tz, else this laptop's zone); times people read are shown in it",
    )
    p.add_argument(
        "--encrypt",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep the session encrypted at rest with a passphrase (asked, or "
        f"${PASSPHRASE_ENV}); default: the encrypt_new_sessions setting",
    )
    p.add_argument(
        "--tlp",
        choices=TLP_LABELS,
        help="the session's default TLP label for entries and speeches "
        "(default: the plan's, else amber)",
    )

    p = command("sessions", cmd_sessions, "list sessions: id, event, region, title, entries")
    p.add_argument("--event", help="only this event (name or id)", type=name_arg)
    p.add_argument("--ids", action="store_true", help="print session ids only")
    p.add_argument("--archived", action="store_true", help="list archived sessions too")

    p = command("add", cmd_add, "store one quick-capture line and print the entry id")
    p.add_argument("session", help="session id or unique id prefix")
    p.add_argument(
        "--observer",
        action="append",
        metavar="CODE",
        help="confirm a delegation of another region as an observer of the session first "
        "(repeatable)",
    )
    p.add_argument(
        "line",
        help='e.g. "/need Training on cyber forensics @ZM !high #cybercrime"; '
        "- reads one line per capture from standard input",
    )

    p = command(
        "projector",
        cmd_projector,
        "show a session on the room's projector: read-only, live, procedure only (no entries)",
    )
    p.add_argument(
        "session", nargs="?", help="session id or unique id prefix (default: the open session)"
    )
    p.add_argument(
        "--poll",
        type=_poll_seconds,
        default=0.5,
        metavar="SECONDS",
        help="how often the session's files are looked at (default 0.5)",
    )

    p = command("edit", cmd_edit, "rewrite an entry from one quick-capture line")
    p.add_argument("session", help="session id or unique id prefix")
    p.add_argument("entry", help="entry id or unique id prefix")
    p.add_argument("line", help='the entry as a capture line, e.g. "/need Training @ZM #cyber"')

    p = command("delete", cmd_delete, "delete an entry (or confirm a delete in conflict)")
    p.add_argument("session", help="session id or unique id prefix")
    p.add_argument("entry", help="entry id or unique id prefix")

    p = command(
        "restore",
        cmd_restore,
        "bring back a deleted entry; with --db, restore the secretariat's database from a "
        "backup (server stopped)",
    )
    p.add_argument("session", help="session id or unique id prefix (with --db: the backup file)")
    p.add_argument("entry", nargs="?", help="entry id or unique id prefix")
    p.add_argument("--db", help="the secretariat's database to restore the backup into")
    p.add_argument(
        "--force",
        action="store_true",
        help="with --db: replace an existing database (an SQLite file is kept aside first)",
    )

    p = command("conflicts", cmd_conflicts, "list entries with unresolved conflicts, one a line")
    p.add_argument("session", nargs="?", help="only this session (id or unique id prefix)")

    p = command("reopen", cmd_reopen, "reopen a closed session so it accepts captures again")
    p.add_argument("session", help="session id or unique id prefix")

    p = command("archive", cmd_archive, "archive a session: hidden from lists, kept on disk")
    p.add_argument("session", help="session id or unique id prefix")

    p = command("unarchive", cmd_unarchive, "restore an archived session")
    p.add_argument("session", help="session id or unique id prefix")

    languages = ("en", "fr", "es", "ar")
    p = command("export", cmd_export, "write a session's minutes (Markdown or HTML)")
    p.add_argument("session", help="session id or unique id prefix")
    p.add_argument("--format", choices=("md", "html"), default="md")
    p.add_argument(
        "--lang",
        choices=languages,
        help="document language (default: the `language` setting, else the plan's, else en)",
    )
    p.add_argument(
        "--for",
        dest="for_",
        metavar="CODE",
        help="a delegation's brief instead of the minutes (e.g. JO)",
    )
    _audience_argument(p)
    p.add_argument(
        "--save",
        action="store_true",
        help="save under the numbered name in the exports directory; print its path",
    )
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    p.add_argument("--force", action="store_true", help="replace an existing --output file")

    p = command("report", cmd_report, "consolidated report of an event across all regions")
    p.add_argument("--event", help="event name or id (default: the only event)", type=name_arg)
    p.add_argument(
        "--format",
        choices=("md", "html", "csv"),
        default="md",
        help="md, html (with the needs chart), or csv: one row per need, action and decision",
    )
    p.add_argument(
        "--lang",
        choices=languages,
        help="document language (default: the `language` setting, else en)",
    )
    p.add_argument(
        "--for",
        dest="for_",
        metavar="CODE",
        help="a delegation's brief across the event's sessions (e.g. JO)",
    )
    _audience_argument(p, report=True)
    p.add_argument("--as-of", type=_iso_date, help="date for overdue actions (default: today)")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    p.add_argument("--force", action="store_true", help="replace an existing --output file")

    command("plans", cmd_plans, "list the built-in and your own session plans")
    command("locate", cmd_locate, "print where the stores, settings, token and logs live")
    command(
        "doctor",
        cmd_doctor,
        "check this laptop's set-up (Python, home, sessions, settings, token, CA file, "
        "secretariat, clock, disk), one line each with its fix; exit 1 if any check fails",
    )

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
        from roundtable.osfiles import atomic_write_text

        directory = log_dir()
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        path = directory / f"crash-{stamp}-{os.getpid()}.log"
        atomic_write_text(path, _crash_report(exc))  # private, as the whole home (issue 19)
        return path
    except OSError:
        return None


def _app_only(argv: Sequence[str]) -> argparse.Namespace | None:
    """``roundtable`` and ``roundtable --session ID`` open the app: they need not build the
    parser of every command, nor import what it describes (start-up, issue 22).  Anything
    else, help and errors included, goes through the parser."""
    if not argv:
        return argparse.Namespace(session=None, func=cmd_app)
    if len(argv) == 2 and argv[0] == "--session" and argv[1] and not argv[1].startswith("-"):
        return argparse.Namespace(session=argv[1], func=cmd_app)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _app_only(argv) or build_parser().parse_args(argv)
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
    except RoundtableError as exc:  # its message is already a precise one-liner
        print(f"roundtable: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the user must never see a traceback
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
