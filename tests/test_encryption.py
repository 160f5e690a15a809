"""Encrypted sessions (issue 14, item 5): nothing readable under the home, a wrong passphrase
changes nothing, and the store's guarantees and sync still hold.  Real files, a real
`roundtable` process, a real secretariat on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from _cli import one_line_error, rt

from roundtable.store import LocalStore, StoreError
from roundtable.store.crypto import (
    CRYPTO_NAME,
    LOCKED_TITLE,
    EncryptedSessionError,
    WrongPassphraseError,
)

PASS = "correct horse battery staple"
MARKER = "ZQX-marker-7731"
TITLE = "Candid round table on Kestrel routes"
DELEGATES = ["Amadou Kestrelsson", "Ines Falconetti"]
NOTE = "Informant Wrenfield names the Port Nightjar container yard"
AGENDA = [{"title": "Opening", "item_kind": "opening"}, {"title": "Needs", "item_kind": "needs"}]
SECRETS = [MARKER, TITLE, *DELEGATES, NOTE, "Kestrel", "Nightjar"]


def every_file(home: Path) -> dict[str, bytes]:
    """Every file under the home, hidden ones (temp files, backups, logs) included."""
    return {
        str(p.relative_to(home)): p.read_bytes()
        for p in sorted(home.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def checksums(home: Path) -> dict[str, tuple[str, int]]:
    out = {}
    for name, data in every_file(home).items():
        out[name] = (hashlib.sha256(data).hexdigest(), (home / name).stat().st_mtime_ns)
    return out


def leaks(home: Path, secrets: list[str]) -> list[str]:
    found = []
    for name, data in every_file(home).items():
        for secret in secrets:
            for form in (secret.encode(), secret.encode("utf-16-le"), secret.lower().encode()):
                if form in data or form in data.lower():
                    found.append(f"{name}: {secret}")
    return found


def encrypted_session(home: Path) -> tuple[LocalStore, str]:
    store = LocalStore(home)
    event = store.create_event("Conference 2026")
    session = store.create_session(
        event.id,
        "africa",
        TITLE,
        AGENDA,
        room="Room B",
        facilitator="Kestrel chair",
        passphrase=PASS,
    )
    with store.open_session(session.id) as ss:
        ss.set_attendance("GH", "present", delegates=DELEGATES)
        for n in range(40):
            ss.add_entry("issue", f"{MARKER} route {n} via Port Nightjar", delegations=["GH"])
        ss.add_entry("note", NOTE)
        entry = ss.add_entry("action", f"Share the {MARKER} watch list", owner="GH")
        ss.update("entry", entry.id, text=f"Share the {MARKER} watch list by Friday")
        ss.undo()
        ss.add_speech("GH", "tour", 95, "2026-11-29T10:00:00Z")
    return store, session.id


# ---------------------------------------------------------------------------------------------
# Nothing in plaintext
# ---------------------------------------------------------------------------------------------


def test_nothing_of_an_encrypted_session_is_readable_under_the_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store, sid = encrypted_session(home)
    unit = home / "sessions" / sid
    assert {p.name for p in unit.iterdir()} >= {CRYPTO_NAME, "journal.jsonl", "view.json"}
    # a sync-less open by another process and the sessions list write nothing readable either
    listed = rt("sessions", home=home)
    assert listed.returncode == 0, listed.stderr
    assert LOCKED_TITLE in listed.stdout and TITLE not in listed.stdout
    added = rt("add", sid, f"/note {MARKER} from the command line", home=home, passphrase=PASS)
    assert added.returncode == 0, added.stderr
    assert store.sessions()[0].title == TITLE  # unlocked in this process
    assert leaks(home, SECRETS) == []
    # the records are all there, behind the passphrase
    again = LocalStore(home)
    assert again.sessions()[0].title == LOCKED_TITLE and again.sessions()[0].locked
    again.unlock(sid, PASS)
    with again.open_session(sid, read_only=True) as ss:
        texts = [e.text for e in ss.records("entry")]
        assert ss.session.title == TITLE
        assert ss.get("attendance", next(a.id for a in ss.records("attendance"))).delegates
    assert sum(MARKER in t for t in texts) == 42
    assert NOTE in texts


def test_journal_lines_stay_checksummed_one_line_envelopes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _store, sid = encrypted_session(home)
    unit = home / "sessions" / sid
    raw = (unit / "journal.jsonl").read_bytes()
    assert raw.endswith(b"\n")
    lines = raw.split(b"\n")[:-1]
    assert len(lines) > 40
    nonces = set()
    for line in lines:
        body, tab, crc = line.rpartition(b"\t")
        assert tab and int(crc, 16) == zlib.crc32(body)
        envelope = json.loads(body)
        assert set(envelope) == {"v", "x"} and envelope["v"] == 2
        nonces.add(base64.b64decode(envelope["x"])[:12])
    assert len(nonces) == len(lines)  # a fresh nonce per line
    view = json.loads((unit / "view.json").read_bytes())
    assert set(view) == {"v", "x"}
    header = json.loads((unit / CRYPTO_NAME).read_bytes())
    assert header["kdf"] == "scrypt" and header["cipher"] == "AES-256-GCM"
    assert PASS not in json.dumps(header)
    summary = json.loads((unit / "summary.json").read_bytes())
    assert summary["encrypted"] is True and summary["session"]["title"] == ""


# ---------------------------------------------------------------------------------------------
# A wrong passphrase
# ---------------------------------------------------------------------------------------------


def test_wrong_passphrase_is_one_line_and_touches_no_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _store, sid = encrypted_session(home)
    before = checksums(home)
    for args in (
        ("add", sid, "/note should not be stored"),
        ("export", sid, "-o", str(tmp_path / "out.md")),
        ("reopen", sid),
    ):
        result = rt(*args, home=home, passphrase="wrong passphrase")
        one_line_error(result, "wrong passphrase", sid)
    no_pass = rt("add", sid, "/note should not be stored", home=home)
    one_line_error(no_pass, "encrypted", "ROUNDTABLE_PASSPHRASE")
    store = LocalStore(home)
    with pytest.raises(WrongPassphraseError, match="wrong passphrase"):
        store.unlock(sid, "Correct horse battery staple")
    with pytest.raises(EncryptedSessionError):
        store.open_session(sid)
    with pytest.raises(EncryptedSessionError):
        store.open_session(sid, read_only=True)
    assert checksums(home) == before
    assert not (tmp_path / "out.md").exists()


def test_missing_key_file_is_refused_not_taken_for_damage(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _store, sid = encrypted_session(home)
    unit = home / "sessions" / sid
    header = unit / CRYPTO_NAME
    saved = header.read_bytes()
    header.unlink()
    before = checksums(home)
    with pytest.raises(StoreError, match="missing, but the journal is encrypted"):
        LocalStore(home).open_session(sid)
    assert checksums(home) == before  # nothing moved aside
    header.write_bytes(saved)
    store = LocalStore(home)
    store.unlock(sid, PASS)
    with store.open_session(sid) as ss:
        assert len(list(ss.records("entry"))) == 42


# ---------------------------------------------------------------------------------------------
# The journal's rules, sealed
# ---------------------------------------------------------------------------------------------


def test_torn_sealed_tail_is_ignored_and_cut(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _store, sid = encrypted_session(home)
    journal = home / "sessions" / sid / "journal.jsonl"
    good = journal.read_bytes()
    last = good[:-1].rsplit(b"\n", 1)[1]
    with journal.open("ab") as f:
        f.write(last[: len(last) // 2])  # a crash mid-append
    store = LocalStore(home)
    store.unlock(sid, PASS)
    with store.open_session(sid) as ss:
        assert len(list(ss.records("entry"))) == 42
        ss.add_entry("note", "after the crash")
    data = journal.read_bytes()
    assert data.startswith(good) and data.count(b"\n") == good.count(b"\n") + 1


def test_damaged_sealed_middle_line_is_recovered_up_to_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _store, sid = encrypted_session(home)
    unit = home / "sessions" / sid
    journal = unit / "journal.jsonl"
    lines = journal.read_bytes().split(b"\n")
    envelope = json.loads(lines[5].rpartition(b"\t")[0])
    blob = bytearray(base64.b64decode(envelope["x"]))
    blob[20] ^= 0x01  # a flipped bit the CRC is recomputed over: only the GCM tag sees it
    envelope["x"] = base64.b64encode(bytes(blob)).decode()
    body = json.dumps(envelope, separators=(",", ":")).encode()
    lines[5] = b"%s\t%08x" % (body, zlib.crc32(body))
    journal.write_bytes(b"\n".join(lines))
    (unit / "view.json").unlink()
    (unit / "summary.json").unlink()
    store = LocalStore(home)
    store.unlock(sid, PASS)
    with pytest.raises(StoreError, match=r"line 6 .*damaged.*kept the 5 lines"):
        store.open_session(sid)
    with store.open_session(sid) as ss:
        assert ss.session.title == TITLE
    assert list(unit.glob("journal.jsonl.corrupt-*"))
    assert leaks(home, [MARKER, TITLE]) == []  # the recovered journal is sealed again


# ---------------------------------------------------------------------------------------------
# Command line, settings, exports
# ---------------------------------------------------------------------------------------------


def test_cli_new_encrypt_and_the_setting(tmp_path: Path) -> None:
    home = tmp_path / "home"
    made = rt(
        "new", "--region", "europe", "--encrypt", "--title", TITLE, home=home, passphrase=PASS
    )
    assert made.returncode == 0, made.stderr
    sid = made.stdout.strip()
    assert (home / "sessions" / sid / CRYPTO_NAME).exists()
    one_line_error(rt("new", "--region", "europe", "--encrypt", home=home), "ROUNDTABLE_PASSPHRASE")
    (home / "settings.toml").write_text("encrypt_new_sessions = true\n")
    by_default = rt("new", "--region", "mena", home=home, passphrase=PASS)
    assert by_default.returncode == 0, by_default.stderr
    assert (home / "sessions" / by_default.stdout.strip() / CRYPTO_NAME).exists()
    one_line_error(rt("new", "--region", "mena", home=home), "encrypt_new_sessions")
    plain = rt("new", "--region", "mena", "--no-encrypt", home=home)
    assert plain.returncode == 0, plain.stderr
    assert not (home / "sessions" / plain.stdout.strip() / CRYPTO_NAME).exists()
    (home / "settings.toml").write_text('encrypt_new_sessions = "yes"\n')
    one_line_error(
        rt("new", "--region", "mena", home=home), "encrypt_new_sessions", "true or false"
    )
    (home / "settings.toml").unlink()
    listed = rt("sessions", home=home, passphrase=PASS)
    assert listed.stdout.count(LOCKED_TITLE) == 2  # listing never asks for a passphrase
    assert leaks(home, [TITLE]) == []


def test_exports_of_an_encrypted_session_stay_out_of_the_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _store, sid = encrypted_session(home)
    one_line_error(rt("export", sid, "--save", home=home, passphrase=PASS), "--save", "encrypted")
    inside = home / "minutes.md"
    one_line_error(
        rt("export", sid, "-o", str(inside), home=home, passphrase=PASS),
        "inside the roundtable home",
    )
    outside = tmp_path / "minutes.md"
    done = rt("export", sid, "-o", str(outside), home=home, passphrase=PASS)
    assert done.returncode == 0, done.stderr
    assert TITLE in outside.read_text(encoding="utf-8")
    assert MARKER in outside.read_text(encoding="utf-8")
    to_stdout = rt("export", sid, home=home, passphrase=PASS)
    assert to_stdout.returncode == 0 and TITLE in to_stdout.stdout
    assert leaks(home, SECRETS) == []


def test_plain_sessions_never_import_cryptography(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = LocalStore(home)
    event = store.create_event("Conference 2026")
    plain = store.create_session(event.id, "europe", "Plain", AGENDA)
    code = (
        "import sys\n"
        "from roundtable.store import LocalStore\n"
        f"s = LocalStore({str(home)!r})\n"
        f"ss = s.open_session({plain.id!r}); ss.add_entry('note', 'x'); ss.close()\n"
        "s.sessions()\n"
        "print('cryptography' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------------
# Sync through the real secretariat
# ---------------------------------------------------------------------------------------------


def _sync(store: LocalStore, url: str, token: str):
    from roundtable.sync import SyncClient

    client = SyncClient(store, url, token, backoff_base=0.01, backoff_cap=0.05, read_timeout=5.0)
    return asyncio.run(client.sync_once())


def test_sync_of_an_encrypted_session(live_server, tmp_path: Path) -> None:
    event_id = live_server.create_event("Conference 2026")
    token = live_server.token(event_id, ["*"])
    home_a, home_b = tmp_path / "a", tmp_path / "b"
    a, b = LocalStore(home_a), LocalStore(home_b)
    assert _sync(a, live_server.url, token).ok and _sync(b, live_server.url, token).ok
    session = a.create_session(event_id, "africa", TITLE, AGENDA, passphrase=PASS)
    with a.open_session(session.id) as ss:
        shared = ss.add_entry("issue", f"{MARKER} route via Port Nightjar", delegations=["GH"]).id
    first = _sync(a, live_server.url, token)
    assert first.ok and first.pushed > 0, first.summary()
    texts = [r[0] for r in live_server.query("SELECT value FROM ops WHERE field = 'text'")]
    assert any(MARKER in t for t in texts)  # the secretariat receives the ops as before
    # laptop B pulls the session (its own copy is not encrypted: B never had the passphrase)
    assert _sync(b, live_server.url, token).pulled > 0
    with b.open_session(session.id) as ss:
        ss.update("entry", shared, text=f"{MARKER} route edited on laptop B")
    assert _sync(b, live_server.url, token).ok
    # laptop A restarted, locked: its pull into the encrypted session stops the round with a
    # clear reason, the cursor stays, nothing is lost
    locked = LocalStore(home_a)
    unit_a = home_a / "sessions" / session.id
    before = checksums(unit_a)
    refused = _sync(locked, live_server.url, token)
    assert not refused.ok and "encrypted" in refused.summary()
    assert checksums(unit_a) == before
    # its own new changes wait, and the user is told once
    with_pending = LocalStore(home_a)
    with_pending.unlock(session.id, PASS)
    with with_pending.open_session(session.id) as ss:
        ss.add_entry("note", "written while offline")
    locked = LocalStore(home_a)
    ops_before = live_server.op_count()
    refused = _sync(locked, live_server.url, token)
    assert live_server.op_count() == ops_before  # nothing of the locked session pushed
    assert [n for n in locked.notices if "encrypted and locked" in n and session.id in n]
    assert checksums(unit_a) != before  # (the capture above) ...
    before = checksums(unit_a)
    _sync(locked, live_server.url, token)
    assert checksums(unit_a) == before  # ... but the locked rounds touched nothing
    assert sum("encrypted and locked" in n for n in locked.notices) == 1
    # unlocked (as the CLI does with ROUNDTABLE_PASSPHRASE), the same round goes through
    unlocked = LocalStore(home_a)
    unlocked.ask_passphrase = lambda what: PASS
    with unlocked.open_session(session.id) as ss:
        ss.add_entry("note", f"{NOTE} after B's edit")
    done = _sync(unlocked, live_server.url, token)
    assert done.ok and done.pulled > 0 and done.pushed > 0, done.summary()
    with unlocked.open_session(session.id, read_only=True) as ss:
        assert ss.get("entry", shared).text == f"{MARKER} route edited on laptop B"
        assert ss.outbox() == []
    texts = [r[0] for r in live_server.query("SELECT value FROM ops WHERE field = 'text'")]
    assert any(NOTE in t for t in texts)
    assert leaks(home_a, SECRETS) == []


# ---------------------------------------------------------------------------------------------
# The app: the set-up choice and the passphrase modal
# ---------------------------------------------------------------------------------------------


def _app(home: Path, session_id: str | None = None, **settings):
    from roundtable.app import RoundtableApp
    from roundtable.config import Settings

    return RoundtableApp(
        home=home, session_id=session_id, settings=Settings(**settings), sync_enabled=False
    )


async def test_app_creates_an_encrypted_session_from_the_dialog(tmp_path: Path) -> None:
    from textual.widgets import Checkbox

    from roundtable.screens.home import NewSessionModal
    from roundtable.screens.setup import SetupScreen

    home = tmp_path / "home"
    app = _app(home, encrypt_new_sessions=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        app.screen.query_one("#new-region").value = "africa"  # nothing to preset it from
        modal = app.screen
        assert isinstance(modal, NewSessionModal)
        assert modal.query_one("#new-encrypt", Checkbox).value  # the setting's default
        modal.query_one("#new-event").value = "Conference 2026"
        modal.query_one("#new-title").value = TITLE
        modal.query_one("#new-pass").value = PASS
        modal.query_one("#new-pass2").value = PASS + " typo"
        await pilot.click("#create")
        await pilot.pause()
        assert "differ" in str(modal.query_one("#new-error").render())
        assert not (home / "sessions").exists() or not any((home / "sessions").iterdir())
        modal.query_one("#new-pass2").value = PASS
        modal.query_one("#new-pass2").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen), modal.query_one("#new-error").render()
        session_id = app.session_store.session_id
    assert (home / "sessions" / session_id / CRYPTO_NAME).exists()
    assert leaks(home, [TITLE]) == []
    store = LocalStore(home)
    store.unlock(session_id, PASS)
    assert store.sessions()[0].title == TITLE


async def test_app_asks_the_passphrase_and_refuses_a_wrong_one(tmp_path: Path) -> None:
    from roundtable.screens.home import HomeScreen, PassphraseModal
    from roundtable.screens.run import RunScreen
    from roundtable.screens.setup import SetupScreen

    home = tmp_path / "home"
    _store, sid = encrypted_session(home)
    before = checksums(home)
    app = _app(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        table = app.screen.query_one("#sessions")
        assert LOCKED_TITLE in [str(c) for c in table.get_row_at(0)]
        await pilot.press("enter")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, PassphraseModal)
        modal.query_one("#passphrase").value = "not it"
        await pilot.press("enter")
        await app.workers.wait_for_complete()  # the key is derived off the event loop
        await pilot.pause()
        assert app.screen is modal
        error = str(modal.query_one("#passphrase-error").render())
        assert "wrong passphrase" in error and "\n" not in error.strip()
        assert app.session_store is None
        assert checksums(home) == before  # nothing read past crypto.json, nothing written
        modal.query_one("#passphrase").value = PASS
        await pilot.press("enter")
        await app.workers.wait_for_complete()  # opened off the event loop (issue 21)
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen | RunScreen)
        assert app.session_store is not None and app.session_store.session.title == TITLE
        # the app's exports go to the home's exports directory: refused for this session
        from roundtable.screens.minutes import export_brief, export_minutes

        assert export_minutes(app, "md") is None and export_brief(app, "GH") is None
        assert not (home / "exports").exists()
    assert leaks(home, SECRETS) == []


async def test_app_opened_on_a_locked_session_asks_over_the_list(tmp_path: Path) -> None:
    from roundtable.screens.home import PassphraseModal

    home = tmp_path / "home"
    _store, sid = encrypted_session(home)
    app = _app(home, sid)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PassphraseModal)
        await pilot.press("escape")
        await pilot.pause()
        assert app.session_store is None


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal is a POSIX thing")
def test_cli_asks_the_passphrase_on_a_terminal(tmp_path: Path) -> None:
    """Without ROUNDTABLE_PASSPHRASE, a command run in a terminal prompts (not echoed)."""
    import pty
    import time

    home = tmp_path / "home"
    _store, sid = encrypted_session(home)

    def run_in_terminal(passphrase: str) -> tuple[int, str]:
        env = {k: v for k, v in os.environ.items() if k != "ROUNDTABLE_PASSPHRASE"}
        env |= {"ROUNDTABLE_HOME": str(home), "ROUNDTABLE_CONFIG": str(home / "settings.toml")}
        pid, fd = pty.fork()
        if pid == 0:  # the child: the terminal is its stdin, stdout and stderr
            os.execve(sys.executable, [sys.executable, "-m", "roundtable", "add", sid,
                                       f"/note {MARKER} typed at a prompt"], env)  # fmt: skip
        out = b""
        sent = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if not sent and b"passphrase for session" in out:
                os.write(fd, passphrase.encode() + b"\n")
                sent = True
        os.close(fd)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status), out.decode(errors="replace")

    code, text = run_in_terminal("wrong one")
    assert code == 1 and "wrong passphrase" in text and "wrong one" not in text
    code, text = run_in_terminal(PASS)
    assert code == 0, text
    assert PASS not in text  # not echoed
    store = LocalStore(home)
    store.unlock(sid, PASS)
    with store.open_session(sid, read_only=True) as ss:
        assert any("typed at a prompt" in e.text for e in ss.records("entry"))


@pytest.mark.parametrize(
    "header",
    [b"", b"{", b'{"v": 1}', b'{"v": 9, "salt": "AA=="}', None],
    ids=["empty", "not-json", "no-salt", "newer", "huge-scrypt"],
)
def test_a_bad_key_file_is_one_line_and_changes_nothing(tmp_path: Path, header) -> None:
    home = tmp_path / "home"
    _store, sid = encrypted_session(home)
    path = home / "sessions" / sid / CRYPTO_NAME
    if header is None:  # parameters that would take gigabytes: refused before deriving
        data = json.loads(path.read_bytes())
        data["n"] = 2**30
        header = json.dumps(data).encode()
    path.write_bytes(header)
    before = checksums(home)
    result = rt("add", sid, "/note x", home=home, passphrase=PASS)
    one_line_error(result, CRYPTO_NAME, "not a session key file")
    assert checksums(home) == before
