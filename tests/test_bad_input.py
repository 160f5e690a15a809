"""Bad input on every command, run as the user runs it (a subprocess): huge, binary, mixed-script
and control-character values, empty values, wrong paths and dates.  Each case: a non-zero exit
(1 for an error, 2 for a usage error), exactly one line on stderr naming what and where, no
traceback, and every file of the home byte-for-byte unchanged.  Valid mixed-script text is
stored exactly.  A 1 MB line cannot be an argument (Linux caps one at 128 KiB), so it goes
through `roundtable add SESSION -` (standard input)."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from budget import count
from hypothesis import given, settings
from hypothesis import strategies as st

from roundtable.capture import CaptureError, parse_line
from roundtable.store import LocalStore
from sessions import load_roster

BIG = "x" * 100_000
MIXED = "Ελληνικά Кирилица 中文 العربية \u200f עברית e\u0301 🚓"
BINARY = random.Random(7).randbytes(1_000_000)  # garbage, the same every run
ROSTER = load_roster()


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> tuple[Path, str, dict[str, str]]:
    home = tmp_path_factory.mktemp("bad-input") / "home"
    store = LocalStore(home)
    event = store.create_event("Conference 2026")
    session = store.create_session(event.id, "africa", "Round table", agenda=[{"title": "A"}])
    with store.open_session(session.id) as ss:
        ss.add_entry("note", "Already there")
    env = dict(os.environ, ROUNDTABLE_HOME=str(home), ROUNDTABLE_CONFIG=str(home / "s.toml"))
    (home / "s.toml").write_text("sync_deadline = 5\n", encoding="utf-8")
    return home, session.id, env


def digest(home: Path) -> dict[str, str]:
    return {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file() and p.name != "lock"
    }


def run(env: dict[str, str], args: list, stdin: bytes | None = None):
    return subprocess.run(
        [sys.executable, "-m", "roundtable", *args],
        env=env,
        input=stdin,
        capture_output=True,
        timeout=120,
    )


SID = object()  # replaced by the session id

CASES = [
    # (id, args, stdin, exit status, what stderr says)
    ("add-100k-line", ["add", SID, "/note " + BIG], None, 1, "limit is 8,000"),
    ("add-1mb-stdin", ["add", SID, "-"], b"/note " + b"y" * 1_000_000 + b"\n", 1,
     "stdin:1: col 8001: line is 1,000,006 characters long"),
    ("add-binary-stdin", ["add", SID, "-"], BINARY, 1, "stdin:1: col "),
    ("add-binary-arg", ["add", SID, b"/note \xff\xfe bytes"], None, 1,
     "col 7: byte 0xFF is not valid UTF-8 text"),
    ("add-ansi", ["add", SID, "/note \x1b[31mred"], None, 1, "control character U+001B"),
    ("add-empty", ["add", SID, ""], None, 1, "col 1: empty text"),
    ("add-blank", ["add", SID, "   "], None, 1, "col 1: empty text"),
    ("add-stdin-nothing", ["add", SID, "-"], b"\n \n", 1, "stdin: no capture lines"),
    ("add-stdin-bad-second", ["add", SID, "-"], b"/note fine\n/need x @XQ\n", 1,
     "stdin:2: col 9: unknown delegation @XQ"),
    ("add-unknown-delegation", ["add", SID, "/issue Routes @XQ"], None, 1,
     "unknown delegation @XQ"),
    ("add-bad-date", ["add", SID, "/action Do it owner:@GH due:2026-02-30"], None, 1,
     "2026-02-30"),
    ("add-unknown-session", ["add", BIG, "/note x"], None, 1, "no session 'xxxxxxxx"),
    ("new-unknown-region", ["new", "--region", "mars"], None, 2, "argument --region"),
    ("new-huge-event", ["new", "--region", "europe", "--event", BIG], None, 2,
     "argument --event: 100,000 characters; the limit is 200"),
    ("new-ansi-room", ["new", "--region", "europe", "--room", "\x1b[2J"], None, 2,
     "argument --room: character 1: control character U+001B"),
    ("new-binary-title", ["new", "--region", "europe", "--title", b"\xc3\x28"], None, 2,
     "argument --title: character 1: byte 0xC3 is not valid UTF-8"),
    ("new-bad-date", ["new", "--region", "europe", "--date", "2026-13-01"], None, 2,
     "argument --date: expected a date YYYY-MM-DD"),
    ("new-blank-event", ["new", "--region", "europe", "--event", "   "], None, 1,
     "an event needs a name"),
    ("new-plan-missing", ["new", "--region", "europe", "--plan", "/nonexistent.toml"], None, 1,
     "/nonexistent.toml: cannot read"),
    ("new-plan-directory", ["new", "--region", "europe", "--plan", "/"], None, 1, "/: "),
    ("new-plan-empty", ["new", "--region", "europe", "--plan", "/dev/null"], None, 1,
     "/dev/null:1: name: missing"),
    ("export-unknown", ["export", BIG], None, 1, "no session"),
    ("export-format", ["export", SID, "--format", "pdf"], None, 2, "argument --format"),
    ("export-into-directory", ["export", SID, "-o", "/"], None, 1, "is a directory"),
    ("export-unwritable", ["export", SID, "-o", "/proc/version"], None, 1, "/proc/version"),
    ("report-huge-event", ["report", "--event", BIG], None, 2, "argument --event"),
    ("report-unknown-event", ["report", "--event", MIXED], None, 1, "no event named"),
    ("connect-ftp", ["connect", "ftp://x", "--token", "t" * 43], None, 1,
     "URL must start with http:// or https://"),
    ("connect-empty-token", ["connect", "http://127.0.0.1:9", "--token", ""], None, 1,
     "--token: expected the token"),
    ("connect-huge-token", ["connect", "http://127.0.0.1:9", "--token", BIG], None, 1,
     "--token: expected the token"),
    ("sync-not-connected", ["sync"], None, 1, "connect"),
    ("serve-db-directory", ["serve", "--db", "/"], None, 1, "--db /: is a directory"),
    ("serve-bad-port", ["serve", "--db", "x.db", "--port", "99999"], None, 1,
     "--port 99999: expected 1-65535"),
    ("events-huge-name", ["events", "create", "--db", "x.db", BIG], None, 2,
     "argument name: 100,000 characters"),
    ("tokens-unknown-region", ["tokens", "issue", "--db", "x.db", "--event", "E",
                               "--region", "mars"], None, 2, "argument --region"),
    ("unknown-command", ["frobnicate"], None, 2, "invalid choice: 'frobnicate'"),
    ("extra-argument", ["sessions", "extra"], None, 2, "unrecognized arguments: extra"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "stdin", "status", "needle"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_bad_input_is_one_line_and_changes_nothing(world, args, stdin, status, needle) -> None:
    home, sid, env = world
    argv = [sid if a is SID else a for a in args]
    before = digest(home)
    out = run(env, argv, stdin)
    err = out.stderr.decode("utf-8", "replace")
    assert out.returncode == status, err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err and needle in err, err
    assert len(err) < 600  # a huge value is never echoed whole
    assert digest(home) == before


def test_mixed_script_text_is_stored_exactly(world) -> None:
    home, sid, env = world
    lines = [f"/issue {MIXED} @GH #drugs", f"/note   {MIXED}   trailing  "]
    out = run(env, ["add", sid, "-"], "\n".join(lines).encode())
    assert out.returncode == 0, out.stderr
    ids = out.stdout.decode().split()
    assert len(ids) == 2
    with LocalStore(home).open_session(sid, read_only=True) as ss:
        stored = {e.id: e for e in ss.records("entry")}
    assert stored[ids[0]].text == MIXED and stored[ids[0]].delegations == ["GH"]
    assert stored[ids[1]].text == f"{MIXED} trailing"  # runs of spaces become one
    exported = run(env, ["export", sid])
    assert exported.returncode == 0 and MIXED in exported.stdout.decode()


@settings(max_examples=count(300), deadline=None)
@given(st.text(max_size=300))
def test_any_text_either_parses_or_names_a_column(text: str) -> None:
    try:
        captured = parse_line(text, ROSTER)
    except CaptureError as exc:
        assert 0 <= exc.column <= len(text), (exc.column, len(text))
        assert "\n" not in str(exc)
    else:
        assert captured.text.strip() and len(captured.text) <= len(text)


@settings(max_examples=count(200), deadline=None)
@given(st.text(alphabet=st.characters(categories=["L", "M", "N", "Zs"]), min_size=1))
def test_printable_text_without_a_prefix_is_a_note_kept_verbatim(text: str) -> None:
    if not text.strip() or len(text) > 2_000:
        return
    captured = parse_line(text, ROSTER)
    assert captured.entry_kind == "note" and captured.text == " ".join(text.split())


CRASH = """
import sys
from roundtable import cli

def boom(args):
    raise RuntimeError("secret-token-XYZ\\nsecond line " + "z" * 5000)

cli.cmd_sessions = boom
real = cli.build_parser

def parser():
    p = real()
    p._subparsers._group_actions[0].choices["sessions"].set_defaults(func=boom)
    return p

cli.build_parser = parser
sys.exit(cli.main(["sessions"]))
"""


def test_unexpected_error_is_one_line_and_a_crash_log(tmp_path: Path) -> None:
    """An error nobody foresaw: one line naming the crash log, which has where it failed but
    not the message (it may carry record text or a token); no traceback on the terminal."""
    home = tmp_path / "home"
    env = dict(os.environ, ROUNDTABLE_HOME=str(home), ROUNDTABLE_CONFIG=str(tmp_path / "s"))
    done = subprocess.run(
        [sys.executable, "-c", CRASH], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    logs = sorted((home / "logs").glob("crash-*.log"))
    assert len(logs) == 1
    assert done.stderr.startswith("roundtable: internal error: RuntimeError: secret-token-XYZ ")
    assert done.stderr.endswith(f"… (details in {logs[0]})\n")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    text = logs[0].read_text(encoding="utf-8")
    assert "in boom" in text and "secret-token-XYZ" not in text
